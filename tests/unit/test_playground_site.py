"""How serve hosts the playground: which paths are its own, what its configuration says."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from starlette.requests import Request

from local.playground.site import Playground, playground_config
from videos_core.catalog import Defaults, build_catalog
from videos_core.logic.models import list_models
from videos_core.models.api import MAX_OPENAI_PROMPT_CHARS, ExtensionSeconds

KEY = "sk-unit-key"


def request(method: str, path: str) -> Request:
    return Request({"type": "http", "method": method, "path": path, "query_string": b"", "headers": []})


def models(routes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """GET /v1/videos/models as the functions answer it with these routes deployed, by model."""
    defaults = Defaults("https://up.example/v1", "/videos-api/upstream-api-key", "/videos-api/upstream-keys/")
    listed = list_models(build_catalog(routes, defaults)).model_dump()
    return {card["id"]: card for card in listed["data"]}


def test_the_configuration_is_the_key_alone() -> None:
    """The page reads models, lengths, sizes, limits and prices from the API: no copy here."""
    assert playground_config(KEY) == {"apiKey": KEY}


def test_the_models_the_page_reads_follow_the_routes_and_their_prices() -> None:
    default = models({})
    assert {m: (c["price_per_second"], c["prices_by_size"]) for m, c in default.items()} == {
        "sora-2": ("0.125", {}),
        "sora-2-pro": ("0.40", {}),
    }
    assert default["sora-2"]["max_prompt_chars"] == MAX_OPENAI_PROMPT_CHARS
    assert default["sora-2"]["extension_seconds"] == list(get_args(ExtensionSeconds))
    overridden = models(
        {
            "sora-2": {"base_url": "https://a.example/v1", "prices_by_size": {"1792x1024": "0.2"}},
            "house-1": {
                "base_url": "https://b.example/v1",
                "profile": "vllm-omni",
                "price_per_second": "0.02",
            },
        }
    )
    assert sorted(overridden) == ["house-1", "sora-2"]
    assert overridden["sora-2"]["prices_by_size"] == {"1792x1024": "0.2"}
    assert overridden["house-1"]["price_per_second"] == "0.02"


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
