"""Job's end -> its delivery: from the moment GET /v1/videos/{id} shows a job completed to the moment
a tenant's endpoint (a receiver on 127.0.0.1) has its `video.completed`, through the outbox, the bus,
the rule, `WebhookDeliveryQueue`, Lambda's SQS poller (offline: local/serve/sqs_sources.py) and the
Deliver function, with `serve --fast --allow-loopback-webhooks`.

The end is watched every 20 ms through the API (the window it fell in is reported); the receiver notes
when each delivery comes. Jobs run one at a time.

    uv run python -m bench.webhook_deliveries [--jobs 50]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.completion_latency import TERMINAL, WATCH_INTERVAL
from bench.report import Table, publish
from tests.support import serving
from tests.webhook_receiver import WebhookReceiver

KEY = "sk-bench-webhook-deliveries-0123"


def ended(api: httpx.Client, video_id: str, timeout: float = 120) -> tuple[float, float]:
    """When the job ended, as a window: from the last GET still showing it running being sent to the
    first showing it ended being answered (a GET reads the record somewhere in between)."""
    last_sent = time.monotonic()  # the job was made running
    deadline = last_sent + timeout
    while time.monotonic() < deadline:
        sent = time.monotonic()
        if api.get(f"/v1/videos/{video_id}").json()["status"] in TERMINAL:
            return last_sent, time.monotonic()
        last_sent = sent
        time.sleep(WATCH_INTERVAL)
    raise TimeoutError(f"{video_id} did not end")


def one_job(api: httpx.Client, receiver: WebhookReceiver, n: int) -> tuple[float, float]:
    """The delivery's latency from the middle of the window the job ended in, and that window."""
    video = api.post("/v1/videos", json={"prompt": f"A lighthouse at dusk, take {n}"}).json()
    earliest, latest = ended(api, video["id"])
    [delivery] = receiver.for_video(video["id"], timeout=60)
    return delivery.came_at - (earliest + latest) / 2, latest - earliest


def measure(jobs: int) -> list[tuple[float, float]]:
    receiver = WebhookReceiver()
    try:
        with (
            tempfile.TemporaryDirectory() as data,
            serving(KEY, Path(data), "--allow-loopback-webhooks") as service,
            httpx.Client(base_url=service.api, headers={"Authorization": f"Bearer {KEY}"}, timeout=30) as api,
        ):
            endpoint = api.post(
                "/v1/webhook_endpoints",
                json={"name": "bench", "url": receiver.url, "event_types": ["video.completed"]},
            )
            endpoint.raise_for_status()
            one_job(api, receiver, -1)  # warm the workers: cold starts are not what is measured
            return [one_job(api, receiver, n) for n in range(jobs)]
    finally:
        receiver.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=50)
    args = parser.parse_args()
    figures = measure(args.jobs)
    latencies = sorted(latency for latency, _ in figures)
    window = statistics.median(window for _, window in figures)
    p50, p95 = (statistics.quantiles(latencies, n=100, method="inclusive")[k - 1] for k in (50, 95))
    table = Table(
        f"Job's end -> its webhook delivered, {args.jobs} jobs (serve --fast, receiver on 127.0.0.1)",
        ["path", "p50 s", "p95 s", "min s", "max s"],
    )
    table.add(
        "outbox -> bus -> rule -> SQS -> Deliver -> endpoint",
        f"{p50:.2f}",
        f"{p95:.2f}",
        f"{latencies[0]:.2f}",
        f"{latencies[-1]:.2f}",
    )
    table.notes.append(
        "A job's end is watched through GET every 20 ms: it falls between the last GET still showing the"
        f" job running being sent and the first showing it ended being answered (median {window:.2f} s"
        " apart); each figure is from the middle of that window, so it is within half of it. Deployed,"
        " Lambda's pollers long-poll the queue as the local one does (its receives wait 1 s)."
    )
    publish("webhook_deliveries", table)


if __name__ == "__main__":
    main()
