"""The API functions' resolver for HTTP API (payload 2.0) events: routes by method and path template,
the request as the handlers read it, and the answer Lambda returns to API Gateway.

It does what the functions need of Powertools' event handler, whose import (every resolver and
integration it offers) cost each API function about 25 ms of its cold start.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

Handler = TypeVar("Handler", bound=Callable[..., "Response"])
_PARAMETER = re.compile(r"\\\{(\w+)\\\}")


class Response:
    def __init__(
        self,
        status_code: int,
        content_type: str | None = None,
        body: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status_code = status_code
        self.body = body
        self.headers: dict[str, str] = dict(headers or {})
        if content_type is not None:
            self.headers.setdefault("Content-Type", content_type)

    def to_lambda(self) -> dict[str, Any]:
        return {
            "statusCode": self.status_code,
            "headers": self.headers,
            "body": self.body,
            "isBase64Encoded": False,
            "cookies": [],
        }


class Request:
    """The parts of an HTTP API event the functions read (header names lower-cased)."""

    def __init__(self, event: Mapping[str, Any]) -> None:
        context = event.get("requestContext") or {}
        self.raw_path: str = event.get("rawPath") or "/"
        self.http_method: str = (context.get("http") or {}).get("method", "GET").upper()
        self.request_id: str | None = context.get("requestId")
        # The API's own host (a callback URL is made on it).
        self.domain_name: str | None = context.get("domainName")
        self.headers: dict[str, str] = {
            name.lower(): value for name, value in (event.get("headers") or {}).items()
        }
        self.query_string_parameters: dict[str, str] = dict(event.get("queryStringParameters") or {})
        self.body: str | None = event.get("body")
        self.is_base64_encoded: bool = bool(event.get("isBase64Encoded"))


@dataclass(frozen=True)
class _Route:
    key: str
    pattern: re.Pattern[str]
    handler: Callable[..., Response]

    @property
    def method(self) -> str:
        return self.key.split(" ", 1)[0]


class Resolver:
    """Routes a request to the handler of its method and path; `on_error` and `on_not_found` turn
    failures into responses (the contract's error body)."""

    def __init__(self) -> None:
        self._routes: list[_Route] = []
        self.current_event: Request = Request({})
        # The route ("POST /v1/videos/{video_id}/remix") the current request matched.
        self.current_route: str | None = None
        self.lambda_context: Any = None
        self.on_error: Callable[[Exception], Response] = _unhandled
        self.on_not_found: Callable[[], Response] = lambda: Response(404, "application/json", "{}")

    def route(self, method: str, path: str) -> Callable[[Handler], Handler]:
        pattern = re.compile("^" + _PARAMETER.sub(r"(?P<\1>[^/]+)", re.escape(path)) + "$")

        def register(handler: Handler) -> Handler:
            self._routes.append(_Route(f"{method} {path}", pattern, handler))
            return handler

        return register

    def get(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("GET", path)

    def post(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("POST", path)

    def delete(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path)

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        self.current_event, self.lambda_context = Request(event), context
        self.current_route = None
        request = self.current_event
        try:
            for route in self._routes:
                found = route.pattern.match(request.raw_path)
                if found and route.method == request.http_method:
                    self.current_route = route.key
                    return route.handler(**found.groupdict()).to_lambda()
            return self.on_not_found().to_lambda()
        except Exception as e:  # every failure answers in the contract's shape
            return self.on_error(e).to_lambda()


def _unhandled(error: Exception) -> Response:
    raise error
