"""The engine's Runway dialect driven by Runway's official SDK, runwayml, pointed at the engine with
`base_url` (the SDK puts `/v1/...` after it and sends `X-Runway-Version` itself): a task walked from
PENDING through RUNNING to SUCCEEDED, its signed output downloaded, an image started from, Runway's
validation refusal, failures with their failureCode, and a cancel."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import runwayml.lib.polling
from runwayml import BadRequestError, NotFoundError, RunwayML, TaskFailedError

from tests.media import png_bytes, probe_mp4
from tests.support import HTTP

PROMPT = "A paper boat drifting down a rain gutter"


@pytest.fixture
def runway(engine_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunwayML]:
    # The SDK's wait polls every 6 s (± 1.5 s); the engine's jobs take about a second.
    monkeypatch.setattr(runwayml.lib.polling, "POLL_TIME", 0.1)
    monkeypatch.setattr(runwayml.lib.polling, "POLL_JITTER", 0)
    with RunwayML(api_key="sk-test", base_url=f"{engine_url}/runway", max_retries=0, timeout=30) as client:
        yield client


def test_a_text_to_video_task_runs_to_succeeded_and_its_output_downloads(runway: RunwayML) -> None:
    created = runway.text_to_video.create(model="gen4.5", prompt_text=PROMPT, ratio="720:1280", duration=2)
    seen, deadline = [], time.monotonic() + 30
    while time.monotonic() < deadline:
        task = runway.tasks.retrieve(created.id)
        seen.append((task.status, getattr(task, "progress", None)))
        if task.status not in ("PENDING", "THROTTLED", "RUNNING"):
            break
        time.sleep(0.05)

    walked = [status for n, (status, _) in enumerate(seen) if n == 0 or seen[n - 1][0] != status]
    assert walked in (["PENDING", "RUNNING", "SUCCEEDED"], ["RUNNING", "SUCCEEDED"])
    running = [progress for status, progress in seen if status == "RUNNING"]
    assert running
    assert all(p is not None and 0 < p <= 1 for p in running)
    assert task.status == "SUCCEEDED"
    assert task.cost.credits == 24  # gen4.5: 12 credits a second
    facts = probe_mp4(HTTP.get(task.output[0], timeout=30).content)
    assert (facts.width, facts.height) == (720, 1280)
    assert facts.duration == pytest.approx(2, abs=0.2)
    # The output is a signed URL that needs no key; a forged signature is refused.
    forged = HTTP.get(task.output[0][:-4] + ("0000" if not task.output[0].endswith("0000") else "1111"))
    assert forged.status_code == 403


def test_an_image_to_video_task_starts_from_the_data_uri(runway: RunwayML) -> None:
    image = "data:image/png;base64," + base64.b64encode(png_bytes(960, 960, (20, 20, 220))).decode()
    created = runway.image_to_video.create(
        model="gen4_turbo", prompt_image=image, ratio="960:960", duration=3
    )
    task = created.wait_for_task_output(timeout=30)

    assert task.status == "SUCCEEDED"
    assert task.cost.credits == 15  # gen4_turbo: 5 credits a second
    facts = probe_mp4(HTTP.get(task.output[0], timeout=30).content)
    assert (facts.width, facts.height) == (960, 960)
    assert facts.duration == pytest.approx(3, abs=0.2)


def refused(create: Callable[[], object]) -> dict[str, Any]:
    """The first issue of the 400 Runway answered a create with."""
    with pytest.raises(BadRequestError) as refusal:
        create()
    body = refusal.value.body
    assert isinstance(body, dict)
    assert body["error"] == "Validation of body failed"
    issue: dict[str, Any] = body["issues"][0]
    return issue


def test_runway_validates_model_ratio_duration_and_prompt_as_runway_does(runway: RunwayML) -> None:
    create: Any = runway.text_to_video.create  # called with what its types rule out

    ratio = refused(lambda: create(model="gen4.5", prompt_text=PROMPT, ratio="960:960", duration=5))
    assert ratio["path"] == ["ratio"]
    assert "'1280:720'" in ratio["message"]
    duration = refused(lambda: create(model="veo3.1", prompt_text=PROMPT, ratio="1280:720", duration=5))
    assert duration["path"] == ["duration"]
    too_long = refused(lambda: create(model="gen4.5", prompt_text="x" * 1001, ratio="1280:720", duration=5))
    assert too_long["path"] == ["promptText"]
    image_only = refused(lambda: create(model="gen4_turbo", prompt_text=PROMPT, ratio="1280:720", duration=5))
    assert image_only["path"] == ["model"]
    unversioned = HTTP.post(
        f"{runway.base_url}v1/text_to_video",
        headers={"Authorization": "Bearer sk-test"},
        json={"model": "gen4.5", "promptText": PROMPT, "ratio": "1280:720", "duration": 5},
    )
    assert unversioned.status_code == 400
    assert "X-Runway-Version" in unversioned.json()["error"]


@pytest.mark.parametrize(
    ("tag", "code"), [("[fail]", "INTERNAL.BAD_OUTPUT.CODE01"), ("[moderation]", "SAFETY.INPUT.TEXT")]
)
def test_a_failed_task_carries_its_failure_code(runway: RunwayML, tag: str, code: str) -> None:
    created = runway.text_to_video.create(
        model="veo3.1_fast", prompt_text=f"{PROMPT} {tag}", ratio="1920:1080", duration=4
    )

    with pytest.raises(TaskFailedError) as failed:
        created.wait_for_task_output(timeout=30)

    details = failed.value.task_details
    assert details.status == "FAILED"
    assert details.failure_code == code
    assert details.failure


def test_deleting_a_running_task_cancels_it_and_deleting_it_again_removes_it(runway: RunwayML) -> None:
    created = runway.text_to_video.create(
        model="gen4.5", prompt_text=f"{PROMPT} [stall]", ratio="1280:720", duration=5
    )

    runway.tasks.delete(created.id)

    assert runway.tasks.retrieve(created.id).status == "CANCELLED"
    runway.tasks.delete(created.id)
    with pytest.raises(NotFoundError):
        runway.tasks.retrieve(created.id)
