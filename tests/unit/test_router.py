"""The API functions' resolver: routes by method and path template, the request as handlers read it,
and failures turned into responses."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from tests.apigw import FakeLambdaContext
from videos_core import deadline
from videos_core.http import Api, time_left
from videos_core.router import Resolver, Response
from videos_core.routes import methods_at


def event(method: str, path: str, **extra: Any) -> dict[str, Any]:
    return {
        "rawPath": path,
        "requestContext": {"http": {"method": method}, "requestId": "req-1"},
        "headers": {"Authorization": "Bearer k", "Content-Type": "application/json"},
    } | extra


@pytest.fixture
def app() -> Resolver:
    app = Resolver()

    @app.get("/v1/videos/{video_id}")
    def get(video_id: str) -> Response:
        return Response(200, "application/json", f'{{"id": "{video_id}"}}')

    @app.post("/v1/videos/{video_id}/remix")
    def remix(video_id: str) -> Response:
        raise ValueError(video_id)

    @app.get("/openapi.json")
    def document() -> Response:
        return Response(302, "text/plain", "", {"Location": "/x"})

    app.on_not_found = lambda: Response(404, "application/json", "{}")
    app.on_error = lambda error: Response(500, "text/plain", f"{type(error).__name__}: {error}")
    return app


def test_a_route_gets_its_path_parameters_and_answers_as_lambda_returns_it(app: Resolver) -> None:
    assert app.resolve(event("GET", "/v1/videos/vid_1"), None) == {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": '{"id": "vid_1"}',
        "isBase64Encoded": False,
        "cookies": [],
    }
    assert app.resolve(event("GET", "/openapi.json"), None)["headers"] == {
        "Location": "/x",
        "Content-Type": "text/plain",
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/v1/videos/vid_1"),  # the path, not the method
        ("GET", "/v1/videos/vid_1/extra"),  # a parameter is one segment
        ("GET", "/v1/videos/"),
        ("GET", "/openapi_json"),  # a dot is a dot
    ],
)
def test_anything_else_is_not_found(app: Resolver, method: str, path: str) -> None:
    assert app.resolve(event(method, path), None)["statusCode"] == 404


def test_the_matched_route_is_known_to_the_handler(app: Resolver) -> None:
    app.resolve(event("GET", "/v1/videos/vid_1"), None)
    assert app.current_route == "GET /v1/videos/{video_id}"

    app.resolve(event("GET", "/v1/nothing"), None)
    assert app.current_route is None


def test_a_failing_handler_answers_through_on_error(app: Resolver) -> None:
    result = app.resolve(event("POST", "/v1/videos/vid_9/remix"), None)
    assert (result["statusCode"], result["body"]) == (500, "ValueError: vid_9")


def test_the_request_as_handlers_read_it(app: Resolver) -> None:
    app.resolve(
        event(
            "get", "/v1/videos/vid_1", queryStringParameters={"limit": "2"}, body="e30=", isBase64Encoded=True
        ),
        "context",
    )
    request = app.current_event
    assert (request.http_method, request.raw_path, request.request_id) == ("GET", "/v1/videos/vid_1", "req-1")
    assert request.headers == {"authorization": "Bearer k", "content-type": "application/json"}
    assert request.query_string_parameters == {"limit": "2"}
    assert (request.body, request.is_base64_encoded) == ("e30=", True)
    assert app.lambda_context == "context"


@pytest.mark.parametrize(("remaining_ms", "expected"), [(60_000, 28.0), (10_000, 8.0), (1_000, 0.0)])
def test_time_left_is_within_the_function_limit_and_api_gateway_wait(
    remaining_ms: int, expected: float
) -> None:
    app = Api("get")
    app.lambda_context = FakeLambdaContext(remaining_ms=remaining_ms)

    assert time_left(app) == expected


def test_time_left_ends_before_the_aws_calls_deadline() -> None:
    """A long poll's last read starts before the deadline its AWS clients enforce."""
    app = Api("poll")
    app.lambda_context = FakeLambdaContext(remaining_ms=29_000)
    deadline.start(23)
    try:
        assert 22.4 < time_left(app) <= 22.5
    finally:
        deadline.clear()


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/v1/videos", {"GET", "POST"}),
        ("/v1/videos/vid_1", {"GET", "DELETE"}),
        ("/v1/videos/edits", {"POST"}),  # a literal segment wins over {video_id}, as API Gateway matches
        ("/v1/videos/characters", {"POST"}),
        ("/v1/videos/characters/char_1", {"GET"}),
        ("/v1/videos/vid_1/content", {"GET"}),
        ("/v1/nothing", set()),
    ],
)
def test_the_methods_at_a_path_are_its_most_specific_routes(path: str, methods: set[str]) -> None:
    assert methods_at(path) == methods


def test_a_request_api_gateway_routes_to_a_less_specific_route_is_405_with_the_true_allow() -> None:
    """API Gateway sends GET /v1/videos/edits to GET /v1/videos/{video_id}; edits is no video id."""
    result = Api("get").resolve(event("GET", "/v1/videos/edits"), FakeLambdaContext())

    assert result["statusCode"] == 405
    assert result["headers"]["Allow"] == "POST"


@pytest.mark.parametrize(
    ("function", "method", "path", "status"),
    [
        ("get", "GET", "/v1/videos/edits", 405),
        ("openapi", "PUT", "/v1/videos", 405),
        ("openapi", "GET", "/v2/nothing", 404),
        ("openapi", "OPTIONS", "/v1/nothing", 404),
        ("openapi", "GET", "/openapi.json", 200),
    ],
)
def test_every_answer_carries_the_request_id_where_openais_clients_read_it(
    function: str, method: str, path: str, status: int
) -> None:
    app: Api = importlib.import_module(f"functions.{function}.app").app
    result = app.resolve(event(method, path), FakeLambdaContext())

    assert result["statusCode"] == status
    assert result["headers"]["x-request-id"] == "req-1"


def test_options_on_a_served_path_answers_the_methods_it_serves() -> None:
    """OPTIONS reaches the $default route's function (a browser's CORS preflight too, which API
    Gateway answers itself only when no route matches it): 204, never a 405."""
    result = Api("openapi").resolve(event("OPTIONS", "/v1/videos/vid_1"), FakeLambdaContext())

    assert (result["statusCode"], result["body"]) == (204, "")
    assert result["headers"]["Allow"] == "DELETE, GET, OPTIONS"
