"""The prompt scenarios, as the README documents them."""

from __future__ import annotations

import time

import openai
import pytest
from openai import OpenAI

from tests.integration.engine_process import LATENCY


def test_fail_ends_failed_with_video_generation_failed(client: OpenAI) -> None:
    video = client.videos.create_and_poll(prompt="A glass castle [fail]", poll_interval_ms=100)

    assert video.status == "failed"
    assert video.error is not None
    assert video.error.code == "video_generation_failed"
    assert video.error.message
    with pytest.raises(openai.ConflictError):
        client.videos.download_content(video.id)


def test_moderation_ends_failed_with_moderation_blocked(client: OpenAI) -> None:
    video = client.videos.create_and_poll(prompt="Something forbidden [moderation]", poll_interval_ms=100)

    assert video.status == "failed"
    assert video.error is not None
    assert video.error.code == "moderation_blocked"


def test_rate_limit_answers_429_with_retry_after_and_creates_nothing(client: OpenAI) -> None:
    before = {v.id for v in client.videos.list(limit=100)}

    with pytest.raises(openai.RateLimitError) as caught:
        client.videos.create(prompt="Too many [rate-limit]")

    assert caught.value.code == "rate_limit_exceeded"
    assert int(caught.value.response.headers["retry-after"]) >= 1
    assert {v.id for v in client.videos.list(limit=100)} == before


def test_stall_never_finishes(client: OpenAI) -> None:
    video = client.videos.create(prompt="Waiting forever [stall]")
    time.sleep(LATENCY * 2.5)

    video = client.videos.retrieve(video.id)

    assert video.status == "in_progress"
    assert 0 < video.progress < 100
    assert video.completed_at is None


def test_flaky_answers_every_other_status_request_with_500(client: OpenAI) -> None:
    video = client.videos.create(prompt="Unreliable weather [flaky]")
    outcomes = []
    for _ in range(4):
        try:
            client.videos.retrieve(video.id)
            outcomes.append(200)
        except openai.InternalServerError:
            outcomes.append(500)

    assert outcomes == [500, 200, 500, 200]


def test_scenario_tags_are_case_insensitive(client: OpenAI) -> None:
    video = client.videos.create_and_poll(prompt="Shouting [FAIL]", poll_interval_ms=100)

    assert video.status == "failed"
