"""Every endpoint on both surfaces against every way of not being the owner: no key, a malformed
header, an unknown key, a revoked key → 401; another owner's key → 404, exactly as for an unknown
id. Nothing of the owner's video shows in any answer, and no download URL is minted."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.apigw import http_event, invoke
from tests.integration.api.contract import assert_error
from tests.integration.api.stack import Stack
from videos_core.models.api import Variant
from videos_core.routes import ROUTES

SECRET_PROMPT = "The owner's private prompt 7f3a"
BY_ID = [route for route in ROUTES if "{video_id}" in route.path]
COLLECTION = [route for route in ROUTES if route.authenticated and "{video_id}" not in route.path]
BODIES = {"create": {"prompt": "Mine"}, "remix": {"prompt": "Theirs, remixed"}}


def event_for(route: Any, video_id: str, authorization: str | None) -> dict[str, Any]:
    body = BODIES.get(route.function)
    return http_event(
        "create_json" if body else "get",
        path=route.path.replace("{video_id}", video_id),
        route_key=route.key,
        method=route.method,
        body=body if body else None,
        headers={"authorization": authorization},
    )


def credentials(stack: Stack) -> dict[str, str | None]:
    revoked = stack.add_key("alice", revoked=True)
    return {
        "no key": None,
        "malformed header": "Token " + stack.keys["alice"],
        "unknown key": "Bearer sk-never-issued-to-anybody-000000",
        "revoked key": f"Bearer {revoked}",
    }


def assert_nothing_leaks(response: Any, video_id: str, upstream_id: str) -> None:
    assert SECRET_PROMPT not in response.text
    assert upstream_id not in response.text
    assert "location" not in response.headers
    assert "X-Amz" not in response.text
    assert "url" not in json.loads(response.text)
    del video_id


@pytest.mark.parametrize("route", BY_ID, ids=lambda r: r.key)
def test_no_one_but_the_owner_reaches_a_video(stack: Stack, media: dict[Variant, bytes], route: Any) -> None:
    video_id = stack.seed_video(
        "alice", prompt=SECRET_PROMPT, upstream_id="video_upstream_secret_1", assets=media
    )

    for name, authorization in credentials(stack).items():
        event = event_for(route, video_id, authorization)
        response = invoke(route.function, event)
        assert_error(response, 401, "unauthorized", event)
        assert_nothing_leaks(response, video_id, "video_upstream_secret_1")
        assert response.status == 401, name

    event = event_for(route, video_id, f"Bearer {stack.keys['bob']}")
    response = invoke(route.function, event)
    assert_error(response, 404, "video_not_found", event)
    assert_nothing_leaks(response, video_id, "video_upstream_secret_1")
    assert stack.record("alice", video_id) is not None


@pytest.mark.parametrize("route", COLLECTION, ids=lambda r: r.key)
def test_collections_refuse_anyone_without_a_valid_key(stack: Stack, route: Any) -> None:
    for authorization in credentials(stack).values():
        event = event_for(route, "", authorization)
        assert_error(invoke(route.function, event), 401, "unauthorized", event)
    assert stack.dynamodb.scan(TableName=stack.videos_table)["Count"] == 0


@pytest.mark.parametrize("surface", ["/api/videos", "/v1/videos"])
def test_a_list_shows_nothing_of_another_owner(stack: Stack, surface: str) -> None:
    stack.seed_video("alice", prompt=SECRET_PROMPT, upstream_id="video_upstream_secret_2")

    response = invoke(
        "list", http_event("list", path=surface, route_key=f"GET {surface}", key=stack.keys["bob"], query={})
    )

    assert response.status == 200
    assert SECRET_PROMPT not in response.text
    assert "video_upstream_secret_2" not in response.text


def test_the_owner_comes_from_the_key_never_from_the_request(stack: Stack) -> None:
    event = http_event(
        "create_json",
        key=stack.keys["bob"],
        body={"prompt": "Mine", "owner": "alice"},
        headers={"x-owner": "alice", "x-videos-owner": "alice"},
    )

    assert_error(invoke("create", event), 400, "invalid_request", event, param="owner")
    event = http_event(
        "create_json", key=stack.keys["bob"], body={"prompt": "Mine"}, headers={"x-owner": "alice"}
    )
    video = invoke("create", event).json()
    assert stack.record("bob", video["id"]) is not None
    assert stack.record("alice", video["id"]) is None
