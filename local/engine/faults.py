"""Fault injection and request counters: what the service's fault and cost tests drive.

`POST /_faults` arms a fault for the next N requests whose method and path match; the middleware
below applies it before the request reaches the API, and counts every API request by method,
route template and video id for `GET /_stats`. The `/_…` routes themselves are never faulted or
counted. A status fault is answered in OpenAI's error shape, or in a dialect's own where the
dialect declares one for its paths.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import secrets
import socket
import struct
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from starlette.responses import Response
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from local.engine.errors import EngineError, error_body

# How a dialect answers an error, by the path it is served under.
SpokenErrors = Sequence[tuple[str, Callable[[EngineError], Response]]]
INJECTED = "Injected fault."


class FaultKind(StrEnum):
    STATUS = "status"  # answer with an error status (429 and 503 carry Retry-After)
    DELAY = "delay"  # hold the request before answering, to cause client read timeouts
    RESET = "reset"  # drop the connection with a TCP reset, answering nothing
    MALFORMED = "malformed"  # answer 200 with a body that is not valid JSON
    TRUNCATE = "truncate"  # announce the full Content-Length, send half the body, then drop
    PAUSE = "pause"  # send half the body, hold the rest for `seconds`, then send it
    BODY = "body"  # answer 200 with a whole body that is not the file asked for: `body` names which


# The bodies a BODY fault answers with: a provider's error page, nothing, or the real file's first
# half announced as the whole (a truncated file, not a cut connection).
BAD_BODIES = ("html", "empty", "half")
_ERROR_PAGE = b"<!DOCTYPE html>\n<html><head><title>Error 502</title></head><body>Bad gateway</body></html>\n"


@dataclass
class Fault:
    kind: FaultKind
    method: str = "*"
    path: str = "*"
    times: int = 1
    status: int = 500
    retry_after: int | None = None
    seconds: float = 0.0
    body: str = "html"
    id: str = field(default_factory=lambda: "flt_" + secrets.token_hex(6))
    triggered: int = 0

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method in ("*", method) and fnmatch.fnmatchcase(path, self.path)

    def describe(self) -> dict[str, Any]:
        return asdict(self) | {"kind": self.kind.value}


class FaultSpecError(ValueError):
    pass


def parse_fault(body: object) -> Fault:
    if not isinstance(body, dict):
        raise FaultSpecError("the body must be a JSON object")
    unknown = set(body) - {"kind", "method", "path", "times", "status", "retry_after", "seconds", "body"}
    if unknown:
        raise FaultSpecError(f"unknown fields: {', '.join(sorted(unknown))}")
    try:
        kind = FaultKind(body.get("kind", "status"))
    except ValueError as e:
        raise FaultSpecError(f"kind must be one of {', '.join(k.value for k in FaultKind)}") from e
    fault = Fault(
        kind=kind,
        method=str(body.get("method", "*")).upper(),
        path=str(body.get("path", "*")),
        times=_int(body, "times", 1, 1, 1_000_000),
        status=_int(body, "status", 500, 400, 599),
        retry_after=_int(body, "retry_after", None, 0, 3600),
        seconds=_number(body, "seconds", 0.0, 0.0, 600.0),
        body=str(body.get("body", "html")),
    )
    if fault.body not in BAD_BODIES:
        raise FaultSpecError(f"body must be one of {', '.join(BAD_BODIES)}")
    if fault.retry_after is None and fault.kind is FaultKind.STATUS and fault.status in (429, 503):
        fault.retry_after = 1
    return fault


def _int(body: dict[str, Any], name: str, default: int | None, low: int, high: int) -> Any:
    value = body.get(name, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise FaultSpecError(f"{name} must be an integer from {low} to {high}")
    return value


def _number(body: dict[str, Any], name: str, default: float, low: float, high: float) -> float:
    value = body.get(name, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or not low <= value <= high:
        raise FaultSpecError(f"{name} must be a number from {low} to {high}")
    return float(value)


class FaultBook:
    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def arm(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first armed fault matching the request, used up by one."""
        for fault in self.faults:
            if fault.matches(method, path):
                fault.times -= 1
                fault.triggered += 1
                return fault
        return None

    def disarm(self) -> None:
        self.faults.clear()


class RequestStats:
    def __init__(self) -> None:
        self.routes: Counter[str] = Counter()
        self.videos: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.faults_triggered = 0

    def count(self, route: str, video_id: str | None) -> None:
        self.routes[route] += 1
        if video_id is not None:
            self.videos[video_id][route] += 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "total": sum(self.routes.values()),
            "routes": dict(self.routes),
            "videos": {video: dict(counts) for video, counts in self.videos.items()},
            "faults_triggered": self.faults_triggered,
        }

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


def _route_of(router: Router, scope: Scope) -> tuple[str, str | None]:
    """`METHOD /route/{template}` of a request and the video id in its path, if any."""
    method = scope["method"]
    for route in router.routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            template = getattr(route, "path", scope["path"])
            return f"{method} {template}", child.get("path_params", {}).get("video_id")
    return f"{method} (unmatched)", None


class FaultMiddleware:
    """Outermost ASGI layer: counts API requests and applies armed faults to them."""

    def __init__(
        self, app: ASGIApp, router: Router, faults: FaultBook, stats: RequestStats, spoken: SpokenErrors = ()
    ) -> None:
        self.app = app
        self.router = router
        self.faults = faults
        self.stats = stats
        self.spoken = spoken

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_"):
            await self.app(scope, receive, send)
            return
        self.stats.count(*_route_of(self.router, scope))
        fault = self.faults.take(scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        self.stats.faults_triggered += 1
        await self._apply(fault, scope, receive, send)

    async def _apply(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        if fault.kind is FaultKind.STATUS:
            await self._answer_status(fault, scope, receive, send)
        elif fault.kind is FaultKind.DELAY:
            await asyncio.sleep(fault.seconds)
            await self.app(scope, receive, send)
        elif fault.kind is FaultKind.RESET:
            await _drop(send, reset=True)
        elif fault.kind is FaultKind.MALFORMED:
            await _send_whole(
                send, 200, [(b"content-type", b"application/json")], b'{"id": "video_, "object": '
            )
        elif fault.kind is FaultKind.BODY and fault.body == "half":
            await self.app(scope, receive, _first_half(send))
        elif fault.kind is FaultKind.BODY:
            page = fault.body == "html"
            media_type = b"text/html; charset=utf-8" if page else b"video/mp4"
            await _send_whole(send, 200, [(b"content-type", media_type)], _ERROR_PAGE if page else b"")
        elif fault.kind is FaultKind.TRUNCATE:
            await self.app(scope, receive, _halving(send, None))
        else:
            await self.app(scope, receive, _halving(send, fault.seconds))

    async def _answer_status(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        for prefix, render in self.spoken:
            if path == prefix or path.startswith(prefix + "/"):
                error = EngineError(fault.status, INJECTED, retry_after=fault.retry_after)
                await render(error)(scope, receive, send)
                return
        headers = [(b"content-type", b"application/json")]
        if fault.retry_after is not None:
            headers.append((b"retry-after", str(fault.retry_after).encode()))
        body = json.dumps(error_body(INJECTED, "server_error", None, "injected_fault")).encode()
        await _send_whole(send, fault.status, headers, body)


async def _send_whole(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ConnectionDroppedError(Exception):
    """Raised where the server offers no transport to reset; the server then drops the connection."""


async def _drop(send: Send, *, reset: bool) -> None:
    """Closes the connection under uvicorn (its `send` is bound to a cycle holding the transport):
    with a TCP reset, or with a plain close that leaves what was sent readable."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionDroppedError
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
    # Let the server see the connection lost, so it sends nothing more and logs no error.
    await asyncio.sleep(0)


def _halving(send: Send, pause: float | None) -> Send:
    """Sends the first half of the announced body, then drops the connection (`pause` None) or waits
    `pause` seconds and sends the rest."""
    announced = sent = 0
    halved = False

    async def wrapped(message: Message) -> None:
        nonlocal announced, sent, halved
        if message["type"] == "http.response.start":
            announced = int(dict(message.get("headers", [])).get(b"content-length", b"0"))
            await send(message)
            return
        body: bytes = message.get("body", b"")
        budget = announced // 2 - sent
        if halved or len(body) < budget:
            if not (halved and pause is None):
                sent += len(body)
                await send(message)
            return
        await send({"type": "http.response.body", "body": body[:budget], "more_body": True})
        halved = True
        if pause is None:
            await _drop(send, reset=False)
            return
        await asyncio.sleep(pause)
        await send({**message, "body": body[budget:]})

    return wrapped


def _first_half(send: Send) -> Send:
    """Sends the first half of the answer's body as a whole answer (its Content-Length halved)."""
    left = 0
    done = False

    async def wrapped(message: Message) -> None:
        nonlocal left, done
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers", []))
            left = int(headers.get(b"content-length", b"0")) // 2
            headers[b"content-length"] = str(left).encode()
            await send({**message, "headers": list(headers.items())})
            return
        if done:
            return
        body: bytes = message.get("body", b"")[:left]
        left -= len(body)
        done = left <= 0 or not message.get("more_body", False)
        await send({"type": "http.response.body", "body": body, "more_body": not done})

    return wrapped
