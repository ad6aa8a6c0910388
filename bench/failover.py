"""What failing over costs a job, offline on a model with two routes (OpenAI's dialect, then Gemini's),
with `serve --fast` (backoff x 0.1):

- at create: the create's own time when the first route refuses (a 503 from the engine) against
  when it accepts: at most the first route's refusal time;
- after acceptance: create → completed for a job the first route fails (`[fail:sora-2]`) against
  one it completes, and against a job on the second route alone: at most one backoff step plus
  the second route's own generation time.

    uv run python -m bench.failover [--jobs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.report import Table, publish
from tests.support import serving

KEY = "sk-bench-failover-0123456789abcdef"
VEO = {"provider": "gemini", "upstream_model": "veo-3.1-generate-preview", "api_key": "sk-gemini"}
ROUTES = {
    "two-routes": [
        {"name": "first", "upstream_model": "sora-2"},
        VEO | {"name": "second", "profile": "veo-3.1-generate"},
    ],
    "second-alone": VEO | {"profile": "veo-3.1-generate"},
}
FIELDS = {"seconds": "4", "size": "1280x720"}


def timed_create(api: httpx.Client, model: str, prompt: str) -> float:
    started = time.monotonic()
    create(api, model, prompt)
    return time.monotonic() - started


def create(api: httpx.Client, model: str, prompt: str) -> dict[str, object]:
    answer = api.post("/v1/videos", json={"prompt": prompt, "model": model} | FIELDS)
    answer.raise_for_status()
    return dict(answer.json())


def to_completion(api: httpx.Client, model: str, prompt: str) -> float:
    started = time.monotonic()
    video = create(api, model, prompt)
    while (status := api.get(f"/v1/videos/{video['id']}").json()["status"]) not in ("completed", "failed"):
        time.sleep(0.05)
    assert status == "completed", video
    return time.monotonic() - started


def median(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=3)
    jobs = parser.parse_args().jobs
    with tempfile.TemporaryDirectory() as data:
        routes = Path(data) / "routes.json"
        routes.write_text(json.dumps(ROUTES))
        with (
            serving(KEY, Path(data), "--routes", str(routes)) as service,
            httpx.Client(base_url=service.api, headers={"Authorization": f"Bearer {KEY}"}, timeout=60) as api,
        ):
            to_completion(api, "two-routes", "A warm-up, not measured")
            accepted = [timed_create(api, "two-routes", f"A quay, take {n}") for n in range(jobs)]
            refused = []
            for n in range(jobs):
                fault = {"kind": "status", "method": "POST", "path": "/v1/videos", "status": 503, "times": 1}
                httpx.post(f"{service.engine}/_faults", json=fault).raise_for_status()
                refused.append(timed_create(api, "two-routes", f"A quay, refused {n}"))
            first = [to_completion(api, "two-routes", f"A pier, take {n}") for n in range(jobs)]
            second = [to_completion(api, "second-alone", f"A pier, second alone {n}") for n in range(jobs)]
            moved = [
                to_completion(api, "two-routes", f"A pier, failed {n} [fail:sora-2]") for n in range(jobs)
            ]
    table = Table(
        f"Failover's extra time, {jobs} jobs each (median s; serve --fast: backoff x 0.1)",
        ["what", "without failover", "with failover", "extra"],
    )
    table.add(
        "create (first route refuses)",
        median(accepted),
        median(refused),
        f"{statistics.median(refused) - statistics.median(accepted):.2f}",
    )
    table.add(
        "create → completed (first route fails the job)",
        median(first),
        median(moved),
        f"{statistics.median(moved) - statistics.median(first):.2f}",
    )
    table.add("create → completed on the second route alone", median(second), "", "")
    table.notes.append(
        "After acceptance a failover adds at most one status check's wait (the backoff step the failure"
        " is seen at) plus the second route's own generation time; at create, at most the first route's"
        " refusal time."
    )
    publish("failover", table)


if __name__ == "__main__":
    main()
