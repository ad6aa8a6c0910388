"""GET one video and GET the owner's list, on both surfaces; the record is the only source."""

from __future__ import annotations

import time

import pytest

from tests.apigw import http_event, invoke
from tests.integration.api.contract import assert_error
from tests.integration.api.stack import Stack
from tests.support import HTTP
from videos_core.adapters.dynamodb import to_item
from videos_core.auth import hash_key

UNKNOWN = "vid_01JDQ2X8Y3K4M5N6P7Q8R9S0TV"


@pytest.mark.parametrize("path", ["/api/videos/{}", "/v1/videos/{}"])
def test_get_reads_the_record_and_never_the_upstream(stack: Stack, engine_url: str, path: str) -> None:
    video_id = stack.seed_video("alice", status="in_progress", progress=40)
    calls = HTTP.get(f"{engine_url}/_stats").json()["total"]

    response = invoke("get", http_event("get", path=path.format(video_id), key=stack.keys["alice"]))

    assert response.status == 200
    video = response.json()
    assert (video["id"], video["status"], video["progress"], video["object"]) == (
        video_id,
        "in_progress",
        40,
        "video",
    )
    assert HTTP.get(f"{engine_url}/_stats").json()["total"] == calls


def test_a_request_records_its_keys_last_use_under_the_functions_own_grant(stack: Stack) -> None:
    """A read-only function may update a key's last use alone, and only by an update that says it wants
    nothing back (ReturnValues NONE, stated: IAM does not judge the default as if it were sent)."""
    key = stack.add_key("alice")

    response = invoke("get", http_event("get", path=f"/v1/videos/{UNKNOWN}", key=key))

    assert response.status == 404
    item = stack.dynamodb.get_item(TableName=stack.keys_table, Key=to_item({"key_hash": hash_key(key)}))
    assert time.time() - int(item["Item"]["last_used_at"]["N"]) < 60


def test_a_failed_video_shows_its_error(stack: Stack) -> None:
    video_id = stack.seed_video("alice", status="failed")

    video = invoke("get", http_event("get", path=f"/v1/videos/{video_id}", key=stack.keys["alice"])).json()

    assert video["status"] == "failed"
    assert video["error"] == {"code": "video_generation_failed", "message": "It failed."}


@pytest.mark.parametrize(
    "video_id",
    [
        UNKNOWN,
        "vid_short",
        "video_abc",
        "VID_01JDQ2X8Y3K4M5N6P7Q8R9S0TV",
        "vid_01jdq2x8y3k4m5n6p7q8r9s0tv",
        "vid_81JDQ2X8Y3K4M5N6P7Q8R9S0TV",
        "%00",
    ],
)
@pytest.mark.parametrize("surface", ["/api/videos", "/v1/videos"])
def test_unknown_and_malformed_ids_are_the_same_404(stack: Stack, surface: str, video_id: str) -> None:
    event = http_event("get", path=f"{surface}/{video_id}", key=stack.keys["alice"])

    assert_error(invoke("get", event), 404, "video_not_found", event, param="video_id")


def test_another_owners_video_is_404_exactly_as_an_unknown_one(stack: Stack) -> None:
    video_id = stack.seed_video("alice")
    theirs = http_event("get", path=f"/v1/videos/{video_id}", key=stack.keys["bob"])
    unknown = http_event("get", path=f"/v1/videos/{UNKNOWN}", key=stack.keys["bob"])

    mine = assert_error(invoke("get", theirs), 404, "video_not_found", theirs)
    other = assert_error(invoke("get", unknown), 404, "video_not_found", unknown)

    assert mine["message"].replace(video_id, "X") == other["message"].replace(UNKNOWN, "X")


SEND_A_KEY = "Send your API key as 'Authorization: Bearer <key>'."
INVALID_KEY = "The API key is not valid."


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, SEND_A_KEY),
        ("", SEND_A_KEY),
        ("Bearer", SEND_A_KEY),
        ("Basic c2stdGVzdDp4", SEND_A_KEY),
        # Sent as asked, but no key: not told to send it as it was sent.
        ("Bearer sk-bad", INVALID_KEY),
        ("Bearer sk-with a space-0000000", INVALID_KEY),
        ("bearer sk-lowercase-scheme-000000", INVALID_KEY),
    ],
)
@pytest.mark.parametrize("surface", ["/api/videos", "/v1/videos"])
def test_a_missing_or_malformed_key_is_401_saying_which(
    stack: Stack, surface: str, authorization: str | None, message: str
) -> None:
    event = http_event("get", path=f"{surface}/{UNKNOWN}", headers={"authorization": authorization})

    body = assert_error(invoke("get", event), 401, "unauthorized", event)

    assert body["message"] == message


def test_unknown_and_revoked_keys_are_401(stack: Stack) -> None:
    revoked = stack.add_key("alice", revoked=True)
    for key in ("sk-unknown-key-that-was-never-issued", revoked):
        event = http_event("get", key=key)
        assert_error(invoke("get", event), 401, "unauthorized", event)


def seed_many(stack: Stack, owner: str, count: int) -> list[str]:
    base = int(time.time()) - count
    return [stack.seed_video(owner, created_at=base + i) for i in range(count)]


def test_the_seed_surface_lists_a_bare_array_newest_first(stack: Stack) -> None:
    ids = seed_many(stack, "alice", 3)

    response = invoke(
        "list",
        http_event(
            "list", path="/api/videos", route_key="GET /api/videos", key=stack.keys["alice"], query={}
        ),
    )

    assert response.status == 200
    assert [video["id"] for video in response.json()] == ids[::-1]


def test_the_v1_surface_lists_a_page(stack: Stack) -> None:
    ids = seed_many(stack, "alice", 3)

    page = invoke("list", http_event("list", key=stack.keys["alice"], query={"limit": "2"})).json()

    assert page["object"] == "list"
    assert [video["id"] for video in page["data"]] == ids[:0:-1]
    assert (page["first_id"], page["last_id"], page["has_more"]) == (ids[2], ids[1], True)


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_paging_with_after_walks_every_video_once(stack: Stack, order: str) -> None:
    ids = seed_many(stack, "alice", 7)
    seen: list[str] = []
    after: str | None = None
    while True:
        query = {"limit": "3", "order": order} | ({"after": after} if after else {})
        page = invoke("list", http_event("list", key=stack.keys["alice"], query=query)).json()
        seen += [video["id"] for video in page["data"]]
        if not page["has_more"]:
            break
        after = page["last_id"]

    assert seen == (ids if order == "asc" else ids[::-1])


def test_an_owner_lists_only_their_own_videos(stack: Stack) -> None:
    seed_many(stack, "alice", 2)
    bobs = seed_many(stack, "bob", 1)

    page = invoke("list", http_event("list", key=stack.keys["bob"], query={})).json()

    assert [video["id"] for video in page["data"]] == bobs


def test_limit_0_answers_no_videos_but_whether_there_are_any(stack: Stack) -> None:
    """The spec allows 0 to 100."""
    empty = invoke("list", http_event("list", key=stack.keys["alice"], query={"limit": "0"})).json()
    seed_many(stack, "alice", 1)

    page = invoke("list", http_event("list", key=stack.keys["alice"], query={"limit": "0"})).json()

    assert (empty["data"], empty["has_more"]) == ([], False)
    assert (page["data"], page["first_id"], page["has_more"]) == ([], None, True)


def test_an_empty_list(stack: Stack) -> None:
    page = invoke("list", http_event("list", key=stack.keys["alice"], query={})).json()

    assert page == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ({"limit": "-1"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "1.5"}, "limit"),
        ({"order": "newest"}, "order"),
        ({"after": "not-an-id"}, "after"),
        ({"page": "2"}, "page"),
    ],
)
@pytest.mark.parametrize("surface", ["/api/videos", "/v1/videos"])
def test_bad_list_queries_are_400_invalid_request(
    stack: Stack, surface: str, query: dict[str, str], param: str
) -> None:
    event = http_event("list", path=surface, route_key=f"GET {surface}", key=stack.keys["alice"], query=query)

    assert_error(invoke("list", event), 400, "invalid_request", event, param=param)
