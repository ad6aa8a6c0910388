"""The engine's MiniMax dialect driven over plain HTTP as MiniMax's API reference has it (MiniMax
publishes no Python SDK for it): a task walked through its statuses to Success, its file's download URL
read and the video fetched without the key, a task from a first frame in the frame's shape, refusals as
MiniMax answers them (`base_resp` on an HTTP 200), `[fail]` and `[moderation]` as Fail with their
reasons, the callback's challenge (the end pushed only to a URL that echoed it); then the service's
adapter against the dialect."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.engine.test_provider_adapters import ended, routed
from tests.media import png_bytes, probe_mp4
from tests.support import HTTP
from tests.webhook_receiver import WebhookReceiver
from videos_core.errors import (
    InvalidRequest,
    InvalidVideoDuration,
    InvalidVideoSize,
    UpstreamRateLimited,
)
from videos_core.ports import Reference, UpstreamCreate

PROMPT = "A paper lantern drifting over a night market"
HAILUO = "MiniMax-Hailuo-2.3"
OK = {"status_code": 0, "status_msg": "success"}
# A first frame, and what it is asked to do (the adapter's test asks the same: one render for both).
BLUE_SQUARE = png_bytes(400, 400, (20, 20, 220))
FRAMED = "The blue square wakes"
# The statuses a task reads, in order.
STATUSES = ("Preparing", "Queueing", "Processing", "Success")


@pytest.fixture(scope="module")
def minimax(engine_url: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": "Bearer mm-test"}
    with httpx.Client(base_url=f"{engine_url}/minimax", headers=headers, timeout=30) as client:
        yield client


def created(client: httpx.Client, **fields: Any) -> str:
    """A task made from `fields`: its id."""
    answer = client.post("/v1/video_generation", json=fields)
    assert answer.status_code == 200
    assert answer.json()["base_resp"] == OK
    task_id: str = answer.json()["task_id"]
    return task_id


def walked(client: httpx.Client, task_id: str) -> list[dict[str, Any]]:
    """Each answer a query gave the task, until it ended."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        seen.append(client.get("/v1/query/video_generation", params={"task_id": task_id}).json())
        if seen[-1]["status"] in ("Success", "Fail"):
            break
        time.sleep(0.02)
    return seen


def downloaded(client: httpx.Client, file_id: str) -> tuple[str, bytes]:
    """The file's download URL, and what it serves without the key."""
    answer = client.get("/v1/files/retrieve", params={"file_id": file_id}).json()
    assert answer["base_resp"] == OK
    url: str = answer["file"]["download_url"]
    return url, HTTP.get(url, timeout=30).content


def data_url(image: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(image).decode()


def test_a_task_walks_its_statuses_to_success_and_its_file_downloads_without_the_key(
    minimax: httpx.Client,
) -> None:
    task_id = created(minimax, model=HAILUO, prompt=PROMPT, duration=6, resolution="768P")

    answers = walked(minimax, task_id)

    statuses = [
        a["status"] for n, a in enumerate(answers) if n == 0 or answers[n - 1]["status"] != a["status"]
    ]
    assert statuses[-2:] == ["Processing", "Success"]
    assert [STATUSES.index(status) for status in statuses] == sorted(STATUSES.index(s) for s in statuses)
    done = answers[-1]
    assert (done["task_id"], done["base_resp"]) == (task_id, OK)
    assert (done["video_width"], done["video_height"]) == (1366, 768)
    url, video = downloaded(minimax, done["file_id"])
    facts = probe_mp4(video)
    assert (facts.width, facts.height) == (1366, 768)
    assert facts.duration == pytest.approx(6, abs=0.2)
    assert HTTP.get(url.replace("signature=", "signature=0")).status_code == 403


def test_a_first_frame_makes_the_video_in_its_shape(minimax: httpx.Client) -> None:
    task_id = created(
        minimax,
        model="MiniMax-Hailuo-2.3-Fast",
        prompt=FRAMED,
        first_frame_image=data_url(BLUE_SQUARE),
        resolution="768P",
    )

    done = walked(minimax, task_id)[-1]
    assert (done["status"], done["video_width"], done["video_height"]) == ("Success", 768, 768)
    facts = probe_mp4(downloaded(minimax, done["file_id"])[1])
    assert (facts.width, facts.height) == (768, 768)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"duration": 10, "resolution": "1080P"}, "duration"),
        ({"duration": "6"}, "duration"),
        ({"resolution": "4K"}, "resolution"),
        ({"model": "MiniMax-Hailuo-9"}, "model"),
        ({"model": "MiniMax-Hailuo-2.3-Fast"}, "first_frame_image"),
        ({"model": "MiniMax-Hailuo-02", "resolution": "512P"}, "first_frame_image"),
        ({"prompt": "x" * 2001}, "prompt"),
        ({"prompt": None}, "prompt"),
        ({"first_frame_image": "https://example.com/cat.png"}, "first_frame_image"),
        ({"first_frame_image": data_url(png_bytes(200, 200))}, "first_frame_image"),
        ({"first_frame_image": data_url(png_bytes(1200, 400))}, "first_frame_image"),
        ({"prompt_optimizer": "yes"}, "prompt_optimizer"),
    ],
)
def test_an_invalid_create_is_minimaxs_2013_on_an_http_200(
    minimax: httpx.Client, change: dict[str, Any], named: str
) -> None:
    fields = {"model": HAILUO, "prompt": PROMPT, "duration": 6, "resolution": "768P"} | change

    answer = minimax.post("/v1/video_generation", json={k: v for k, v in fields.items() if v is not None})

    assert answer.status_code == 200
    assert "task_id" not in answer.json()
    refused = answer.json()["base_resp"]
    assert refused["status_code"] == 2013
    assert refused["status_msg"].startswith("invalid params, ")
    assert named in refused["status_msg"]


def test_a_missing_key_is_1004_and_an_unknown_task_or_file_2013(
    minimax: httpx.Client, engine_url: str
) -> None:
    anonymous = HTTP.post(
        f"{engine_url}/minimax/v1/video_generation", json={"model": HAILUO, "prompt": PROMPT}
    )
    unknown_task = minimax.get("/v1/query/video_generation", params={"task_id": "106916112212032"})
    unknown_file = minimax.get("/v1/files/retrieve", params={"file_id": "205258526306433"})

    assert anonymous.status_code == 200
    assert anonymous.json()["base_resp"]["status_code"] == 1004
    assert "Authorization" in anonymous.json()["base_resp"]["status_msg"]
    assert [a.json()["base_resp"]["status_code"] for a in (unknown_task, unknown_file)] == [2013, 2013]


def test_failed_and_moderated_tasks_fail_with_their_reasons(minimax: httpx.Client) -> None:
    failed = created(minimax, model=HAILUO, prompt=f"{PROMPT} [fail]")
    moderated = created(minimax, model=HAILUO, prompt=f"{PROMPT} [moderation]")

    ends = [walked(minimax, task_id)[-1] for task_id in (failed, moderated)]

    assert [end["status"] for end in ends] == ["Fail", "Fail"]
    assert ends[0]["base_resp"] == {"status_code": 0, "status_msg": "Video generation failed."}
    assert ends[1]["base_resp"] == {"status_code": 1026, "status_msg": "input new_sensitive"}
    assert "file_id" not in ends[0]


def test_a_tasks_end_is_pushed_only_to_a_callback_url_that_echoed_the_challenge(
    minimax: httpx.Client,
) -> None:
    echoing, silent = WebhookReceiver(echo="challenge"), WebhookReceiver()
    try:
        fields = {"model": HAILUO, "prompt": PROMPT, "duration": 6, "resolution": "768P"}
        pushed = created(minimax, **fields, callback_url=echoing.url)
        unpushed = created(minimax, **fields, callback_url=silent.url)

        [push] = echoing.for_video(pushed)
        walked(minimax, unpushed)
        time.sleep(0.3)

        challenge = json.loads(echoing.deliveries[0].body)
        assert list(challenge) == ["challenge"]
        body = json.loads(push.body)
        assert (body["task_id"], body["status"], body["base_resp"]) == (pushed, "success", OK)
        assert body["file_id"]
        # Challenged as the task was made, and again as it ended: never pushed.
        assert [list(json.loads(d.body)) for d in silent.deliveries] == [["challenge"], ["challenge"]]
    finally:
        echoing.close()
        silent.close()


def test_the_adapter_creates_downloads_and_fails_as_the_contract_says(engine_url: str) -> None:
    base = f"{engine_url}/minimax"
    routes = {
        "hailuo": {"provider": "minimax", "upstream_model": HAILUO, "base_url": base},
        "hailuo-8s": {"provider": "minimax", "upstream_model": HAILUO, "base_url": base, "seconds": ["8"]},
        "hailuo-fast": {"provider": "minimax", "upstream_model": "MiniMax-Hailuo-2.3-Fast", "base_url": base},
        "hailuo-02": {"provider": "minimax", "upstream_model": "MiniMax-Hailuo-02", "base_url": base},
    }
    square = Reference("square.png", BLUE_SQUARE, "image/png")
    with routed(engine_url, routes) as upstream:
        made = upstream.create(UpstreamCreate(PROMPT, "hailuo", "6", "1366x768"))
        framed = upstream.create(UpstreamCreate(FRAMED, "hailuo-fast", "6", "1366x768", reference=square))
        moderated = upstream.create(UpstreamCreate(f"{PROMPT} [moderation]", "hailuo", "6", "1366x768"))
        failed = upstream.create(UpstreamCreate(f"{PROMPT} [fail]", "hailuo", "6", "1366x768"))
        with pytest.raises(InvalidVideoDuration) as refused:
            upstream.create(UpstreamCreate(PROMPT, "hailuo-8s", "8", "1366x768"))
        with pytest.raises(InvalidVideoDuration):
            upstream.create(UpstreamCreate(PROMPT, "hailuo", "10", "1920x1080"))
        with pytest.raises(InvalidRequest) as text_only:
            upstream.create(UpstreamCreate(PROMPT, "hailuo-fast", "6", "1366x768"))
        with pytest.raises(InvalidVideoSize):
            upstream.create(UpstreamCreate(PROMPT, "hailuo-02", "6", "910x512"))
        with pytest.raises(UpstreamRateLimited) as limited:
            upstream.create(UpstreamCreate(f"{PROMPT} [rate-limit]", "hailuo", "6", "1366x768"))

        assert ended(upstream, "hailuo", made).status == "completed"
        with upstream.open_content("hailuo", made.id, "video") as content:
            facts = probe_mp4(b"".join(content.chunks()))
        assert ended(upstream, "hailuo-fast", framed).status == "completed"
        with upstream.open_content("hailuo-fast", framed.id, "video") as content:
            framed_facts = probe_mp4(b"".join(content.chunks()))
        outcomes = [ended(upstream, "hailuo", job).error for job in (moderated, failed)]
        upstream.delete("hailuo", made.id)
        kept = upstream.retrieve("hailuo", made.id)

    assert (facts.width, facts.height) == (1366, 768)
    # 768P from a square frame: the frame's shape.
    assert (framed_facts.width, framed_facts.height) == (768, 768)
    assert refused.value.param == "seconds"
    assert refused.value.upstream is not None
    assert refused.value.upstream.code == "2013"
    assert text_only.value.param == "input_reference"
    assert limited.value.retry_after == 2
    assert [error.code if error else None for error in outcomes] == [
        "moderation_blocked",
        "video_generation_failed",
    ]
    assert outcomes[0] is not None
    assert "1026" in outcomes[0].message
    assert outcomes[1] is not None
    assert "Video generation failed" in outcomes[1].message
    assert kept.status == "completed"
