"""boto3 clients, created on first use and cached per container (so moto fixtures take effect and a
function pays only for the clients it uses). `AWS_ENDPOINT_URL` points them at a local endpoint."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_stepfunctions import SFNClient

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)


def _client(service: str, config: Config = _CONFIG) -> Any:
    return boto3.session.Session().client(service, config=config)  # type: ignore[call-overload]


@cache
def dynamodb() -> DynamoDBClient:
    client: DynamoDBClient = _client("dynamodb")
    return client


@cache
def s3() -> S3Client:
    client: S3Client = _client("s3", _CONFIG.merge(Config(signature_version="s3v4")))
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


def reset_clients() -> None:
    """Forget cached clients (tests switch AWS endpoints between cases)."""
    for factory in (dynamodb, s3, stepfunctions, events, ssm):
        factory.cache_clear()
