"""Load: 500 jobs created by 50 concurrent clients within 60 s against `serve --fast` (loopback only),
with the GET, list and poll traffic those clients make while they follow their jobs; then a burst
from one client past its running-jobs quota.

Each client is its own owner (its own key) and creates its 10 jobs spread over the minute, listing
its videos after each create and following each job with GET until it ends, then asking /poll for
the final record. A handful of distinct prompts let the engine's render cache carry the media.
Reported: throughput, p50/p95/p99 per endpoint, every status seen, jobs lost (must be 0: every accepted job
reaches a terminal state within 5 minutes and is in its owner's list), and that the burst is
answered 429 with Retry-After, never 5xx (its accepted jobs stall upstream and are deleted).

    uv run python -m bench.load [--clients 50] [--jobs-per-client 10] [--window 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.cpu import CLIENTS, cpu_seconds
from bench.report import Table, publish
from bench.upstream_calls import POLL_RATE
from local.keys import create_key
from local.serve.aws_endpoint import client as aws_client
from tests.support import serving

PROMPTS = [
    "A paper boat drifting down a rainy street",
    "A lighthouse in a storm at night",
    "A kite over green dunes",
    "A glass of water on a windowsill at dawn",
    "A red fox crossing a snowy field",
]
TERMINAL_DEADLINE = 300.0
FOLLOW_INTERVAL = 1.0
BURST = 70  # creates at once from one owner, past the default 50 running jobs
BURST_CREATES = "create (burst)"  # the burst's creates, as the record names them


@dataclass
class Record:
    latencies: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[str] = field(default_factory=Counter)
    # 429s without Retry-After, by endpoint: the service's quota answers carry one; API Gateway's
    # throttle (a route past its rate) answers without, as on AWS.
    retry_after_missing: Counter[str] = field(default_factory=Counter)

    async def call(
        self, http: httpx.AsyncClient, endpoint: str, method: str, url: str, **kw: Any
    ) -> httpx.Response:
        """One request, timed; a connection the server closed under a pooled keep-alive is tried
        again once (creates carry an Idempotency-Key, so that is safe for them too)."""
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                response = await http.request(method, url, **kw)
            except httpx.TransportError:
                self.statuses[f"{endpoint} connection-closed"] += 1
                if attempt == 2:
                    raise
                continue
            self.latencies[endpoint].append(time.perf_counter() - started)
            self.statuses[f"{endpoint} {response.status_code}"] += 1
            if response.status_code == 429 and "retry-after" not in response.headers:
                self.retry_after_missing[endpoint] += 1
            return response
        raise AssertionError("unreachable")


@dataclass
class Job:
    id: str
    owner: str
    created: float
    ended: float | None = None
    status: str = "queued"


async def create(http: httpx.AsyncClient, record: Record, prompt: str) -> dict[str, object] | None:
    """POST /v1/videos until it is accepted; a 429 waits its Retry-After."""
    key = secrets.token_hex(16)
    for _ in range(20):
        response = await record.call(
            http, "create", "POST", "/v1/videos", json={"prompt": prompt}, headers={"Idempotency-Key": key}
        )
        if response.status_code == 200:
            body: dict[str, object] = response.json()
            return body
        if response.status_code != 429:
            return None
        await asyncio.sleep(float(response.headers.get("retry-after", "1")))
    return None


async def follow(http: httpx.AsyncClient, record: Record, job: Job) -> None:
    """GET until the job ends, then the final record through the seed's /poll."""
    deadline = job.created + TERMINAL_DEADLINE
    while time.monotonic() < deadline:
        response = await record.call(http, "get", "GET", f"/v1/videos/{job.id}")
        if response.status_code == 200 and response.json()["status"] in ("completed", "failed"):
            job.ended, job.status = time.monotonic(), response.json()["status"]
            await record.call(http, "poll", "GET", f"/api/videos/{job.id}/poll")
            return
        await asyncio.sleep(FOLLOW_INTERVAL)


async def client(
    api: str, key: str, owner: str, jobs: int, window: float, t0: float, record: Record
) -> list[Job]:
    rng = random.Random(owner)
    mine: list[Job] = []
    followers = []
    async with httpx.AsyncClient(
        base_url=api, headers={"Authorization": f"Bearer {key}"}, timeout=120
    ) as http:
        for n in range(jobs):
            await asyncio.sleep(max(0.0, t0 + (n + rng.random()) * window / (jobs + 1) - time.monotonic()))
            video = await create(http, record, rng.choice(PROMPTS))
            if video is None:
                continue
            job = Job(str(video["id"]), owner, time.monotonic())
            mine.append(job)
            followers.append(asyncio.create_task(follow(http, record, job)))
            await record.call(http, "list", "GET", "/v1/videos", params={"limit": 10})
        await asyncio.gather(*followers)
        listed = set()
        after = None
        while True:
            page = (
                await http.get("/v1/videos", params={"limit": 100, **({"after": after} if after else {})})
            ).json()
            listed |= {video["id"] for video in page["data"]}
            if not page["has_more"]:
                break
            after = page["last_id"]
    missing = {job.id for job in mine} - listed
    assert not missing, f"{owner}: accepted jobs missing from the list: {missing}"
    return mine


async def burst(api: str, key: str, owner: str, record: Record) -> list[Job]:
    """BURST creates at once from one owner: those past the quota are 429 with Retry-After. The jobs
    stall upstream (a job that ended would free its slot before the burst is over), and the owner
    deletes each one accepted, which ends it."""
    async with httpx.AsyncClient(
        base_url=api, headers={"Authorization": f"Bearer {key}"}, timeout=120
    ) as http:
        responses = await asyncio.gather(
            *(
                record.call(
                    http,
                    BURST_CREATES,
                    "POST",
                    "/v1/videos",
                    json={"prompt": PROMPTS[0] + " [stall]"},
                    headers={"Idempotency-Key": secrets.token_hex(16)},
                )
                for _ in range(BURST)
            )
        )
        jobs = [Job(r.json()["id"], owner, time.monotonic()) for r in responses if r.status_code == 200]
        deleted = await asyncio.gather(
            *(record.call(http, "delete (burst)", "DELETE", f"/v1/videos/{job.id}") for job in jobs)
        )
        for job, answer in zip(jobs, deleted, strict=True):
            if answer.status_code == 200:
                job.ended, job.status = time.monotonic(), "deleted"
    return jobs


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def run(api: str, aws: str, clients: int, jobs_per_client: int, window: float) -> None:
    dynamodb = aws_client("dynamodb", aws)
    owners = {f"load-{n:02d}-{secrets.token_hex(2)}": "" for n in range(clients + 1)}
    for owner in owners:
        owners[owner] = create_key(dynamodb, "videos-api-KeysTable", owner)
    *load_owners, burst_owner = owners
    record = Record()
    cpu_before = cpu_seconds()
    t0 = time.monotonic()
    results = await asyncio.gather(
        *(client(api, owners[o], o, jobs_per_client, window, t0, record) for o in load_owners)
    )
    jobs = [job for mine in results for job in mine]
    created_by = max(job.created for job in jobs) - t0
    all_ended = max((job.ended or float("inf")) for job in jobs) - t0
    load_seconds = time.monotonic() - t0
    cpu = {group: spent - cpu_before[group] for group, spent in cpu_seconds().items()}
    burst_jobs = await burst(api, owners[burst_owner], burst_owner, record)

    lost = [job for job in [*jobs, *burst_jobs] if job.ended is None]
    server_errors = {k: v for k, v in record.statuses.items() if k.split()[-1].startswith("5")}
    requests = sum(len(v) for v in record.latencies.values())

    table = Table(
        f"Load: {clients} clients, {len(jobs)} jobs created in {created_by:.0f} s against serve --fast",
        ["endpoint", "requests", "p50 ms", "p95 ms", "p99 ms", "statuses"],
    )
    for endpoint, values in sorted(record.latencies.items()):
        statuses = ", ".join(
            f"{k.split()[-1]}x{v}"
            for k, v in sorted(record.statuses.items())
            if k.rsplit(" ", 1)[0] == endpoint
        )
        table.add(
            endpoint,
            len(values),
            f"{percentile(values, 0.5) * 1000:.0f}",
            f"{percentile(values, 0.95) * 1000:.0f}",
            f"{percentile(values, 0.99) * 1000:.0f}",
            statuses,
        )
    burst_429 = record.statuses.get(f"{BURST_CREATES} 429", 0)
    accepted = len(jobs) + len(burst_jobs)
    table.notes += [
        f"throughput: {len(jobs) / created_by:.1f} creates/s over the window,"
        f" {requests / load_seconds:.0f} requests/s overall; the last job ended {all_ended:.0f} s after"
        f" the start (each has {TERMINAL_DEADLINE:.0f} s from its create)",
        f"jobs lost: {len(lost)} of {accepted} accepted (each ended and is in its owner's list)",
        f"burst of {BURST} creates from one owner: {len(burst_jobs)} accepted, {burst_429} answered 429"
        f" ({record.retry_after_missing[BURST_CREATES]} without Retry-After); 5xx answers:"
        f" {sum(server_errors.values())}",
        f"outcomes: {dict(Counter(job.status for job in [*jobs, *burst_jobs]))}",
    ]
    publish("load", table)
    publish("load_cpu", cpu_table(cpu, load_seconds, len(jobs)))
    problems = []
    if lost:
        problems.append(f"{len(lost)} jobs never ended")
    if server_errors:
        problems.append(f"5xx answers: {server_errors}")
    if record.retry_after_missing[BURST_CREATES] or burst_429 == 0:
        problems.append("the burst was not answered 429 with Retry-After")
    if created_by > window + 5:
        problems.append(f"creating took {created_by:.0f} s")
    if problems:
        sys.exit("load: " + "; ".join(problems))


def cpu_table(cpu: dict[str, float], seconds: float, jobs: int) -> Table:
    """Where the machine's CPU went while the clients created and followed their jobs."""
    cores = os.cpu_count() or 1
    table = Table(
        f"CPU during the load: {seconds:.0f} s on {cores} cores ({cores * seconds:.0f} CPU-s to spend)",
        ["processes", "CPU s", "share of the machine", "CPU ms per job"],
    )
    for group, spent in sorted(cpu.items(), key=lambda item: -item[1]):
        if spent >= 0.05:
            table.add(group, f"{spent:.1f}", f"{spent / (cores * seconds):.0%}", f"{spent / jobs * 1000:.0f}")
    total = sum(cpu.values())
    service = total - cpu.get(CLIENTS, 0.0)
    for name, spent in (("the service (all but the benchmark clients)", service), ("all", total)):
        table.add(name, f"{spent:.1f}", f"{spent / (cores * seconds):.0%}", f"{spent / jobs * 1000:.0f}")
    table.notes.append(
        f"At {total / jobs:.2f} CPU-s per job (its create, list, GETs and /poll, and its workflow; the"
        " workers' cold starts and the engine's first render of each prompt included),"
        f" {cores} cores carry at most {cores * jobs / total:.1f} jobs/s with this traffic."
    )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--jobs-per-client", type=int, default=10)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--data-dir", type=Path, help="Keep serve's logs here (default: a temporary one).")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as data,
        serving("sk-load-dev-key", args.data_dir or Path(data), *POLL_RATE) as service,
    ):
        asyncio.run(run(service.api, service.aws, args.clients, args.jobs_per_client, args.window))


if __name__ == "__main__":
    main()
