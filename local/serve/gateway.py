"""The HTTP API as API Gateway runs it: routes from the template, requests turned into HTTP API
(payload 2.0) events for the function each route points to, and the function's answer returned."""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from local.serve.application import ACCOUNT, LocalApplication, LocalFunction, Throttle
from local.serve.cors import is_preflight
from local.serve.limits import HTTP_API_INTEGRATION_SECONDS, HTTP_API_MAX_BODY_BYTES, PayloadTooLargeError
from local.serve.workers import Functions, Invocation

API_ID = "local"
JSON = "application/json"
# The header an HTTP API puts its id of the request in, on every answer (its own and its integrations').
REQUEST_ID_HEADER = "apigw-requestid"
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded")


@dataclass(frozen=True)
class _CompiledRoute:
    method: str
    path: str
    pattern: re.Pattern[str]
    function: LocalFunction

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"

    @property
    def precedence(self) -> tuple[tuple[int, ...], bool]:
        """API Gateway's order among routes a request matches: the most specific path first (segment
        by segment, a literal before a {variable} before a {greedy+}), then a method before ANY."""
        segments = tuple(
            2 if part.endswith("+}") else 1 if part.startswith("{") else 0 for part in self.path.split("/")
        )
        return segments, self.method == "ANY"


def _compile(path: str) -> re.Pattern[str]:
    """A route's path as API Gateway matches it: `{name}` one segment, a last `{name+}` the rest."""

    def segment(part: str) -> str:
        if part.startswith("{") and part.endswith("+}"):
            return f"(?P<{part[1:-2]}>.+)"
        if part.startswith("{") and part.endswith("}"):
            return f"(?P<{part[1:-1]}>[^/]+)"
        return re.escape(part)

    return re.compile("^" + "/".join(segment(part) for part in path.split("/")) + "$")


class _TokenBucket:
    """API Gateway's throttling of one route: `burst` requests at once, refilled at `rate` per second."""

    def __init__(self, throttle: Throttle, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate, self._burst, self._clock = throttle.rate, float(throttle.burst), clock
        self._tokens, self._at = self._burst, clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
            self._at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


class Gateway:
    def __init__(
        self,
        application: LocalApplication,
        functions: Functions,
        on_invocation: Callable[[LocalFunction, Invocation], None],
        integration_timeout: float = HTTP_API_INTEGRATION_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`clock` times the routes' throttles."""
        self._functions = functions
        self._integration_timeout = integration_timeout
        self._on_invocation = on_invocation
        self._cors = application.cors
        # A thread per request waiting for its function: enough that only the functions' own pools
        # limit concurrency (asyncio's default executor would hold every function to ~6 at once).
        self._invokers = ThreadPoolExecutor(max_workers=256, thread_name_prefix="gateway")
        self.routes: list[_CompiledRoute] = []
        self.default: LocalFunction | None = None
        # Each route has a bucket of its own, as API Gateway throttles per route.
        default_throttle = application.throttles.get("$default")
        self._buckets: dict[str, _TokenBucket] = {}
        for function in application.functions.values():
            for route in function.routes:
                throttle = application.throttles.get(route.key, default_throttle)
                if throttle is not None:
                    self._buckets[route.key] = _TokenBucket(throttle, clock)
        for function in application.functions.values():
            for route in function.routes:
                if route.is_default:
                    self.default = function
                else:
                    self.routes.append(
                        _CompiledRoute(route.method, route.path, _compile(route.path), function)
                    )

    def match(self, method: str, path: str) -> tuple[_CompiledRoute | None, dict[str, str]]:
        """The route API Gateway would choose for the request (the $default route's when none)."""
        matches = [
            (route, found.groupdict())
            for route in self.routes
            if route.method in (method, "ANY") and (found := route.pattern.match(path)) is not None
        ]
        if not matches:
            return None, {}
        return min(matches, key=lambda match: match[0].precedence)

    def _log(self, function: LocalFunction, done: asyncio.Future[Invocation]) -> None:
        if not done.cancelled() and done.exception() is None:
            self._on_invocation(function, done.result())

    async def __call__(self, request: Request) -> Response:
        # API Gateway's id of the request: in the event's requestContext, and on every answer.
        request_id = base64.b64encode(secrets.token_bytes(10)).decode()
        response = await self._answer(request, request_id)
        response.headers[REQUEST_ID_HEADER] = request_id
        return response

    async def _answer(self, request: Request, request_id: str) -> Response:
        body = await request.body()
        if len(body) > HTTP_API_MAX_BODY_BYTES:
            return _message("Request Entity Too Large", 413)
        route, path_parameters = self.match(request.method, request.url.path)
        function = route.function if route else self.default
        if function is None:
            if self._cors is not None and is_preflight(request.method, request.headers):
                return Response(status_code=204, headers=self._cors.headers(request.headers))
            return _message("Not Found", 404)
        route_key = route.route_key if route else "$default"
        bucket = self._buckets.get(route_key)
        if bucket is not None and not bucket.take():
            return _message("Too Many Requests", 429)
        event = http_api_event(request, body, route_key, path_parameters, request_id)
        running = asyncio.get_running_loop().run_in_executor(
            self._invokers, self._functions.invoke, function.name, event
        )
        running.add_done_callback(functools.partial(self._log, function))
        try:
            invocation = await asyncio.wait_for(asyncio.shield(running), self._integration_timeout)
        except PayloadTooLargeError:
            # Lambda refuses the event (a binary body arrives base64-encoded, a third larger).
            return _message("Request Entity Too Large", 413)
        except TimeoutError:
            # API Gateway stops waiting; the function goes on to its own end, and its log shows it.
            return _message("Service Unavailable", 503)
        response = lambda_response(invocation)
        if self._cors is not None:
            self._cors.apply(request.headers, response.headers)
        return response


def _message(message: str, status: int) -> Response:
    """An answer API Gateway makes itself, in its own shape."""
    return Response(json.dumps({"message": message}, separators=(",", ":")), status, media_type=JSON)


def http_api_event(
    request: Request, body: bytes, route_key: str, path_parameters: dict[str, str], request_id: str
) -> dict[str, Any]:
    now = datetime.now(UTC)
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    query = request.url.query
    content_type = headers.get("content-type", "")
    is_text = not body or content_type.startswith(TEXT_TYPES)
    source_ip = request.client.host if request.client else "127.0.0.1"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.url.path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": API_ID,
            "domainName": request.url.netloc,
            "domainPrefix": request.url.netloc.split(".")[0],
            "http": {
                "method": request.method,
                "path": request.url.path,
                "protocol": f"HTTP/{request.scope.get('http_version', '1.1')}",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if query:
        parameters: dict[str, str] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
        event["queryStringParameters"] = parameters
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        text = _utf8(body) if is_text else None
        event["isBase64Encoded"] = text is None
        event["body"] = text if text is not None else base64.b64encode(body).decode()
    return event


def _utf8(body: bytes) -> str | None:
    """The body as text, or None when it is not UTF-8 (API Gateway then hands it over base64-encoded)."""
    try:
        return body.decode()
    except UnicodeDecodeError:
        return None


def lambda_response(invocation: Invocation) -> Response:
    result = invocation.result
    if invocation.error is not None or not isinstance(result, dict) or "statusCode" not in result:
        # What API Gateway answers when the integration fails.
        return _message("Internal Server Error", 500)
    body = result.get("body") or ""
    content = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    response = Response(content, int(result["statusCode"]))
    for name, value in (result.get("headers") or {}).items():
        response.headers[name] = str(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.append(name, str(value))
    for cookie in result.get("cookies") or []:
        response.headers.append("set-cookie", cookie)
    return response
