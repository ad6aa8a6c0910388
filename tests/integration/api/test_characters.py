"""POST /v1/videos/characters and GET /v1/videos/characters/{id}: a character from a name and a video,
made upstream and kept under its owner; a create names it in `characters`."""

from __future__ import annotations

import pytest
from openai import OpenAI

from tests.apigw import http_event, invoke, multipart
from tests.integration.api.contract import assert_error
from tests.integration.api.stack import Stack

PATH = "/v1/videos/characters"


@pytest.fixture(scope="module")
def clip(engine_url: str) -> bytes:
    with OpenAI(base_url=f"{engine_url}/v1", api_key="sk-test", max_retries=0) as engine:
        upstream = engine.videos.create_and_poll(prompt="A gull on a post", poll_interval_ms=100)
        return engine.videos.download_content(upstream.id).content


def character_event(
    stack: Stack, fields: dict[str, str], video: bytes | None, owner: str = "alice"
) -> dict[str, object]:
    files = {"video": ("gull.mp4", video, "video/mp4")} if video is not None else {}
    body, content_type = multipart(fields, files)
    return http_event(
        "create_multipart",
        path=PATH,
        route_key=f"POST {PATH}",
        key=stack.keys[owner],
        body=body,
        content_type=content_type,
    )


def get_event(stack: Stack, character_id: str, owner: str = "alice") -> dict[str, object]:
    event = http_event(
        "get",
        path=f"{PATH}/{character_id}",
        route_key=f"GET {PATH}/{{character_id}}",
        key=stack.keys[owner],
    )
    return event | {"pathParameters": {"character_id": character_id}}


def make(stack: Stack, clip: bytes, name: str = "Captain Gull") -> dict[str, object]:
    response = invoke("create_character", character_event(stack, {"name": name}, clip))
    assert response.status == 200, response.text
    return dict(response.json())


def test_a_character_is_made_and_read_back_by_its_owner_only(stack: Stack, clip: bytes) -> None:
    character = make(stack, clip)

    assert set(character) == {"id", "name", "created_at"}
    assert str(character["id"]).startswith("char_")
    assert character["name"] == "Captain Gull"
    mine = invoke("get_character", get_event(stack, str(character["id"])))
    assert (mine.status, mine.json()) == (200, character)
    theirs = get_event(stack, str(character["id"]), owner="bob")
    assert_error(invoke("get_character", theirs), 404, "character_not_found", theirs)
    unknown = get_event(stack, "char_01JDQ2X8Y3K4M5N6P7Q8R9S0TV")
    assert_error(invoke("get_character", unknown), 404, "character_not_found", unknown)


@pytest.mark.parametrize(
    ("fields", "video", "param"),
    [
        ({"name": ""}, True, "name"),
        ({"name": "x" * 81}, True, "name"),
        ({}, True, "name"),
        ({"name": "No video"}, False, "video"),
        ({"name": "Not a video"}, None, "video"),
    ],
)
def test_what_makes_no_character_is_400(
    stack: Stack, clip: bytes, fields: dict[str, str], video: bool | None, param: str
) -> None:
    content = clip if video else (None if video is False else b"\x00\x00\x00\x18notavideo" * 8)
    event = character_event(stack, fields, content)

    response = invoke("create_character", event)

    assert response.status == 400, response.text
    assert response.json()["error"]["param"] == param


def test_a_create_names_characters_in_json_or_as_form_fields(stack: Stack, clip: bytes) -> None:
    character = make(stack, clip)
    as_json = http_event(
        "create_json",
        key=stack.keys["alice"],
        body={"prompt": "Captain Gull at sea", "characters": [{"id": character["id"]}]},
    )
    body, content_type = multipart(
        {"prompt": "Captain Gull ashore", "characters[][id]": str(character["id"])}, {}
    )
    as_form = http_event("create_multipart", key=stack.keys["alice"], body=body, content_type=content_type)
    theirs = http_event(
        "create_json", key=stack.keys["bob"], body={"prompt": "x", "characters": [{"id": character["id"]}]}
    )

    assert invoke("create", as_json).status == 200
    assert invoke("create", as_form).status == 200
    assert_error(invoke("create", theirs), 404, "character_not_found", theirs)
