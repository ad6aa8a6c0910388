"""How serve hosts the playground: which paths are its own, what its configuration says."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from local.playground.site import Playground, playground_config
from videos_core.catalog import Defaults, build_catalog
from videos_core.models.api import MAX_OPENAI_PROMPT_CHARS

KEY = "sk-unit-key"


def request(method: str, path: str) -> Request:
    return Request({"type": "http", "method": method, "path": path, "query_string": b"", "headers": []})


def config(routes: object) -> dict[str, object]:
    defaults = Defaults("https://up.example/v1", "/videos-api/upstream-api-key", "/videos-api/upstream-keys/")
    return playground_config(build_catalog(routes, defaults), KEY)


def test_the_configuration_follows_the_routes_and_their_prices() -> None:
    assert config({}) == {
        "apiKey": KEY,
        "models": ["sora-2", "sora-2-pro"],
        "prices": {"sora-2": {"*": "0.125"}, "sora-2-pro": {"*": "0.40"}},
        "maxPromptChars": MAX_OPENAI_PROMPT_CHARS,
    }
    routed = config(
        {
            "sora-2": {"base_url": "https://a.example/v1", "prices_by_size": {"1792x1024": "0.2"}},
            "house-1": {
                "base_url": "https://b.example/v1",
                "profile": "vllm-omni",
                "price_per_second": "0.02",
            },
        }
    )
    assert routed["models"] == ["house-1", "sora-2"]
    assert routed["prices"] == {
        "sora-2": {"*": "0.125", "1792x1024": "0.2"},
        "house-1": {"*": "0.02"},
    }


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("GET", "/", "text/html; charset=utf-8"),
        ("HEAD", "/", "text/html; charset=utf-8"),
        ("GET", "/playground/app.js", "text/javascript; charset=utf-8"),
        ("GET", "/playground/style.css", "text/css; charset=utf-8"),
        ("GET", "/playground/icon.svg", "image/svg+xml"),
        ("GET", "/playground/config.json", "application/json"),
    ],
)
def test_the_playgrounds_own_paths(method: str, path: str, content_type: str) -> None:
    response = Playground({"apiKey": KEY}, "http://127.0.0.1:4566").answer(request(method, path))
    assert response is not None
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert "media-src 'self' http://127.0.0.1:4566" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/"),
        ("DELETE", "/playground/app.js"),
        ("GET", "/playground/"),
        ("GET", "/playground/site.py"),
        ("GET", "/playground/../site.py"),
        ("GET", "/playground/static/app.js"),
        ("GET", "/v1/videos"),
        ("GET", "/index.html"),
    ],
)
def test_everything_else_is_left_to_the_api(method: str, path: str) -> None:
    assert Playground({}, "http://127.0.0.1:4566").answer(request(method, path)) is None
