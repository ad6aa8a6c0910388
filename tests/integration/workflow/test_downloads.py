"""A Veo job on the engine's Gemini dialect, whose download is a redirect to a signed storage URL, as
the Gemini API answers: it completes through it; a provider that serves a file that is not a video
(an HTML page, nothing, half an MP4) ends the job failed saying so, its slot and spend given back,
with no traceback in the logs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.integration.workflow.harness import Workflow
from tests.media import probe_mp4
from tests.support import HTTP

STORAGE = "/v1beta/storage/files/*"
STORED = "GET /v1beta/storage/files/{file}"


def veo_job(workflow: Workflow) -> dict[str, Any]:
    return workflow.create("Lanterns over a dark lake", model="veo-3.1", seconds="4", size="1280x720")


def stats(engine_url: str) -> dict[str, Any]:
    answer: dict[str, Any] = HTTP.get(f"{engine_url}/_stats").json()
    return answer


def test_a_gemini_job_completes_through_its_redirected_download(workflow: Workflow, engine_url: str) -> None:
    before = stats(engine_url)["routes"].get(STORED, 0)

    record = workflow.wait_terminal(veo_job(workflow)["id"])

    assert record["status"] == "completed"
    files = workflow.objects(record["video_id"])
    assert set(files) == {"video.mp4", "thumbnail.jpg", "spritesheet.jpg"}
    assert (probe_mp4(files["video.mp4"]).width, probe_mp4(files["video.mp4"]).height) == (1280, 720)
    assert stats(engine_url)["routes"][STORED] == before + 1


def test_a_bad_file_served_once_is_downloaded_again(workflow: Workflow) -> None:
    workflow.arm_upstream(kind="body", body="html", path=STORAGE, times=1)

    record = workflow.wait_terminal(veo_job(workflow)["id"])

    assert record["status"] == "completed"
    probe_mp4(workflow.objects(record["video_id"])["video.mp4"])


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ("html", "it is HTML."),
        ("empty", "it is empty."),
        ("half", "the MP4 is cut short, inside its 'mdat' box"),
    ],
)
def test_a_file_that_is_not_a_video_fails_the_job_saying_so(workflow: Workflow, body: str, what: str) -> None:
    log = workflow.stack.log.directory / "StoreAssetsFunction.log"
    logged = log.stat().st_size if log.exists() else 0
    workflow.arm_upstream(kind="body", body=body, path=STORAGE, times=2)

    video = veo_job(workflow)
    record = workflow.wait_terminal(video["id"])

    assert record["status"] == "failed"
    assert record["error"]["code"] == "video_generation_failed"
    assert record["error"]["message"].startswith(f"The provider's file is not a video: {what}")
    assert workflow.objects(video["id"]) == {}
    assert workflow.slots() == set()
    assert workflow.spent() == Decimal(0)
    [event] = workflow.events_for(video["id"])
    assert event["detail-type"] == "Video Failed"
    assert workflow.wait_execution(video["id"])["status"] == "SUCCEEDED"
    with log.open() as lines:
        lines.seek(logged)
        written = lines.read()
    assert "Traceback" not in written
    assert "ERROR" not in written
