"""API Gateway HTTP API (payload 2.0) events for the functions, built from the recorded samples
under tests/events/, and a way to invoke a function's handler with one."""

from __future__ import annotations

import base64
import copy
import importlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from local.iam.enforce import Role, acting_as, revocations_from_environment

EVENTS = Path(__file__).parent / "events"


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str = "videos-api-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:videos-api-test"
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"
    remaining_ms: int = 29_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def sample(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


def http_event(
    sample_name: str,
    *,
    path: str | None = None,
    route_key: str | None = None,
    method: str | None = None,
    key: str | None = None,
    query: dict[str, str] | None = None,
    body: Any = ...,
    content_type: str | None = None,
    headers: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """A recorded sample with its path, query, body and key replaced as a test needs."""
    event = copy.deepcopy(sample(sample_name))
    context = event["requestContext"]
    context["requestId"] = base64.b64encode(uuid.uuid4().bytes[:10]).decode()
    if path is not None:
        event["rawPath"] = context["http"]["path"] = path
    if method is not None:
        context["http"]["method"] = method
    if route_key is not None:
        event["routeKey"] = context["routeKey"] = route_key
    if query is not None:
        _set_query(event, query)
    if body is not ...:
        _set_body(event, body)
    if content_type is not None:
        event["headers"]["content-type"] = content_type
    event["headers"]["authorization"] = f"Bearer {key}" if key else None
    for name, value in (headers or {}).items():
        event["headers"][name] = value
    event["headers"] = {k: v for k, v in event["headers"].items() if v is not None}
    return event


def _set_query(event: dict[str, Any], query: dict[str, str]) -> None:
    event["rawQueryString"] = urlencode(query)
    event.pop("queryStringParameters", None)
    if query:
        event["queryStringParameters"] = dict(query)


def _set_body(event: dict[str, Any], body: Any) -> None:
    event["isBase64Encoded"] = isinstance(body, bytes)
    event.pop("body", None)
    if isinstance(body, bytes):
        event["body"] = base64.b64encode(body).decode()
    elif body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)


@dataclass(frozen=True)
class LambdaResponse:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


@cache
def execution_role(function: str) -> Role:
    """The role `functions/<function>` runs as: its policy as the template grants it, in the local account."""
    from local.serve.application import LOCAL_ACCOUNT, declared_application

    (found,) = (f for f in declared_application().functions.values() if f.code_dir.name == function)
    return Role(found.name, found.policy, LOCAL_ACCOUNT, revocations_from_environment())


def invoke_task(function: str, event: dict[str, Any]) -> Any:
    """Invokes a state machine task's handler (it answers the task's output, not HTTP), its AWS calls
    made as the function's role."""
    module = importlib.import_module(f"functions.{function}.app")
    with acting_as(execution_role(function)):
        return module.handler(event, FakeLambdaContext(function_name=function))


def invoke(function: str, event: dict[str, Any], remaining_ms: int = 29_000) -> LambdaResponse:
    """Invokes `functions/<function>/app.py`'s handler as Lambda would, with `remaining_ms` to run and
    its AWS calls made as the function's role."""
    module = importlib.import_module(f"functions.{function}.app")
    with acting_as(execution_role(function)):
        result = module.handler(event, FakeLambdaContext(function_name=function, remaining_ms=remaining_ms))
    body = result.get("body") or ""
    if result.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    return LambdaResponse(int(result["statusCode"]), headers, body)


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body of `fields` and `files` (name -> (filename, bytes, type)), and its type."""
    boundary = "b0undary7e1f"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts += [
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{name}"\r\n'
            f"Content-Type: {kind}\r\n\r\n"
        ).encode()
        + data
        + b"\r\n"
        for k, (name, data, kind) in files.items()
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"
