"""The upstream adapter against the engine: a caller with a deadline (the webhook, which must answer
before its own time limit) gets a retryable error by then, however slowly the upstream answers."""

from __future__ import annotations

import time

import pytest
from openai import OpenAI

from tests.support import HTTP
from tests.unit.test_domain_rules import BASE_ENV
from videos_core.catalog import build_catalog
from videos_core.errors import UpstreamRetryableError
from videos_core.providers.openai.adapter import OpenAIUpstream
from videos_core.settings import load_settings


def upstream(engine_url: str) -> OpenAIUpstream:
    settings = load_settings(
        BASE_ENV | {"UPSTREAM_BASE_URL": f"{engine_url}/v1", "UPSTREAM_TIMEOUT_SECONDS": "20"}
    )
    catalog = build_catalog({}, settings.catalog_defaults)
    return OpenAIUpstream(settings, lambda: catalog, lambda _: "sk-test", attempts=3)


def arm(engine_url: str, **fault: object) -> None:
    HTTP.post(f"{engine_url}/_faults", json=fault).raise_for_status()


def finished_video(client: OpenAI) -> str:
    return client.videos.create_and_poll(prompt="A kite over green dunes", poll_interval_ms=100).id


def test_a_slow_status_answer_ends_at_the_deadline_not_the_upstream_timeout(
    engine_url: str, client: OpenAI
) -> None:
    video_id = finished_video(client)
    # Given status answers held 5 s each, and a caller with 1.5 s left (the timeout is 20 s)
    arm(engine_url, kind="delay", seconds=5, method="GET", path=f"/v1/videos/{video_id}", times=3)

    started = time.monotonic()
    with pytest.raises(UpstreamRetryableError):
        upstream(engine_url).until(time.monotonic() + 1.5).retrieve("sora-2", video_id)

    # Then the call gives up by the deadline instead of waiting (and retrying) for a minute
    assert 1.3 < time.monotonic() - started < 3


def test_retries_stop_before_the_deadline(engine_url: str, client: OpenAI) -> None:
    video_id = finished_video(client)
    # Given an upstream failing every status call with a 500
    arm(engine_url, kind="status", status=500, method="GET", path=f"/v1/videos/{video_id}", times=10)

    started = time.monotonic()
    with pytest.raises(UpstreamRetryableError):
        upstream(engine_url).until(time.monotonic() + 0.3).retrieve("sora-2", video_id)

    # Then no pause before a retry runs past the deadline
    assert time.monotonic() - started < 0.8


def test_a_download_still_arriving_at_the_deadline_is_a_retryable_error(
    engine_url: str, client: OpenAI
) -> None:
    video_id = finished_video(client)
    # Given a download that sends half its body, then holds the rest for 4 s
    arm(engine_url, kind="pause", seconds=4, method="GET", path=f"/v1/videos/{video_id}/content")

    bounded = upstream(engine_url).until(time.monotonic() + 1.0)
    started = time.monotonic()
    with pytest.raises(UpstreamRetryableError), bounded.open_content("sora-2", video_id, "video") as body:
        b"".join(body.chunks())

    assert time.monotonic() - started < 2


def test_without_a_deadline_the_upstream_timeout_alone_applies(engine_url: str, client: OpenAI) -> None:
    video_id = finished_video(client)
    arm(engine_url, kind="delay", seconds=1, method="GET", path=f"/v1/videos/{video_id}")

    job = upstream(engine_url).retrieve("sora-2", video_id)

    assert job.status == "completed"
