"""The same flow against a real OpenAI-compatible upstream, when one is configured:
UPSTREAM_BASE_URL (…/v1) and UPSTREAM_API_KEY. Skipped otherwise."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from openai import OpenAI

from tests.media import jpeg_size, probe_mp4
from tests.support import serving

UPSTREAM = {name: os.environ.get(name, "") for name in ("UPSTREAM_BASE_URL", "UPSTREAM_API_KEY")}
KEY = "sk-e2e-real-upstream-key-0123456789"

pytestmark = pytest.mark.skipif(
    not all(UPSTREAM.values()), reason="set UPSTREAM_BASE_URL and UPSTREAM_API_KEY"
)


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenAI]:
    with (
        serving(KEY, tmp_path_factory.mktemp("real-upstream"), fast=False, env=UPSTREAM) as service,
        OpenAI(base_url=f"{service.api}/v1", api_key=KEY, max_retries=0, timeout=120) as client,
    ):
        yield client


@pytest.mark.timeout(1800)
def test_a_real_upstream_video_completes_and_downloads(real: OpenAI) -> None:
    video = real.videos.create_and_poll(
        prompt="A paper boat drifting down a rainy street", seconds="4", poll_interval_ms=5000
    )

    assert video.status == "completed", video.error
    facts = probe_mp4(real.videos.download_content(video.id).content)
    assert facts.duration == pytest.approx(4.0, abs=0.5)
    assert jpeg_size(real.videos.download_content(video.id, variant="thumbnail").content)[0] > 0
