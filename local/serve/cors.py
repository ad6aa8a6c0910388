"""An HTTP API's CORS configuration as API Gateway applies it (the template's `CorsConfiguration`).

What API Gateway documents (developerguide/http-api-cors): a request carries CORS headers back only
when it has an `Origin`; a preflight is an OPTIONS request with `Origin` and
`Access-Control-Request-Method`. API Gateway answers a preflight itself when no route matches the
OPTIONS request; a route that does match it (an `ANY` route, the `$default` route) gets it like any
other request. To every answer of an integration to a CORS request it adds the configured headers,
and it ignores the CORS headers the integration returned. An origin the configuration does not allow
gets no CORS headers at all, so the browser refuses the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import MutableHeaders

WILDCARD = "*"
PREFIX = "access-control-"


@dataclass(frozen=True)
class Cors:
    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    @classmethod
    def from_template(cls, configuration: Any) -> Cors | None:
        """The resolved `CorsConfiguration` of an `AWS::Serverless::HttpApi`: `true` allows every origin
        (as SAM reads it), an object its own lists; absent or false, no CORS."""
        if configuration is True:
            return cls((WILDCARD,))
        if not isinstance(configuration, Mapping):
            return None
        return cls(
            allow_origins=_listed(configuration.get("AllowOrigins")),
            allow_methods=_listed(configuration.get("AllowMethods")),
            allow_headers=_listed(configuration.get("AllowHeaders")),
            expose_headers=_listed(configuration.get("ExposeHeaders")),
            max_age=int(configuration["MaxAge"]) if "MaxAge" in configuration else None,
            allow_credentials=str(configuration.get("AllowCredentials", False)).lower() == "true",
        )

    def allowed_origin(self, origin: str | None) -> str | None:
        """What `Access-Control-Allow-Origin` says to `origin`; None for an origin not allowed."""
        if not origin:
            return None
        if WILDCARD in self.allow_origins:
            return WILDCARD
        return origin if origin in self.allow_origins else None

    def headers(self, request: Mapping[str, str]) -> dict[str, str]:
        """The CORS headers of the answer to a request with `request`'s headers (lower-cased names)."""
        origin = self.allowed_origin(request.get("origin"))
        if origin is None:
            return {}
        headers = {"access-control-allow-origin": origin}
        if self.allow_credentials:
            headers["access-control-allow-credentials"] = "true"
        if is_preflight("OPTIONS", request):
            if self.allow_methods:
                headers["access-control-allow-methods"] = ",".join(self.allow_methods)
            if self.allow_headers:
                headers["access-control-allow-headers"] = ",".join(self.allow_headers)
            if self.max_age is not None:
                headers["access-control-max-age"] = str(self.max_age)
        elif self.expose_headers:
            headers["access-control-expose-headers"] = ",".join(self.expose_headers)
        return headers

    def apply(self, request: Mapping[str, str], answer: MutableHeaders) -> None:
        """An integration's answer as API Gateway sends it on: its own CORS headers dropped, the
        configured ones set."""
        for name in {name for name in answer if name.startswith(PREFIX)}:
            del answer[name]
        answer.update(self.headers(request))


def is_preflight(method: str, request: Mapping[str, str]) -> bool:
    return method == "OPTIONS" and "origin" in request and "access-control-request-method" in request


def _listed(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(item) for item in (value if isinstance(value, list) else [value]))
