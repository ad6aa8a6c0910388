"""Amazon Bedrock Runtime's asynchronous invocations (service model `bedrock-runtime` 2023-09-30,
restJson1) for Luma Ray 2, under `/bedrock`: boto3's `bedrock-runtime` client with
`endpoint_url=<engine>/bedrock` drives it unchanged.

Sources: botocore's service model (`botocore/data/bedrock-runtime/2023-09-30/service-2.json`) for the
operations, members, patterns and errors; the Bedrock API Reference (StartAsyncInvoke,
GetAsyncInvoke, ListAsyncInvokes); the Bedrock User Guide's "Luma AI models" page for the model input
(`local.engine.luma_ray`); the Amazon Nova User Guide ("Video generation access and usage", "Error
handling") for where the video is written and the content filter's failure message.

- `POST /async-invoke` (StartAsyncInvoke): `{clientRequestToken?, modelId, modelInput,
  outputDataConfig: {s3OutputDataConfig: {s3Uri, kmsKeyId?, bucketOwner?}}, tags?}` answers
  `{"invocationArn": "arn:aws:bedrock:<region>:<account>:async-invoke/<12 of [a-z0-9]>"}`. The model
  input is checked before the invocation starts (a ValidationException). The same
  `clientRequestToken` with the same request answers the same ARN; with another request a
  ConflictException (the operation's error for it; Bedrock documents no other answer).
- `GET /async-invoke/{invocationArn}` (GetAsyncInvoke, the ARN URL-encoded): `{invocationArn,
  modelArn, clientRequestToken, status: InProgress|Completed|Failed, failureMessage?, submitTime,
  lastModifiedTime, endTime?, outputDataConfig}`, timestamps ISO 8601. `outputDataConfig`'s `s3Uri`
  is the invocation's folder, `<s3Uri>/<id>` (`local.engine.s3_output`), from the start. Completed
  means `<folder>/output.mp4` was written: the engine writes it when its job ends, and a read that
  sees the job ended waits for the write. A write S3 refuses ends the invocation Failed. An unknown
  ARN is a ResourceNotFoundException.
- `GET /async-invoke` (ListAsyncInvokes): the caller's region's invocations, filtered by
  `submitTimeAfter`/`submitTimeBefore` (exclusive) and `statusEquals`, sorted by submission
  (`sortOrder`, Descending unless asked), `maxResults` (1 to 1000; 1000 when left out) a page, an
  opaque `nextToken` to the next.

Each request needs an Authorization header: SigV4 (`Credential=AKID/date/<region>/bedrock/…`, the
region every ARN and listing is of; the signature is not checked) or a Bedrock API key (`Bearer …`,
checked as the engine checks keys; the local region). Without one Bedrock answers 403
AccessDeniedException `{"Message": "Authorization header is missing"}`, as here. Errors are
restJson1's: the status, `x-amzn-ErrorType: <shape>` and `{"message"}`; an engine error (and a status
fault armed on these paths) takes the shape of its status: 400 ValidationException, 403
AccessDeniedException, 404 ResourceNotFoundException, 429 ThrottlingException, 500
InternalServerException, 503 ServiceUnavailableException.

Prompt scenarios: `[fail]` ends Failed with the engine's failure message; `[moderation]` ends Failed
with "The generated video has been blocked by our content filters." (Nova Reel's, the one Bedrock
documents for a video model); `[rate-limit]` is a ThrottlingException; `[flaky]` fails every other
GetAsyncInvoke with an InternalServerException. The engine needs `s3_endpoint` to write outputs:
without it StartAsyncInvoke is refused.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import json
import re
import secrets
import string
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local.engine.dialects import Dialect, key_matches, speaking, start
from local.engine.errors import EngineError
from local.engine.jobs import Job
from local.engine.luma_ray import MODEL_ID, MalformedInputError, luma_request
from local.engine.params import CreateParams
from local.engine.s3_output import S3_URI, OutputNotWrittenError, S3Output, S3Writer
from local.engine.service import Engine

PREFIX = "/bedrock"
ID_ALPHABET = string.ascii_lowercase + string.digits
INVOCATION_ARN = re.compile(r"arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:async-invoke/[a-z0-9]{12}")
MODEL_ARN = re.compile(r"arn:aws(-[^:]+)?:bedrock:[a-z0-9-]*::foundation-model/(?P<model>.+)")
MODEL_IDENTIFIER = re.compile(r"[a-zA-Z_\.\-/0-9:]{1,256}")
TOKEN = re.compile(r"[!-~]{1,256}")
CREDENTIAL = re.compile(r"Credential=[^/,\s]+/\d{8}/(?P<region>[a-z0-9-]+)/[^/,\s]+/aws4_request")
MAX_RESULTS = 1000
MAX_TAGS = 200
FILTERED = "The generated video has been blocked by our content filters."

# Each error shape the dialect answers with, and its status (the service model's, where it has it).
STATUSES = {
    "ValidationException": 400,
    "ConflictException": 400,
    "SerializationException": 400,
    "IncompleteSignatureException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "ThrottlingException": 429,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
}
SHAPE_OF_STATUS = {
    400: "ValidationException",
    401: "AccessDeniedException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}


class AwsError(EngineError):
    """An error in one of Bedrock's shapes; `message_key` is the body's one member."""

    def __init__(self, shape: str, message: str, message_key: str = "message") -> None:
        super().__init__(STATUSES[shape], message, code=shape)
        self.message_key = message_key


def _invalid(message: str) -> AwsError:
    return AwsError("ValidationException", message)


def _constraint(value: Any, member: str, constraint: str) -> AwsError:
    """A request member its shape rules out, as AWS's request validation words it."""
    shown = "null" if value is None else f"'{value}'"
    return _invalid(
        f"1 validation error detected: Value {shown} at '{member}' failed to satisfy constraint: {constraint}"
    )


def _aws_error(error: EngineError) -> Response:
    if isinstance(error, AwsError):
        shape, key = str(error.code), error.message_key
    else:
        shape = SHAPE_OF_STATUS.get(
            error.status, "InternalServerException" if error.status >= 500 else "ValidationException"
        )
        key = "message"
    headers = {"x-amzn-ErrorType": shape, "x-amzn-RequestId": str(uuid.uuid4())}
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse({key: error.message}, error.status, headers=headers)


def _answer(body: dict[str, Any]) -> Response:
    return JSONResponse(body, headers={"x-amzn-RequestId": str(uuid.uuid4())})


@cache
def _local_aws() -> tuple[str, str]:
    """The local AWS endpoint's account and region (imported at first use: the engine starts without
    the application's template)."""
    from local.serve.application import ACCOUNT, REGION

    return ACCOUNT, REGION


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Invocation:
    seq: int
    id: str
    arn: str
    region: str
    model_arn: str
    token: str
    request: str  # the request bar its token, canonical: what a reuse of the token must repeat
    output: S3Output
    job: Job
    submitted: datetime
    status: str = "InProgress"
    failure: str | None = None
    ended: datetime | None = None
    delivery: asyncio.Task[None] | None = None

    def end(self, status: str, failure: str | None = None) -> None:
        self.status, self.failure, self.ended = status, failure, datetime.now(UTC)

    def view(self) -> dict[str, Any]:
        s3: dict[str, str] = {"s3Uri": self.output.folder(self.id)}
        if self.output.kms_key_id:
            s3["kmsKeyId"] = self.output.kms_key_id
        if self.output.bucket_owner:
            s3["bucketOwner"] = self.output.bucket_owner
        view: dict[str, Any] = {
            "invocationArn": self.arn,
            "modelArn": self.model_arn,
            "clientRequestToken": self.token,
            "status": self.status,
            "submitTime": _iso(self.submitted),
            "lastModifiedTime": _iso(self.ended or self.submitted),
            "outputDataConfig": {"s3OutputDataConfig": s3},
        }
        if self.failure is not None:
            view["failureMessage"] = self.failure
        if self.ended is not None:
            view["endTime"] = _iso(self.ended)
        return view


class BedrockRuntime:
    def __init__(self, engine: Engine, api_key: str | None) -> None:
        self.engine, self.api_key = engine, api_key
        self._writers: dict[str, S3Writer] = {}  # by the S3 endpoint they write to
        self.invocations: dict[str, Invocation] = {}  # by ARN
        self.tokens: dict[tuple[str, str], Invocation] = {}  # by region and clientRequestToken
        self._seq = itertools.count()

    def _writer(self) -> S3Writer:
        endpoint = self.engine.s3_endpoint
        if endpoint is None:
            raise OutputNotWrittenError("the engine has no S3 to write to")
        if endpoint not in self._writers:
            self._writers[endpoint] = S3Writer(endpoint)
        return self._writers[endpoint]

    def _region(self, request: Request) -> str:
        """The caller's region, from its Authorization header; refused without one."""
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.strip().partition(" ")
        if not scheme:
            raise AwsError("AccessDeniedException", "Authorization header is missing", message_key="Message")
        if scheme.lower() == "bearer":
            if not key_matches(credentials, self.api_key):
                raise AwsError("AccessDeniedException", "The API key in the Authorization header is invalid.")
            return _local_aws()[1]
        found = CREDENTIAL.search(credentials) if scheme == "AWS4-HMAC-SHA256" else None
        if found is None:
            raise AwsError(
                "IncompleteSignatureException", "Authorization header requires 'Credential' parameter."
            )
        return found["region"]

    async def start_async_invoke(self, request: Request) -> Response:
        region = self._region(request)
        body = await _body(request)
        token = body.get("clientRequestToken")
        if token is not None and not (isinstance(token, str) and TOKEN.fullmatch(token)):
            raise _constraint(
                token, "clientRequestToken", "Member must satisfy regular expression pattern: [!-~]*"
            )
        model = _model(body.get("modelId"))
        output = _output(body.get("outputDataConfig"))
        _check_tags(body.get("tags"))
        if "modelInput" not in body:
            raise _constraint(None, "modelInput", "Member must not be null")
        if self.engine.s3_endpoint is None:
            raise _invalid("This engine has no S3 to write outputs to: start it with --s3-endpoint.")
        try:
            luma = luma_request(body["modelInput"])
        except MalformedInputError as e:
            raise _invalid(str(e)) from e
        asked = json.dumps({k: v for k, v in body.items() if k != "clientRequestToken"}, sort_keys=True)
        earlier = self.tokens.get((region, token)) if token else None
        if earlier is not None:
            if earlier.request != asked:
                raise AwsError(
                    "ConflictException",
                    "The clientRequestToken was used before with a different request: use a new one.",
                )
            return _answer({"invocationArn": earlier.arn})
        job = start(self.engine, CreateParams(luma.prompt, model, luma.seconds, luma.size))
        invocation = self._invocation(region, model, token or str(uuid.uuid4()), asked, output, job)
        if job.task is not None:
            job.task.add_done_callback(lambda _: self._deliver_soon(invocation))
        return _answer({"invocationArn": invocation.arn})

    def _invocation(
        self, region: str, model: str, token: str, asked: str, output: S3Output, job: Job
    ) -> Invocation:
        account, _ = _local_aws()
        invocation_id = "".join(secrets.choice(ID_ALPHABET) for _ in range(12))
        invocation = Invocation(
            seq=next(self._seq),
            id=invocation_id,
            arn=f"arn:aws:bedrock:{region}:{account}:async-invoke/{invocation_id}",
            region=region,
            model_arn=f"arn:aws:bedrock:{region}::foundation-model/{model}",
            token=token,
            request=asked,
            output=output,
            job=job,
            submitted=datetime.now(UTC),
        )
        self.invocations[invocation.arn] = invocation
        self.tokens[(region, token)] = invocation
        return invocation

    def _deliver_soon(self, invocation: Invocation) -> None:
        """Starts writing the output of an invocation whose job has ended, once."""
        if invocation.delivery is None and invocation.job.terminal:
            invocation.delivery = self.engine.in_background(self._deliver(invocation))

    async def _settled(self, invocation: Invocation) -> None:
        """Waits, if its job has ended, for the invocation to take the job's outcome."""
        self._deliver_soon(invocation)
        if invocation.delivery is not None:
            await asyncio.shield(invocation.delivery)

    async def _deliver(self, invocation: Invocation) -> None:
        job = invocation.job
        if job.status != "completed":
            code, message = (job.error or {}).get("code"), (job.error or {}).get("message")
            invocation.end("Failed", FILTERED if code == "moderation_blocked" else message or "Failed.")
            return
        video, _ = self.engine.asset(job.id, "video")
        try:
            await asyncio.to_thread(
                self._writer().write, invocation.region, invocation.output, invocation.id, video
            )
        except OutputNotWrittenError as e:
            where = f"{invocation.output.folder(invocation.id)}/output.mp4"
            invocation.end("Failed", f"Unable to write the output to {where}: {e}")
            return
        invocation.end("Completed")

    async def get_async_invoke(self, request: Request) -> Response:
        region = self._region(request)
        arn = request.path_params["arn"]
        if not INVOCATION_ARN.fullmatch(arn):
            raise _constraint(
                arn,
                "invocationArn",
                f"Member must satisfy regular expression pattern: {INVOCATION_ARN.pattern}",
            )
        invocation = self.invocations.get(arn)
        if invocation is None or invocation.region != region:
            raise AwsError("ResourceNotFoundException", f"The asynchronous invocation {arn} was not found.")
        self.engine.read_status(invocation.job.id)
        await self._settled(invocation)
        return _answer(invocation.view())

    async def list_async_invokes(self, request: Request) -> Response:
        region = self._region(request)
        query = _ListQuery.of(request.query_params)
        mine = [i for i in self.invocations.values() if i.region == region]
        await asyncio.gather(*(self._settled(i) for i in mine))
        chosen = sorted((i for i in mine if query.takes(i)), key=lambda i: i.seq, reverse=query.descending)
        if query.after is not None:
            chosen = [i for i in chosen if (i.seq < query.after if query.descending else i.seq > query.after)]
        page = chosen[: query.max_results]
        answer: dict[str, Any] = {"asyncInvokeSummaries": [i.view() for i in page]}
        if len(chosen) > len(page):
            answer["nextToken"] = base64.urlsafe_b64encode(str(page[-1].seq).encode()).decode()
        return _answer(answer)

    async def unknown(self, _: Request) -> Response:
        raise _invalid("The requested operation is not recognized by the service.")

    def routes(self) -> list[Route]:
        return [
            Route(PREFIX + "/async-invoke", speaking(_aws_error, self.start_async_invoke), methods=["POST"]),
            Route(PREFIX + "/async-invoke", speaking(_aws_error, self.list_async_invokes), methods=["GET"]),
            Route(
                PREFIX + "/async-invoke/{arn:path}",
                speaking(_aws_error, self.get_async_invoke),
                methods=["GET"],
            ),
            Route(PREFIX + "/{operation:path}", speaking(_aws_error, self.unknown)),
        ]


@dataclass(frozen=True)
class _ListQuery:
    """ListAsyncInvokes' query parameters."""

    submitted_after: datetime | None
    submitted_before: datetime | None
    status: str | None
    max_results: int
    after: int | None  # from nextToken: the last invocation of the page before
    descending: bool

    @classmethod
    def of(cls, query: Any) -> _ListQuery:
        status = query.get("statusEquals")
        if status is not None and status not in ("InProgress", "Completed", "Failed"):
            raise _constraint(
                status, "statusEquals", "Member must satisfy enum value set: [InProgress, Completed, Failed]"
            )
        if query.get("sortBy", "SubmissionTime") != "SubmissionTime":
            raise _constraint(
                query["sortBy"], "sortBy", "Member must satisfy enum value set: [SubmissionTime]"
            )
        order = query.get("sortOrder", "Descending")
        if order not in ("Ascending", "Descending"):
            raise _constraint(
                order, "sortOrder", "Member must satisfy enum value set: [Ascending, Descending]"
            )
        return cls(
            _timestamp(query.get("submitTimeAfter"), "submitTimeAfter"),
            _timestamp(query.get("submitTimeBefore"), "submitTimeBefore"),
            status,
            _max_results(query.get("maxResults")),
            _page_token(query.get("nextToken")),
            order == "Descending",
        )

    def takes(self, invocation: Invocation) -> bool:
        return (
            (self.submitted_after is None or invocation.submitted > self.submitted_after)
            and (self.submitted_before is None or invocation.submitted < self.submitted_before)
            and (self.status is None or invocation.status == self.status)
        )


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
        raise AwsError("SerializationException", "The request body is not valid JSON.") from e
    if not isinstance(body, dict):
        raise AwsError("SerializationException", "The request body must be a JSON object.")
    return body


def _model(model_id: Any) -> str:
    """The model a StartAsyncInvoke names, by id or by its foundation-model ARN."""
    if model_id is None:
        raise _constraint(None, "modelId", "Member must not be null")
    if not isinstance(model_id, str) or not MODEL_IDENTIFIER.fullmatch(model_id):
        raise _constraint(
            model_id, "modelId", f"Member must satisfy regular expression pattern: {MODEL_IDENTIFIER.pattern}"
        )
    by_arn = MODEL_ARN.fullmatch(model_id)
    if (by_arn["model"] if by_arn else model_id) != MODEL_ID:
        raise _invalid("The provided model identifier is invalid.")
    return MODEL_ID


def _output(config: Any) -> S3Output:
    if config is None:
        raise _constraint(None, "outputDataConfig", "Member must not be null")
    s3 = config.get("s3OutputDataConfig") if isinstance(config, dict) else None
    if not isinstance(s3, dict):
        raise _constraint(None, "outputDataConfig.s3OutputDataConfig", "Member must not be null")
    uri = s3.get("s3Uri")
    member = "outputDataConfig.s3OutputDataConfig.s3Uri"
    if uri is None:
        raise _constraint(None, member, "Member must not be null")
    if not isinstance(uri, str) or len(uri) > 1024 or not S3_URI.fullmatch(uri):
        raise _constraint(uri, member, f"Member must satisfy regular expression pattern: {S3_URI.pattern}")
    kms_key_id, bucket_owner = s3.get("kmsKeyId"), s3.get("bucketOwner")
    if bucket_owner is not None and not (
        isinstance(bucket_owner, str) and re.fullmatch(r"[0-9]{12}", bucket_owner)
    ):
        raise _constraint(
            bucket_owner,
            "outputDataConfig.s3OutputDataConfig.bucketOwner",
            "Member must satisfy regular expression pattern: [0-9]{12}",
        )
    return S3Output(uri, kms_key_id if isinstance(kms_key_id, str) else None, bucket_owner)


def _check_tags(tags: Any) -> None:
    if tags is None:
        return
    if not isinstance(tags, list) or len(tags) > MAX_TAGS:
        raise _constraint(tags, "tags", f"Member must have length less than or equal to {MAX_TAGS}")
    for n, tag in enumerate(tags, 1):
        if not (
            isinstance(tag, dict) and isinstance(tag.get("key"), str) and isinstance(tag.get("value"), str)
        ):
            raise _constraint(None, f"tags.{n}.member.key", "Member must not be null")


def _timestamp(value: str | None, member: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as e:
        raise _invalid(f"Value '{value}' at '{member}' is not a valid ISO 8601 timestamp.") from e
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _max_results(value: str | None) -> int:
    if value is None:
        return MAX_RESULTS
    if not value.isdigit() or not 1 <= int(value) <= MAX_RESULTS:
        raise _constraint(value, "maxResults", f"Member must have a value from 1 to {MAX_RESULTS}")
    return int(value)


def _page_token(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(base64.urlsafe_b64decode(value.encode()).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError) as e:
        raise _invalid("The nextToken is invalid.") from e


DIALECT = Dialect(
    "bedrock",
    PREFIX,
    lambda engine, api_key: BedrockRuntime(engine, api_key).routes(),
    example_model=MODEL_ID,
    errors=_aws_error,
)
