"""The engine's xAI dialect driven in plain HTTP, as xAI's REST documentation sends it (its SDK speaks
gRPC): a deferred request walked from pending through done, its signed video downloaded without the
key, an image started from, each refusal in xAI's `{"code", "error"}` shape and status, `[fail]` and
`[moderation]`, an unknown id, the key's checks, a request read `expired` past its result's lifetime;
then the service's adapter against the dialect."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from local.engine.app import create_app
from local.engine.dialects import xai
from local.engine.service import EngineConfig
from tests.integration.engine.test_provider_adapters import ended, routed
from tests.media import png_bytes, probe_mp4
from tests.support import HTTP
from videos_core.errors import InvalidVideoDuration
from videos_core.ports import Reference, UpstreamCreate

PROMPT = "A paper boat drifting down a rain gutter"
ENDED = ("done", "failed", "expired")


@pytest.fixture
def api(engine_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=f"{engine_url}/xai/v1", headers={"Authorization": "Bearer xai-test"}, timeout=30
    ) as client:
        yield client


def walked(client: httpx.Client | TestClient, request_id: str) -> list[dict[str, Any]]:
    """Each state the request read, polled until it ended."""
    seen, deadline = [], time.monotonic() + 30
    while time.monotonic() < deadline:
        state = client.get(f"/videos/{request_id}").json()
        seen.append(state)
        if state["status"] in ENDED:
            break
        time.sleep(0.05)
    return seen


def test_a_request_runs_from_pending_to_done_and_its_video_downloads_without_the_key(
    api: httpx.Client,
) -> None:
    body = {"model": "grok-imagine-video", "prompt": PROMPT, "duration": 2, "aspect_ratio": "9:16"}
    created = api.post("/videos/generations", json=body)

    assert created.status_code == 200
    seen = walked(api, created.json()["request_id"])
    statuses = [state["status"] for n, state in enumerate(seen) if n == 0 or seen[n - 1] != state]
    assert statuses[0] == "pending"
    assert statuses[-1] == "done"
    progress = [state["progress"] for state in seen if state["status"] == "pending"]
    assert progress == sorted(progress)
    assert any(0 < p < 100 for p in progress)
    done = seen[-1]
    assert done["video"]["duration"] == 2
    assert done["video"]["respect_moderation"] is True
    assert done["usage"]["cost_in_usd_ticks"] == 2 * 5 * 10**8  # $0.05 a second at 480p
    facts = probe_mp4(HTTP.get(done["video"]["url"], timeout=30).content)  # no key sent
    assert (facts.width, facts.height) == (480, 848)  # 9:16 at xAI's default 480p
    assert facts.duration == pytest.approx(2, abs=0.2)
    url = done["video"]["url"]
    forged = HTTP.get(url[:-4] + ("0000" if not url.endswith("0000") else "1111"))
    assert forged.status_code == 403


def test_an_image_starts_the_video_at_its_own_aspect_ratio(api: httpx.Client) -> None:
    image = "data:image/png;base64," + base64.b64encode(png_bytes(300, 300, (20, 20, 220))).decode()
    body = {
        "model": "grok-imagine-video-1.5",
        "prompt": "The blue square comes alive",
        "duration": 1,
        "resolution": "720p",
        "image": {"url": image},
    }
    created = api.post("/videos/generations", json=body)

    done = walked(api, created.json()["request_id"])[-1]
    assert done["status"] == "done"
    assert done["usage"]["cost_in_usd_ticks"] == 14 * 10**8  # $0.14 a second at 720p
    facts = probe_mp4(HTTP.get(done["video"]["url"], timeout=30).content)
    assert (facts.width, facts.height) == (720, 720)


IMAGE = {"url": "data:image/png;base64," + base64.b64encode(png_bytes()).decode()}


@pytest.mark.parametrize(
    ("change", "status", "named"),
    [
        ({"duration": 16}, 400, "duration"),
        ({"duration": "5"}, 422, "duration"),
        ({"aspect_ratio": "5:4"}, 422, "aspect_ratio"),
        ({"resolution": "4k"}, 422, "resolution"),
        ({"resolution": "1080p"}, 400, "1080p"),  # grok-imagine-video makes 480p and 720p
        ({"model": "grok-imagine-video-1.5", "resolution": "1080p", "image": IMAGE}, 400, "1080p"),
        ({"prompt": None}, 422, "prompt"),
        ({"prompt": "x" * 4097}, 400, "4096"),
        ({"image": {"url": "https://example.com/cat.png"}}, 400, "image"),
        ({"image": {"url": "data:image/png;base64,bm90IGFuIGltYWdl"}}, 400, "image"),
        ({"model": "grok-2-video"}, 404, "grok-2-video"),
    ],
)
def test_xai_refuses_each_invalid_field_in_its_shape(
    api: httpx.Client, change: dict[str, Any], status: int, named: str
) -> None:
    body = {"prompt": PROMPT, "duration": 4} | change
    body = {field: value for field, value in body.items() if value is not None}

    refused = api.post("/videos/generations", json=body)

    assert refused.status_code == status
    error = refused.json()
    assert set(error) == {"code", "error"}
    assert error["code"] == ("not-found" if status == 404 else "invalid-argument")
    assert named in error["error"]


def test_a_body_that_is_not_json_is_refused(api: httpx.Client) -> None:
    not_json = api.post("/videos/generations", content=b"{", headers={"Content-Type": "application/json"})
    plain = api.post("/videos/generations", content=b"{}", headers={"Content-Type": "text/plain"})

    assert not_json.status_code == 400
    assert plain.status_code == 415


def test_a_failed_request_carries_xais_error(api: httpx.Client) -> None:
    created = api.post("/videos/generations", json={"prompt": f"{PROMPT} [fail]", "duration": 1})

    failed = walked(api, created.json()["request_id"])[-1]

    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "internal_error"
    assert "Video generation failed" in failed["error"]["message"]
    assert "url" not in failed["video"]


def test_a_moderated_request_is_done_without_its_video(api: httpx.Client) -> None:
    created = api.post("/videos/generations", json={"prompt": f"{PROMPT} [moderation]", "duration": 1})

    done = walked(api, created.json()["request_id"])[-1]

    assert done["status"] == "done"
    assert done["video"] == {"duration": 0, "respect_moderation": False}


def test_an_unknown_request_is_not_found(api: httpx.Client) -> None:
    missing = api.get("/videos/00000000-0000-0000-0000-000000000000")

    assert missing.status_code == 404
    assert missing.json()["code"] == "not-found"


@pytest.fixture
def keyed(tmp_path: Path, render_cache: Path) -> Iterator[TestClient]:
    """An engine of its own, in this process, that takes one key only."""
    config = EngineConfig(data_dir=tmp_path, latency=0.3, api_key="xai-right", render_cache=render_cache)
    with TestClient(create_app(config), base_url="http://testserver/xai/v1") as engine:
        engine.headers["Authorization"] = "Bearer xai-right"
        yield engine


def test_no_bearer_key_is_a_401_and_an_incorrect_one_xais_400(keyed: TestClient) -> None:
    body = {"prompt": PROMPT}

    missing = keyed.post("/videos/generations", json=body, headers={"Authorization": ""})
    basic = keyed.post("/videos/generations", json=body, headers={"Authorization": "Basic eGFpOg=="})
    wrong = keyed.post("/videos/generations", json=body, headers={"Authorization": "Bearer xai-wrong"})

    assert (missing.status_code, missing.json()["code"]) == (401, "unauthenticated")
    assert basic.status_code == 401
    assert (wrong.status_code, wrong.json()["code"]) == (400, "invalid-argument")
    assert wrong.json()["error"].startswith("Incorrect API key provided: xa***ng.")
    assert keyed.get("/videos/anything", headers={"Authorization": "Bearer xai-wrong"}).status_code == 400


def test_a_request_kept_past_its_results_lifetime_reads_expired(
    keyed: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = keyed.post("/videos/generations", json={"prompt": PROMPT, "duration": 1}).json()[
        "request_id"
    ]
    done = walked(keyed, request_id)[-1]
    assert done["status"] == "done"
    url = done["video"]["url"]
    assert keyed.get(url).status_code == 200

    # The result's lifetime (a day) has passed.
    monkeypatch.setattr(xai, "RESULT_LIFETIME_SECONDS", 0)

    assert keyed.get(f"/videos/{request_id}").json() == {"status": "expired", "model": "grok-imagine-video"}
    assert keyed.get(url).status_code == 404


def test_the_adapter_makes_downloads_and_fails_as_the_contract_says(engine_url: str) -> None:
    route = {"provider": "xai", "upstream_model": "grok-imagine-video", "base_url": f"{engine_url}/xai"}
    claims_16s = route | {"seconds": ["16"]}
    red = Reference("red.png", png_bytes(640, 480, (220, 20, 20)), "image/png")
    with routed(engine_url, {"grok": route, "grok-16s": claims_16s}) as upstream:
        made = upstream.create(UpstreamCreate("A heron", "grok", "1", "640x480", reference=red))
        moderated = upstream.create(UpstreamCreate("A heron [moderation]", "grok", "1", "848x480"))
        failed = upstream.create(UpstreamCreate("A heron [fail]", "grok", "1", "848x480"))
        with pytest.raises(InvalidVideoDuration) as refused:
            upstream.create(UpstreamCreate("A heron", "grok-16s", "16", "848x480"))

        assert ended(upstream, "grok", made).status == "completed"
        with upstream.open_content("grok", made.id, "video") as content:
            facts = probe_mp4(b"".join(content.chunks()))
        outcomes = [ended(upstream, "grok", job).error for job in (moderated, failed)]

    assert (facts.width, facts.height) == (640, 480)  # 4:3 at 480p
    assert refused.value.param == "seconds"
    assert refused.value.upstream is not None
    assert refused.value.upstream.code == "invalid-argument"
    assert [error.code if error else None for error in outcomes] == [
        "moderation_blocked",
        "video_generation_failed",
    ]
    assert outcomes[1] is not None
    assert "Video generation failed" in outcomes[1].message
