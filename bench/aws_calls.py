"""AWS calls and function invocations per job, by service and operation: a job finished by the
upstream's webhook and one finished by the state machine's polling, each through `serve --fast`.

The local AWS endpoint counts every call it serves by caller (each function signs with its own key)
and operation (`GET /_calls`); each function's log closes every invocation with a REPORT line. A job
here is created, then left alone until its execution ends: what a client does meanwhile (GET, list,
/poll) costs per request, not per job. The first job of each run starts every worker cold and is
not counted. Lambda's own poller of the deliveries' queue (its ReceiveMessage and DeleteMessageBatch,
signed as the Deliver function it feeds) polls whether jobs end or not: it is listed, not counted.
Targets: at most 25 AWS calls and 5 invocations per job (4 for the job, 1 for its deliveries).

    uv run python -m bench.aws_calls [--jobs 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

from bench.report import Table, publish
from local.serve.aws_endpoint import client as aws_client
from local.serve.aws_faults import OBSERVER_KEY
from tests.support import serving
from videos_core.adapters.stepfunctions import execution_arn

KEY = "sk-bench-aws-calls-0123456789"
MAX_CALLS, MAX_INVOCATIONS = 25, 5
# What Lambda's event source mapping calls on the deliveries' queue, on a schedule of its own.
POLLER_CALLS = frozenset({"sqs:ReceiveMessage", "sqs:DeleteMessageBatch"})
# After the execution ends: the last event's publication and log lines have landed.
SETTLE_SECONDS = 1.0


def invocations(logs: Path) -> Counter[str]:
    return Counter({log.stem: log.read_text().count("REPORT\t") for log in logs.glob("*.log")})


def one_job(api: str, aws: str, logs: Path, prompt: str) -> tuple[Counter[str], Counter[str]]:
    """(calls by `service:Operation`, invocations by function) of one job, from its create to its end."""
    sfn = aws_client("stepfunctions", aws, access_key=OBSERVER_KEY)
    (machine,) = sfn.list_state_machines()["stateMachines"]
    httpx.delete(f"{aws}/_calls").raise_for_status()
    before = invocations(logs)
    created = httpx.post(
        f"{api}/v1/videos", json={"prompt": prompt}, headers={"Authorization": f"Bearer {KEY}"}, timeout=30
    )
    created.raise_for_status()
    execution = execution_arn(machine["stateMachineArn"], created.json()["id"])
    deadline = time.monotonic() + 60
    while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
        if time.monotonic() > deadline:
            sys.exit(f"aws_calls: {created.json()['id']} did not end within 60 s")
        time.sleep(0.1)
    time.sleep(SETTLE_SECONDS)
    calls: Counter[str] = Counter()
    for by_operation in httpx.get(f"{aws}/_calls").raise_for_status().json()["calls"].values():
        calls.update(by_operation)
    return calls, invocations(logs) - before


def per_job(webhooks: bool, jobs: int) -> tuple[Counter[str], Counter[str]]:
    """Calls and invocations summed over `jobs` jobs after a first, cold one."""
    calls: Counter[str] = Counter()
    invoked: Counter[str] = Counter()
    flags = [] if webhooks else ["--no-webhooks"]
    with tempfile.TemporaryDirectory() as data, serving(KEY, Path(data), *flags) as service:
        for n in range(jobs + 1):
            job_calls, job_invocations = one_job(
                service.api, service.aws, Path(data) / "logs", f"Kite {n % 2}"
            )
            if n:
                calls += job_calls
                invoked += job_invocations
    return calls, invoked


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=5)
    jobs: int = parser.parse_args().jobs
    webhook_calls, webhook_invoked = per_job(True, jobs)
    polling_calls, polling_invoked = per_job(False, jobs)
    table = Table(
        f"AWS calls and invocations per job, mean of {jobs} (serve --fast: a 2 s job)",
        ["", "finished by webhook", "finished by polling"],
    )
    for operation in sorted(webhook_calls.keys() | polling_calls.keys()):
        table.add(operation, f"{webhook_calls[operation] / jobs:g}", f"{polling_calls[operation] / jobs:g}")
    for function in sorted(webhook_invoked.keys() | polling_invoked.keys()):
        table.add(
            f"invocations: {function}",
            f"{webhook_invoked[function] / jobs:g}",
            f"{polling_invoked[function] / jobs:g}",
        )

    def counted(calls: Counter[str]) -> float:
        return sum(n for operation, n in calls.items() if operation not in POLLER_CALLS) / jobs

    totals = {
        "AWS calls": (counted(webhook_calls), counted(polling_calls), MAX_CALLS),
        "function invocations": (
            webhook_invoked.total() / jobs,
            polling_invoked.total() / jobs,
            MAX_INVOCATIONS,
        ),
    }
    for name, (webhook, polling, _) in totals.items():
        table.add(f"all: {name}", f"{webhook:g}", f"{polling:g}")
    table.notes.append(
        f"Targets: at most {MAX_CALLS} AWS calls and {MAX_INVOCATIONS} invocations per job (before: 30 and 7"
        " by webhook, 22 and 5 by polling). Metrics are not calls: on AWS they are EMF log lines. The"
        f" calls of Lambda's poller of the deliveries' queue ({', '.join(sorted(POLLER_CALLS))}) are not"
        " counted: it polls on a schedule of its own, jobs or none."
    )
    publish("aws_calls", table)
    missed = [
        f"{name}: {max(webhook, polling):g} per job (at most {limit})"
        for name, (webhook, polling, limit) in totals.items()
        if max(webhook, polling) > limit
    ]
    if missed:
        sys.exit("aws_calls: " + "; ".join(missed))


if __name__ == "__main__":
    main()
