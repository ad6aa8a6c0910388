"""Rendering happens off the request path, once per distinct request."""

from __future__ import annotations

import hashlib
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from openai import OpenAI

from tests.support import HTTP


def render_counts(engine_url: str) -> dict[str, Any]:
    counts: dict[str, Any] = HTTP.get(f"{engine_url}/_stats").json()["renders"]
    return counts


def test_identical_requests_share_one_render(engine_url: str, client: OpenAI) -> None:
    prompt = f"A shared render {uuid.uuid4()}"
    before = render_counts(engine_url)

    first = client.videos.create(prompt=prompt)
    second = client.videos.create(prompt=prompt)
    first, second = (client.videos.poll(v.id, poll_interval_ms=100) for v in (first, second))

    after = render_counts(engine_url)
    assert (first.status, second.status) == ("completed", "completed")
    assert after["rendered"] - before["rendered"] == 1
    assert after["cache_hits"] - before["cache_hits"] == 1
    first_bytes = client.videos.download_content(first.id).content
    second_bytes = client.videos.download_content(second.id).content
    assert hashlib.sha256(first_bytes).digest() == hashlib.sha256(second_bytes).digest()


def test_requests_are_answered_while_many_jobs_render(client: OpenAI) -> None:
    run = uuid.uuid4()
    # Twice as many renders as the engine has workers (two): some wait while the others render.
    with ThreadPoolExecutor(4) as pool:
        videos = list(
            pool.map(
                lambda i: client.videos.create(prompt=f"Busy render {run} #{i}", size="1280x720"),
                range(4),
            )
        )

    slowest = 0.0
    for _ in range(10):
        started = time.monotonic()
        client.videos.list(limit=5)
        slowest = max(slowest, time.monotonic() - started)

    # Generous: a list is a few milliseconds; a render blocking the event loop would take seconds.
    assert slowest < 1.0
    finished = [client.videos.poll(v.id, poll_interval_ms=200) for v in videos]
    assert {v.status for v in finished} == {"completed"}
