"""Upstream status calls for one job while 1 and 50 clients wait for it, against `serve --fast`,
beside the seed's design, where each waiting client's request asks the upstream itself.

The engine's /_stats counts the status requests it receives for the job. Here the state machine is
the only thing that asks the upstream, on the backoff schedule, so the count must not depend on how
many clients wait (GET every 200 ms, or the seed's long /poll). The seed-style row has 50 clients
poll the upstream directly on the seed's schedule (5 s, +5 s, at most 20 s), scaled as --fast scales
ours (x 0.1).

    uv run python -m bench.upstream_calls
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
from pathlib import Path

import httpx

from bench.report import Table, publish
from tests.support import serving
from videos_core.backoff import wait_seconds

KEY = "sk-bench-upstream-calls-0123456789"
SCALE = 0.1  # what serve --fast sets BackoffScale to
# 50 clients start their long polls at once: the /poll route's throttle raised as a deployment would.
POLL_RATE = ("--parameter", "PollRequestsPerSecond=100")
CLIENT_INTERVAL = 0.2
RUNS = 3
TERMINAL = ("completed", "failed")


async def follow_with_get(http: httpx.AsyncClient, video_id: str) -> None:
    while (await http.get(f"/v1/videos/{video_id}")).json()["status"] not in TERMINAL:
        await asyncio.sleep(CLIENT_INTERVAL)


async def follow_with_poll(http: httpx.AsyncClient, video_id: str) -> None:
    while (await http.get(f"/api/videos/{video_id}/poll")).status_code == 202:
        pass


async def seed_style(engine: httpx.AsyncClient, upstream_id: str) -> None:
    """The seed's client loop, each request going to the upstream."""
    attempt = 0
    while (await engine.get(f"/v1/videos/{upstream_id}")).json()["status"] not in TERMINAL:
        await asyncio.sleep(wait_seconds(attempt, SCALE))
        attempt += 1


async def case(api: str, engine: str, clients: int, how: str) -> tuple[int, float]:
    """Status requests the engine received for one new job, and how long it took to end."""
    headers = {"Authorization": f"Bearer {KEY}"}
    async with (
        httpx.AsyncClient(base_url=api, headers=headers, timeout=120) as http,
        httpx.AsyncClient(base_url=engine, headers=headers, timeout=120) as upstream,
    ):
        await upstream.delete("/_stats")
        video = (await http.post("/v1/videos", json={"prompt": "A kite over green dunes"})).json()
        started = asyncio.get_running_loop().time()
        if how == "seed":
            upstream_id = await _newest_upstream_job(upstream)
            await asyncio.gather(*(seed_style(upstream, upstream_id) for _ in range(clients)))
        else:
            follow = follow_with_get if how == "get" else follow_with_poll
            await asyncio.gather(*(follow(http, video["id"]) for _ in range(clients)))
        elapsed = asyncio.get_running_loop().time() - started
        await asyncio.sleep(1)  # the state machine's last step after the record ended
        stats = (await upstream.get("/_stats")).json()
    counts = [routes.get("GET /v1/videos/{video_id}", 0) for routes in stats["videos"].values()]
    return sum(counts), elapsed


async def _newest_upstream_job(upstream: httpx.AsyncClient) -> str:
    page = (await upstream.get("/v1/videos", params={"limit": 1, "order": "desc"})).json()
    return str(page["data"][0]["id"])


async def run(api: str, engine: str) -> Table:
    table = Table(
        f"Upstream status calls for one job, median of {RUNS} (serve --fast: a 2 s job, backoff x 0.1)",
        ["clients waiting", "how they wait", "upstream status calls", "job ended after"],
    )
    for clients, how, label in (
        (1, "get", "GET every 200 ms"),
        (50, "get", "GET every 200 ms"),
        (50, "poll", "the seed's /poll (long poll)"),
        (50, "seed", "seed-style: each asks the upstream, 5 s +5 s up to 20 s (x 0.1)"),
    ):
        runs = [await case(api, engine, clients, how) for _ in range(RUNS)]
        calls = statistics.median(calls for calls, _ in runs)
        elapsed = statistics.median(elapsed for _, elapsed in runs)
        table.add(clients, label, f"{calls:g}", f"{elapsed:.1f} s")
    return table


def main() -> None:
    with tempfile.TemporaryDirectory() as data, serving(KEY, Path(data), *POLL_RATE) as service:
        table = asyncio.run(run(service.api, service.engine))
    publish("upstream_calls", table)


if __name__ == "__main__":
    main()
