"""The local gateway waits for a function as API Gateway does: at most its integration timeout, then
503, while the function goes on to its own end and is logged then."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from local.serve.application import LocalFunction, load_application
from local.serve.gateway import Gateway
from local.serve.workers import Functions, Invocation
from local.template import application_template


class SlowFunctions(Functions):
    """Every function answers 200 after `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__({}, [])
        self.seconds = seconds

    def invoke(self, name_or_arn: str, event: Any) -> Invocation:
        time.sleep(self.seconds)
        return Invocation({"statusCode": 200, "body": "done"}, None, "", cold=False, seconds=self.seconds)


def answer(seconds: float, timeout: float) -> tuple[httpx.Response, list[str], threading.Event]:
    application = load_application(application_template(), {"UpstreamBaseUrl": "http://127.0.0.1:9/v1"}, {})
    logged: list[str] = []
    finished = threading.Event()

    def log(function: LocalFunction, invocation: Invocation) -> None:
        logged.append(function.logical_id)
        finished.set()

    gateway = Gateway(application, SlowFunctions(seconds), log, integration_timeout=timeout)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await gateway(Request(scope, receive))
        await response(scope, receive, send)

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
            response = await http.get("/openapi.json")
            await asyncio.sleep(seconds)  # the loop runs on while the function finishes
            return response

    return asyncio.run(get()), logged, finished


def test_a_function_answering_in_time_is_passed_through() -> None:
    response, logged, _ = answer(seconds=0.05, timeout=1.0)

    assert (response.status_code, response.text) == (200, "done")
    assert logged == ["OpenApiFunction"]


def test_a_function_past_the_integration_timeout_is_503_and_still_logged_when_it_ends() -> None:
    started = time.monotonic()
    response, logged, finished = answer(seconds=0.6, timeout=0.2)

    assert response.status_code == 503
    assert response.json() == {"message": "Service Unavailable"}
    assert finished.wait(5)
    assert logged == ["OpenApiFunction"]
    assert time.monotonic() - started < 3
