"""Faults at the local AWS endpoint, armed as the engine's `/_faults` are: the errors AWS answers when
it is busy or failing for a moment, each in the shape its service answers it, so that what the
functions and the state machine do about them is what they would do on AWS.

`POST /_faults` arms a rule for the next `times` calls it matches, by service, operation and resource
(a table, a bucket, a bus, a state machine or a function, by a part of its name); `GET /_faults`
shows every rule with how often it took effect; `DELETE /_faults` disarms them all.

| error | services | answered as |
|---|---|---|
| ProvisionedThroughputExceededException, ThrottlingException | dynamodb | 400, JSON 1.0 `__type` |
| InternalServerError | dynamodb | 500 |
| InternalError, SlowDown | s3 | 500 / 503, S3's XML error |
| FailedEntry | events (PutEvents) | 200 with every entry failed (`FailedEntryCount`), nothing put |
| ThrottlingException | events, states | 400, JSON `__type` |
| TooManyRequestsException | lambda (Invoke) | 429, as Lambda's Invoke API answers a throttle |

Calls signed with the observer's key (the tests' and the provisioning's own) are never faulted.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from botocore.awsrequest import AWSResponse

from local.serve.appconfig_api import operation_of
from local.serve.s3_errors import s3_error

OBSERVER_KEY = "observer"

# error -> (services it applies to, HTTP status)
ERRORS: dict[str, tuple[frozenset[str], int]] = {
    "ProvisionedThroughputExceededException": (frozenset({"dynamodb"}), 400),
    "ThrottlingException": (frozenset({"dynamodb", "events", "states"}), 400),
    "InternalServerError": (frozenset({"dynamodb"}), 500),
    "InternalError": (frozenset({"s3"}), 500),
    "SlowDown": (frozenset({"s3"}), 503),
    "FailedEntry": (frozenset({"events"}), 200),
    "TooManyRequestsException": (frozenset({"lambda"}), 429),
}
_DYNAMODB = "com.amazonaws.dynamodb.v20120810#"
_JSON_TYPES = {
    "ProvisionedThroughputExceededException": _DYNAMODB + "ProvisionedThroughputExceededException",
    "ThrottlingException": "com.amazon.coral.availability#ThrottlingException",
    "InternalServerError": _DYNAMODB + "InternalServerError",
}
_S3_MESSAGES = {
    "InternalError": "We encountered an internal error. Please try again.",
    "SlowDown": "Please reduce your request rate.",
}
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/[^/]+/([^/]+)/aws4_request")


class AwsFaultSpecError(ValueError):
    pass


@dataclass(frozen=True)
class AwsCall:
    service: str
    operation: str
    resources: tuple[str, ...]


@dataclass
class AwsFault:
    service: str
    error: str
    operation: str | None = None
    resource: str | None = None
    times: int = 1
    id: str = field(default_factory=lambda: "awsf_" + secrets.token_hex(6))
    triggered: int = 0

    def matches(self, call: AwsCall) -> bool:
        return (
            self.times > 0
            and self.service == call.service
            and self.operation in (None, call.operation)
            and (self.resource is None or any(self.resource in resource for resource in call.resources))
        )

    def describe(self) -> dict[str, Any]:
        return asdict(self)


def parse_aws_fault(body: object) -> AwsFault:
    if not isinstance(body, dict):
        raise AwsFaultSpecError("the body must be a JSON object")
    unknown = set(body) - {"service", "error", "operation", "resource", "times"}
    if unknown:
        raise AwsFaultSpecError(f"unknown fields: {', '.join(sorted(unknown))}")
    error, service = str(body.get("error", "")), str(body.get("service", ""))
    if error not in ERRORS:
        raise AwsFaultSpecError(f"error must be one of {', '.join(ERRORS)}")
    if service not in ERRORS[error][0]:
        raise AwsFaultSpecError(f"{error} applies to {', '.join(sorted(ERRORS[error][0]))}, not {service!r}")
    times = body.get("times", 1)
    if not isinstance(times, int) or isinstance(times, bool) or not 1 <= times <= 1_000_000:
        raise AwsFaultSpecError("times must be an integer from 1 to 1000000")
    operation, resource = body.get("operation"), body.get("resource")
    return AwsFault(
        service=service,
        error=error,
        operation=str(operation) if operation is not None else None,
        resource=str(resource) if resource is not None else None,
        times=times,
    )


class AwsFaultBook:
    """The armed rules; the endpoint's request threads take from it at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.faults: list[AwsFault] = []

    def arm(self, fault: AwsFault) -> AwsFault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def take(self, call: AwsCall) -> AwsFault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(call):
                    fault.times -= 1
                    fault.triggered += 1
                    return fault
        return None

    def disarm(self) -> None:
        with self._lock:
            self.faults.clear()

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.describe() for fault in self.faults]


# ---- knowing a call from its HTTP request -------------------------------------------------------


def _s3_operation(method: str, query: dict[str, list[str]]) -> str:
    if method == "PUT":
        return "UploadPart" if "partNumber" in query else "PutObject"
    if method == "POST":
        if "uploads" in query:
            return "CreateMultipartUpload"
        if "uploadId" in query:
            return "CompleteMultipartUpload"
        return "DeleteObjects" if "delete" in query else "PostObject"
    if method == "DELETE":
        return "AbortMultipartUpload" if "uploadId" in query else "DeleteObject"
    if method == "GET" and "uploads" in query:
        return "ListMultipartUploads"
    return {"GET": "GetObject", "HEAD": "HeadObject"}.get(method, method)


def _json_resources(service: str, body: dict[str, Any]) -> tuple[str, ...]:
    if service == "dynamodb":
        names = [body.get("TableName")]
        names += [
            request.get("TableName") for item in body.get("TransactItems", []) for request in item.values()
        ]
        names += list(body.get("RequestItems", {}))
        return tuple(str(name) for name in names if name)
    if service == "events":
        return tuple(str(entry.get("EventBusName", "default")) for entry in body.get("Entries", []))
    return tuple(str(body[name]) for name in ("stateMachineArn", "executionArn", "name") if name in body)


def identify(environ: dict[str, Any], body: bytes | None) -> tuple[str, AwsCall] | None:
    """The access key and the call a request makes; None for what is not an AWS API call."""
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    found = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if found is not None:
        key, service = found[1], found[2]
    elif "X-Amz-Credential" in query:
        key, _, _, service, _ = (query["X-Amz-Credential"][0].split("/") + [""] * 5)[:5]
    else:
        return None
    if service == "s3":
        bucket = environ.get("PATH_INFO", "/").lstrip("/").split("/", 1)[0]
        return key, AwsCall("s3", _s3_operation(environ["REQUEST_METHOD"], query), (bucket,))
    if service == "appconfig":
        operation = operation_of(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""))
        return None if operation is None else (key, AwsCall("appconfig", operation, ()))
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if not target:
        return None
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        parsed = {}
    resources = _json_resources(service, parsed) if isinstance(parsed, dict) else ()
    return key, AwsCall(service, target.rsplit(".", 1)[-1], resources)


# ---- answering as AWS does ----------------------------------------------------------------------


def error_answer(
    fault: AwsFault, call: AwsCall, body: bytes | None
) -> tuple[int, list[tuple[str, str]], bytes]:
    status = ERRORS[fault.error][1]
    if call.service == "s3":
        return status, *s3_error(fault.error, _S3_MESSAGES[fault.error])
    request_id = secrets.token_hex(16)
    headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id)]
    if fault.error == "FailedEntry":
        entries = json.loads(body or b"{}").get("Entries", [])
        failed = [{"ErrorCode": "InternalFailure", "ErrorMessage": "Injected failure."} for _ in entries]
        return status, headers, json.dumps({"FailedEntryCount": len(failed), "Entries": failed}).encode()
    error_type = _JSON_TYPES.get(fault.error, fault.error)
    return (
        status,
        headers,
        json.dumps({"__type": error_type, "message": "Rate exceeded (injected)."}).encode(),
    )


class AwsFaultMiddleware:
    """The WSGI layer in front of moto: `/_faults` itself, and the armed rules applied to API calls;
    `on_call` is told each API call that is not the observer's."""

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        book: AwsFaultBook,
        on_call: Callable[[str, AwsCall], None] = lambda _key, _call: None,
    ) -> None:
        self.app = app
        self.book = book
        self.on_call = on_call

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/_faults":
            return self._control(environ, start_response)
        body = None
        if environ.get("HTTP_X_AMZ_TARGET"):
            # A JSON API call, small: read for its resource, then handed on unread.
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
        identified = identify(environ, body)
        if identified is not None and identified[0] != OBSERVER_KEY:
            self.on_call(*identified)
            fault = self.book.take(identified[1])
            if fault is not None:
                status, headers, answer = error_answer(fault, identified[1], body)
                start_response(f"{status} Fault", [*headers, ("Content-Length", str(len(answer)))])
                return [answer]
        return self.app(environ, start_response)

    def _control(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        status, answer = "200 OK", b""
        if method == "POST":
            try:
                fault = self.book.arm(
                    parse_aws_fault(
                        json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
                    )
                )
                status, answer = "201 Created", json.dumps(fault.describe()).encode()
            except (AwsFaultSpecError, ValueError) as e:
                status, answer = "400 Bad Request", json.dumps({"error": str(e)}).encode()
        elif method == "GET":
            answer = json.dumps({"faults": self.book.describe()}).encode()
        elif method == "DELETE":
            self.book.disarm()
            status = "204 No Content"
        else:
            status = "405 Method Not Allowed"
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))])
        return [answer]


def fault_lambda_invokes(client: Any, book: AwsFaultBook) -> None:
    """The state machine's Lambda client answers a matching Invoke as Lambda throttles one: 429
    TooManyRequestsException, the function not run."""

    def before_invoke(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        # The request as it is sent: the function's name (or ARN) is in its path.
        fault = book.take(AwsCall("lambda", "Invoke", (unquote(str(params.get("url_path", ""))),)))
        if fault is None:
            return None
        error = {"Code": "TooManyRequestsException", "Message": "Rate Exceeded. (injected)"}
        metadata = {"HTTPStatusCode": 429, "HTTPHeaders": {}, "RequestId": secrets.token_hex(16)}
        response = AWSResponse("http://lambda.local", 429, {}, None)  # type: ignore[arg-type]
        return response, {
            "Error": error,
            "Reason": "ConcurrentInvocationLimitExceeded",
            "ResponseMetadata": metadata,
        }

    client.meta.events.register("before-call.lambda.Invoke", before_invoke)
