"""The engine's HTTP API: every provider's dialect (`local.engine.dialects`, each under its own path),
plus `/_faults` and `/_stats` for tests."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from local.engine.dialects import dialects
from local.engine.errors import EngineError, error_body, error_response
from local.engine.faults import FaultBook, FaultMiddleware, FaultSpecError, RequestStats, parse_fault
from local.engine.service import Engine, EngineConfig

log = logging.getLogger("videos_api.engine")

Endpoint = Callable[[Request], Awaitable[Response]]


class _ControlApi:
    """`/_faults`, `/_stats`, `/_videos/{id}` and `/_s3`: what tests use to break the engine, count its
    calls, look at a job without meeting a fault or being counted, and point its Bedrock at their S3."""

    def __init__(self, engine: Engine, faults: FaultBook, stats: RequestStats) -> None:
        self.engine, self.faults, self.stats = engine, faults, stats

    async def arm(self, request: Request) -> Response:
        try:
            fault = self.faults.arm(parse_fault(json.loads(await request.body() or b"null")))
        except (json.JSONDecodeError, FaultSpecError) as e:
            raise EngineError(400, f"Invalid fault: {e}", code="invalid_fault") from e
        return JSONResponse(fault.describe(), 201)

    async def armed(self, _: Request) -> Response:
        return JSONResponse({"faults": [fault.describe() for fault in self.faults.faults if fault.times > 0]})

    async def disarm(self, _: Request) -> Response:
        self.faults.disarm()
        return Response(status_code=204)

    async def read_stats(self, _: Request) -> Response:
        snapshot = self.stats.snapshot()
        renderer = self.engine.renderer
        snapshot["renders"] = {"rendered": renderer.renders, "cache_hits": renderer.cache_hits}
        if self.engine.webhooks is not None:
            snapshot["webhooks"] = vars(self.engine.webhooks.stats)
        return JSONResponse(snapshot)

    async def reset_stats(self, _: Request) -> Response:
        self.stats.reset()
        return Response(status_code=204)

    async def point_s3(self, request: Request) -> Response:
        """Where the Bedrock dialect writes from now on: a test's stack, on an engine shared by tests."""
        given = json.loads(await request.body() or b"null")
        endpoint = given.get("endpoint") if isinstance(given, dict) else None
        if not isinstance(endpoint, str) or not endpoint.startswith("http://"):
            raise EngineError(400, 'Give {"endpoint": "http://host:port"}.', code="invalid_endpoint")
        self.engine.s3_endpoint = endpoint
        return Response(status_code=204)

    async def peek(self, request: Request) -> Response:
        return JSONResponse(self.engine.get(request.path_params["video_id"]).view())

    def routes(self) -> list[Route]:
        return [
            Route("/_faults", self.arm, methods=["POST"]),
            Route("/_faults", self.armed, methods=["GET"]),
            Route("/_faults", self.disarm, methods=["DELETE"]),
            Route("/_stats", self.read_stats, methods=["GET"]),
            Route("/_stats", self.reset_stats, methods=["DELETE"]),
            Route("/_videos/{video_id}", self.peek, methods=["GET"]),
            Route("/_s3", self.point_s3, methods=["PUT"]),
        ]


async def _on_engine_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, EngineError)
    return error_response(exc)


async def _on_http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = "Method not allowed." if exc.status_code == 405 else "Unknown request URL."
    return JSONResponse(error_body(message, "invalid_request_error", None, None), exc.status_code)


async def _on_unexpected(_: Request, exc: Exception) -> Response:
    log.error("unhandled error", exc_info=exc)
    body = error_body("The server had an error while processing your request.", "server_error", None, None)
    return JSONResponse(body, 500)


def create_app(config: EngineConfig) -> ASGIApp:
    engine = Engine(config)
    faults = FaultBook()
    stats = RequestStats()

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await engine.aclose()

    spoken = [route for dialect in dialects().values() for route in dialect.routes(engine, config.api_key)]
    app = Starlette(
        routes=_ControlApi(engine, faults, stats).routes() + spoken,
        exception_handlers={
            EngineError: _on_engine_error,
            HTTPException: _on_http_error,
            Exception: _on_unexpected,
        },
        lifespan=lifespan,
    )
    errors = [(dialect.path, dialect.errors) for dialect in dialects().values() if dialect.errors]
    return FaultMiddleware(app, app.router, faults, stats, errors)
