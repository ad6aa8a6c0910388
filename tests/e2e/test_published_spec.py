"""/v1's answers against OpenAI's published OpenAPI document (its Videos paths, kept in
tests/spec/openai-videos.openapi.json with where they came from): over real HTTP to `serve`, every
operation answers a status the document declares, in the shape it declares."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from tests.conftest import new_owner_key
from tests.support import Served

SPEC: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "spec" / "openai-videos.openapi.json").read_text()
)
POLL_S = 0.2


def resolved(schema: Any) -> Any:
    """The schema with every `#/components/schemas/…` reference replaced by what it names."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            return resolved(SPEC["components"]["schemas"][ref.rsplit("/", 1)[-1]])
        return {key: resolved(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [resolved(item) for item in schema]
    return schema


def assert_as_published(response: httpx.Response, path: str, method: str) -> dict[str, Any]:
    """The answer's status is one the document declares for the operation, its body that one's shape."""
    declared = SPEC["paths"][path][method]["responses"]
    assert str(response.status_code) in declared, (path, method, response.status_code, response.text)
    schema = declared[str(response.status_code)]["content"]["application/json"]["schema"]
    body: dict[str, Any] = response.json()
    errors = sorted(Draft202012Validator(resolved(schema)).iter_errors(body), key=str)
    assert not errors, (path, method, [e.message for e in errors], body)
    return body


@pytest.fixture
def api(served: Served) -> Iterator[httpx.Client]:
    key = new_owner_key(served, "spec")
    with httpx.Client(
        base_url=f"{served.api}/v1", headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as c:
        yield c


def finished(api: httpx.Client, video: dict[str, Any]) -> dict[str, Any]:
    while video["status"] not in ("completed", "failed"):
        time.sleep(0.2)
        video = assert_as_published(api.get(f"/videos/{video['id']}"), "/videos/{video_id}", "get")
    return video


def test_every_videos_operation_answers_as_the_published_document_declares(api: httpx.Client) -> None:
    created = assert_as_published(api.post("/videos", json={"prompt": "A paper boat"}), "/videos", "post")
    source = finished(api, created)
    assert source["status"] == "completed"

    listed = assert_as_published(api.get("/videos", params={"limit": 0}), "/videos", "get")
    assert (listed["data"], listed["has_more"]) == ([], True)
    assert_as_published(api.get("/videos", params={"limit": 5}), "/videos", "get")
    remix = api.post(f"/videos/{source['id']}/remix", json={"prompt": "At night"})
    assert_as_published(remix, "/videos/{video_id}/remix", "post")
    edit = api.post("/videos/edits", json={"prompt": "In fog", "video": {"id": source["id"]}})
    assert_as_published(edit, "/videos/edits", "post")
    extension = api.post(
        "/videos/extensions", json={"prompt": "On", "seconds": "4", "video": {"id": source["id"]}}
    )
    assert assert_as_published(extension, "/videos/extensions", "post")["seconds"] == "8"

    clip = api.get(f"/videos/{source['id']}/content", follow_redirects=True).content
    character = api.post(
        "/videos/characters", data={"name": "Paper Boat"}, files={"video": ("b.mp4", clip, "video/mp4")}
    )
    made = assert_as_published(character, "/videos/characters", "post")
    fetched = api.get(f"/videos/characters/{made['id']}")
    assert assert_as_published(fetched, "/videos/characters/{character_id}", "get") == made

    snapshot = api.post("/videos", json={"prompt": "Dated", "model": "sora-2-2025-12-08"})
    assert assert_as_published(snapshot, "/videos", "post")["model"] == "sora-2-2025-12-08"
    deleted = api.delete(f"/videos/{snapshot.json()['id']}")
    assert assert_as_published(deleted, "/videos/{video_id}", "delete")["deleted"] is True
