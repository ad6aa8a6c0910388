"""The same flow against a real OpenAI-compatible upstream, when one is configured:
UPSTREAM_BASE_URL (…/v1) and UPSTREAM_API_KEY. Skipped otherwise."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai import OpenAI

from tests.media import jpeg_size, probe_mp4
from tests.support import free_port, running, serve_args

UPSTREAM = {name: os.environ.get(name, "") for name in ("UPSTREAM_BASE_URL", "UPSTREAM_API_KEY")}
KEY = "sk-e2e-real-upstream-key-0123456789"

pytestmark = pytest.mark.skipif(
    not all(UPSTREAM.values()), reason="set UPSTREAM_BASE_URL and UPSTREAM_API_KEY"
)


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenAI]:
    data: Path = tmp_path_factory.mktemp("real-upstream")
    ports = (free_port(), free_port(), free_port())
    port = ports[0]
    args = serve_args(ports, KEY, data, fast=False)
    with (
        running(args, f"http://127.0.0.1:{port}/openapi.json", data / "serve.log", env=UPSTREAM),
        OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY, max_retries=0, timeout=120) as client,
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
