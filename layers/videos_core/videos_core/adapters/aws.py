"""boto3 clients, created on first use and cached per container (so moto fixtures take effect and a
function pays only for the clients it uses). `AWS_ENDPOINT_URL` points them at a local endpoint."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.loaders import Loader, create_loader

from videos_core import deadline
from videos_core.errors import ApiError, ServiceUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_stepfunctions import SFNClient

# Every call is over in seconds, whatever AWS does: two attempts (the standard mode's backoff between
# them), each bounded, and none started past the invocation's deadline (videos_core.deadline), so a
# function's own time limit holds with its AWS calls included. S3 gets longer to answer a part.
_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=1, read_timeout=3)
_S3_CONFIG = _CONFIG.merge(Config(signature_version="s3v4", read_timeout=20))
# What AWS answers when it is busy or failing for a moment: worth another try shortly.
_TRANSIENT = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "InternalError",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)


def missing_object(error: ClientError) -> bool:
    """Whether S3 answered a read that the object is not there: 404 NoSuchKey to a caller that may list
    the bucket, 403 AccessDenied to one that may not (GetObject's and HeadObject's "Permissions"). The
    functions that read uploads and characters are granted s3:GetObject on those prefixes and no
    s3:ListBucket, which would let them enumerate every owner's keys: for a key under a prefix they
    may read, S3's 403 is the object not being there. Only those reads ask this."""
    return error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "AccessDenied", "403")


def error_of(error: ClientError | BotoCoreError, what: str) -> ApiError:
    """The domain's error for a failed AWS call: ServiceUnavailable (retryable) when AWS was busy,
    failing or out of reach; otherwise an internal error (a fault of this service, such as a grant)."""
    if isinstance(error, BotoCoreError):
        return ServiceUnavailable(f"{what} could not be reached; retry shortly.", retry_after=1)
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in _TRANSIENT or status >= 500:
        return ServiceUnavailable(f"{what} is busy; retry shortly.", retry_after=1)
    return ApiError(f"{what} refused the call: {code or status}.")


@cache
def _loader() -> Loader:
    """botocore's service models and endpoint rules, parsed once per container: a session of its own
    would parse them again (~0.1 s of JSON for each client's first call)."""
    return create_loader()


def _client(service: str, config: Config = _CONFIG, **where: str | None) -> Any:
    # A session per client: a session is not thread-safe, its clients are; they share the loader.
    core = botocore.session.get_session()
    core.register_component("data_loader", _loader())
    client = boto3.session.Session(botocore_session=core).client(service, config=config, **where)  # type: ignore[call-overload]
    client.meta.events.register("before-send", deadline.check_before_send)
    return client


@cache
def dynamodb() -> DynamoDBClient:
    client: DynamoDBClient = _client("dynamodb")
    return client


@cache
def s3() -> S3Client:
    client: S3Client = _client("s3", _S3_CONFIG)
    return client


@cache
def stepfunctions() -> SFNClient:
    client: SFNClient = _client("stepfunctions")
    return client


@cache
def events() -> EventBridgeClient:
    client: EventBridgeClient = _client("events")
    return client


@cache
def ssm() -> SSMClient:
    client: SSMClient = _client("ssm")
    return client


@cache
def kms() -> Any:
    return _client("kms")


@cache
def sqs() -> Any:
    return _client("sqs")


@cache
def appconfigdata() -> Any:
    return _client("appconfigdata")


def bedrock_runtime(endpoint_url: str, region: str | None, read_timeout: float) -> Any:
    """A bedrock-runtime client of its own (an adapter keeps and closes it): Bedrock's endpoint of a
    route, in its region (None: the function's own), answering within `read_timeout`."""
    config = _CONFIG.merge(Config(read_timeout=read_timeout))
    return _client("bedrock-runtime", config, endpoint_url=endpoint_url, region_name=region)


def reset_clients() -> None:
    """Close and forget cached clients (tests switch AWS endpoints between cases)."""
    for factory in (dynamodb, s3, stepfunctions, events, ssm, kms, sqs, appconfigdata):
        if factory.cache_info().currsize:
            factory().close()
        factory.cache_clear()
