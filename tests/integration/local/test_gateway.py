"""The local gateway as API Gateway runs an HTTP API: a function waited for at most its integration
timeout (then 503, while the function goes on to its own end and is logged then), its limits, routes
and throttles, its request id on every answer, and the template's CORS configuration."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from local.serve.application import LocalFunction, Throttle, declared_application, load_application
from local.serve.gateway import Gateway, _compile, _TokenBucket
from local.serve.workers import Functions, Invocation
from local.template import application_template
from tests.apigw import invoke


class SlowFunctions(Functions):
    """Every function answers 200 after `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__({}, [])
        self.seconds = seconds

    def invoke(self, name_or_arn: str, event: Any) -> Invocation:
        time.sleep(self.seconds)
        return Invocation({"statusCode": 200, "body": "done"}, None, "", cold=False, seconds=self.seconds)


def answer(seconds: float, timeout: float) -> tuple[httpx.Response, list[str], threading.Event]:
    application = declared_application()
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


class EchoPool:
    """A function pool whose function answers with a body of `answer_bytes` bytes."""

    def __init__(self, answer_bytes: int = 2) -> None:
        self.answer_bytes = answer_bytes
        self.events: list[Any] = []

    def invoke(self, event: Any) -> Invocation:
        self.events.append(event)
        result = {"statusCode": 200, "body": "x" * self.answer_bytes}
        return Invocation(result, None, "", cold=False, seconds=0.0)


def gateway_with(pool: EchoPool, clock: Callable[[], float] = time.monotonic) -> tuple[Gateway, Any]:
    application = declared_application()
    functions = Functions({}, [])
    functions.pools = {function.name: pool for function in application.functions.values()}  # type: ignore[misc]
    gateway = Gateway(application, functions, lambda *_: None, clock=clock)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await gateway(Request(scope, receive))
        await response(scope, receive, send)

    return gateway, app


def post(app: Any, path: str, body: bytes, content_type: str) -> httpx.Response:
    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
            return await http.post(path, content=body, headers={"content-type": content_type})

    return asyncio.run(send())


def test_a_binary_body_lambda_cannot_take_once_base64_encoded_is_413_before_any_function_runs() -> None:
    pool = EchoPool()
    _, app = gateway_with(pool)
    fits = 4 * 1024 * 1024  # 5.3 MiB once base64-encoded
    too_large = 5 * 1024 * 1024  # 6.7 MiB once base64-encoded: under API Gateway's 10 MB, over Lambda's 6 MB

    assert post(app, "/v1/videos", b"\xff" * fits, "application/octet-stream").status_code == 200
    refused = post(app, "/v1/videos", b"\xff" * too_large, "application/octet-stream")

    assert refused.status_code == 413
    assert refused.json() == {"message": "Request Entity Too Large"}
    assert len(pool.events) == 1


def test_a_result_lambda_cannot_return_is_an_integration_error() -> None:
    _, app = gateway_with(EchoPool(answer_bytes=6 * 1024 * 1024 + 200))

    response = post(app, "/v1/videos", b"{}", "application/json")

    assert response.status_code == 500
    assert response.json() == {"message": "Internal Server Error"}


def test_the_most_specific_route_wins_whatever_the_order_routes_were_declared_in() -> None:
    gateway, _ = gateway_with(EchoPool())
    by_path = {route.path: route for route in gateway.routes if route.method == "GET"}
    variable, literal = by_path["/v1/videos/{video_id}"], by_path["/v1/videos/{video_id}/content"]
    greedy = dataclasses.replace(variable, path="/v1/{rest+}", pattern=_compile("/v1/{rest+}"))
    literal_sibling = dataclasses.replace(
        variable, path="/v1/videos/models", pattern=_compile("/v1/videos/models")
    )
    any_method = dataclasses.replace(literal_sibling, method="ANY")
    gateway.routes = [greedy, any_method, variable, literal, literal_sibling]

    assert gateway.match("GET", "/v1/videos/models")[0] is literal_sibling
    assert gateway.match("POST", "/v1/videos/models")[0] is any_method
    assert gateway.match("GET", "/v1/videos/vid_1") == (variable, {"video_id": "vid_1"})
    assert gateway.match("GET", "/v1/videos/vid_1/content")[0] is literal
    assert gateway.match("GET", "/v1/other/deeper") == (greedy, {"rest": "other/deeper"})


def test_each_route_is_throttled_as_the_template_says_and_429_past_its_burst() -> None:
    # Time stands still: no token comes back while the requests are answered, however slowly.
    _, app = gateway_with(EchoPool(), clock=lambda: 0.0)
    application = declared_application()
    poll = application.throttles["GET /api/videos/{video_id}/poll"]
    assert (poll.rate, poll.burst) == (10.0, 10)  # PollRequestsPerSecond's default
    assert application.throttles["$default"].burst == 200

    async def polls(count: int) -> list[int]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
            answers = await asyncio.gather(*(http.get("/api/videos/vid_1/poll") for _ in range(count)))
            other = await http.get("/api/videos/vid_1")
        return [answer.status_code for answer in answers] + [other.status_code]

    statuses = asyncio.run(polls(poll.burst + 5))

    assert statuses[:-1].count(429) == 5
    assert statuses[-1] == 200  # another route has a bucket of its own


def test_a_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    bucket = _TokenBucket(Throttle(rate=2, burst=2), clock=lambda: now[0])

    assert [bucket.take() for _ in range(3)] == [True, True, False]
    now[0] = 0.5
    assert [bucket.take(), bucket.take()] == [True, False]


def request(app: Any, method: str, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
            return await http.request(method, path, headers=headers)

    return asyncio.run(send())


def test_every_answer_carries_the_request_id_its_event_carried_and_the_gateways_own_answers_too() -> None:
    pool = EchoPool()
    _, app = gateway_with(pool)

    answered = request(app, "GET", "/v1/videos")
    refused = post(app, "/v1/videos", b"\xff" * (10 * 1024 * 1024 + 1), "application/octet-stream")

    assert answered.headers["apigw-requestid"] == pool.events[-1]["requestContext"]["requestId"]
    assert refused.status_code == 413
    assert refused.headers["apigw-requestid"]
    assert refused.headers["apigw-requestid"] != answered.headers["apigw-requestid"]
    assert len(pool.events) == 1


ORIGIN = "https://app.example.com"
PREFLIGHT = {
    "origin": ORIGIN,
    "access-control-request-method": "POST",
    "access-control-request-headers": "authorization,content-type",
}


class OpenApiFunction:
    """The API's $default function itself, run in this process as Lambda would run it."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def invoke(self, event: Any) -> Invocation:
        self.events.append(event)
        result = invoke("openapi", event)
        # What a function may say of CORS itself, which API Gateway ignores once CORS is configured.
        headers = result.headers | {"access-control-allow-origin": "https://elsewhere.example"}
        answer = {"statusCode": result.status, "headers": headers, "body": result.text}
        return Invocation(answer, None, "", cold=False, seconds=0.0)


def cors_gateway(origins: str | None) -> tuple[Gateway, Any, OpenApiFunction]:
    """A gateway of the template with `CorsAllowOrigins` (None: the default, no CORS), every route to
    the $default function."""
    parameters = {"UpstreamBaseUrl": "http://127.0.0.1:9/v1"}
    if origins is not None:
        parameters["CorsAllowOrigins"] = origins
    application = load_application(application_template(), parameters, {})
    function = OpenApiFunction()
    functions = Functions({}, [])
    functions.pools = {f.name: function for f in application.functions.values()}  # type: ignore[misc]
    gateway = Gateway(application, functions, lambda *_: None)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await gateway(Request(scope, receive))
        await response(scope, receive, send)

    return gateway, app, function


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name.startswith("access-control-")}


def test_a_preflight_the_default_route_catches_reaches_its_function_and_gets_the_configured_headers() -> None:
    _, app, function = cors_gateway(f"{ORIGIN},http://localhost:5173")

    answer = request(app, "OPTIONS", "/v1/videos", PREFLIGHT)

    # No route is OPTIONS /v1/videos: the $default route (ANY) takes it, as API Gateway routes it.
    assert function.events[-1]["routeKey"] == "$default"
    assert answer.status_code == 204
    assert answer.headers["allow"] == "GET, POST, OPTIONS"
    assert cors_headers(answer) == {
        "access-control-allow-origin": ORIGIN,
        "access-control-allow-methods": "GET,POST,DELETE",
        "access-control-allow-headers": "authorization,*",
        "access-control-max-age": "600",
    }


def test_a_cors_request_gets_the_allowed_origin_and_the_headers_a_page_may_read() -> None:
    _, app, _ = cors_gateway(ORIGIN)

    answer = request(app, "GET", "/openapi.json", {"origin": ORIGIN})

    assert answer.status_code == 200
    assert cors_headers(answer) == {
        "access-control-allow-origin": ORIGIN,
        "access-control-expose-headers": "x-request-id,apigw-requestid,retry-after",
    }


def test_an_origin_not_allowed_gets_no_cors_header_and_the_functions_own_are_dropped() -> None:
    _, app, _ = cors_gateway(ORIGIN)

    preflight = request(app, "OPTIONS", "/v1/videos", PREFLIGHT | {"origin": "https://evil.example"})
    answer = request(app, "GET", "/openapi.json", {"origin": "https://evil.example"})
    same_origin = request(app, "GET", "/openapi.json")

    assert (preflight.status_code, cors_headers(preflight)) == (204, {})
    assert (answer.status_code, cors_headers(answer)) == (200, {})
    assert (same_origin.status_code, cors_headers(same_origin)) == (200, {})


def test_a_preflight_no_route_matches_is_answered_by_the_gateway_without_any_function() -> None:
    gateway, app, function = cors_gateway("*")
    gateway.default = None  # an API without a $default route: OPTIONS /v1/videos matches no route

    answer = request(app, "OPTIONS", "/v1/videos", PREFLIGHT)
    plain_options = request(app, "OPTIONS", "/v1/videos")

    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["access-control-allow-methods"] == "GET,POST,DELETE"
    assert answer.headers["apigw-requestid"]
    assert plain_options.status_code == 404
    assert function.events == []


def test_without_cors_configured_nothing_is_added_nor_dropped() -> None:
    _, app, _ = cors_gateway(None)

    answer = request(app, "OPTIONS", "/v1/videos", PREFLIGHT)

    assert cors_headers(answer) == {"access-control-allow-origin": "https://elsewhere.example"}
