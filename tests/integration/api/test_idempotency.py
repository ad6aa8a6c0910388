"""Idempotency-Key on create and remix: a repeat replays the first answer and buys no second video."""

from __future__ import annotations

from typing import Any

import pytest

from tests.apigw import http_event, invoke
from tests.integration.api.contract import assert_error
from tests.integration.api.stack import Stack
from tests.support import HTTP


def create(
    stack: Stack, body: dict[str, Any], key: str | None, owner: str = "alice"
) -> tuple[Any, dict[str, Any]]:
    event = http_event("create_json", key=stack.keys[owner], body=body, headers={"idempotency-key": key})
    return invoke("create", event), event


def upstream_creates(engine_url: str) -> int:
    return int(HTTP.get(f"{engine_url}/_stats").json()["routes"].get("POST /v1/videos", 0))


def test_a_repeat_replays_the_first_answer_and_starts_nothing(stack: Stack, engine_url: str) -> None:
    before = upstream_creates(engine_url)

    first, _ = create(stack, {"prompt": "Once only"}, "order-7781")
    second, _ = create(stack, {"prompt": "Once only"}, "order-7781")

    assert (first.status, second.status) == (200, 200)
    assert first.json() == second.json()
    assert upstream_creates(engine_url) - before == 1
    assert stack.dynamodb.scan(TableName=stack.videos_table)["Count"] == 1


def test_the_same_key_with_another_body_is_422(stack: Stack) -> None:
    create(stack, {"prompt": "The first body"}, "order-1")

    response, event = create(stack, {"prompt": "Another body"}, "order-1")

    assert_error(response, 422, "idempotency_key_reused", event, param="Idempotency-Key")
    assert stack.dynamodb.scan(TableName=stack.videos_table)["Count"] == 1


def test_keys_of_different_owners_never_collide(stack: Stack) -> None:
    alices, _ = create(stack, {"prompt": "Same words"}, "shared-key", owner="alice")
    bobs, _ = create(stack, {"prompt": "Same words"}, "shared-key", owner="bob")

    assert alices.json()["id"] != bobs.json()["id"]
    assert stack.record("bob", bobs.json()["id"]) is not None


def test_without_a_key_every_request_is_new(stack: Stack) -> None:
    first, _ = create(stack, {"prompt": "Twice"}, None)
    second, _ = create(stack, {"prompt": "Twice"}, None)

    assert first.json()["id"] != second.json()["id"]


@pytest.mark.parametrize("key", ["", "x" * 256, "spaces are not printable-ascii-only\u00e9"])
def test_a_malformed_key_is_400(stack: Stack, key: str) -> None:
    response, event = create(stack, {"prompt": "Keyed badly"}, key)

    assert_error(response, 400, "invalid_request", event, param="Idempotency-Key")


def test_a_remix_repeat_replays_too(stack: Stack) -> None:
    upstream = stack.engine.videos.create_and_poll(prompt="Remix source", poll_interval_ms=100)
    source = stack.seed_video("alice", upstream_id=upstream.id)

    answers = [
        invoke(
            "remix",
            http_event(
                "remix",
                path=f"/v1/videos/{source}/remix",
                key=stack.keys["alice"],
                body={"prompt": "Again"},
                headers={"idempotency-key": "remix-1"},
            ),
        )
        for _ in range(2)
    ]

    assert [a.status for a in answers] == [200, 200]
    assert answers[0].json()["id"] == answers[1].json()["id"]
