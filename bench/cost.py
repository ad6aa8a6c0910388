"""State transitions and the AWS cost of running one job, for 1-, 2- and 10-minute generations.

The transitions are counted by walking statemachine/jobs.asl.json itself, with an upstream that
answers in_progress until the generation time has passed and the waits the state machine gets from
the one backoff schedule (videos_core/backoff.py, scale 1, as deployed). The prices are list prices
(us-east-1, arm64) kept below as data; the Lambda durations are assumptions, also below.

    uv run python -m bench.cost
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from bench.report import Table, publish
from local.serve.application import declared_application
from videos_core.backoff import wait_seconds

# List prices, us-east-1.
USD_PER_TRANSITION = 0.025 / 1000  # Step Functions Standard
USD_PER_LAMBDA_REQUEST = 0.20 / 1_000_000
USD_PER_GB_SECOND_ARM = 0.0000133334
USD_PER_EVENT = 1.00 / 1_000_000  # EventBridge custom events
# Assumed billed durations (ms) and memory (MB) of the state machine's tasks, from the template.
TASKS = {"CheckStatus": (150, 512), "StoreAssets": (4000, 1024)}
GENERATIONS_MINUTES = (1, 2, 10)


@dataclass
class Walk:
    transitions: int = 0
    invocations: dict[str, int] | None = None
    events: int = 0
    checks: int = 0


def walk(definition: dict[str, Any], generation_seconds: float) -> Walk:
    """Follows the definition from StartAt to a terminal state, as one job of this length makes it."""
    states = definition["States"]
    result = Walk(invocations={})
    clock, attempt, name = 0.0, 0, definition["StartAt"]
    status = "queued"
    while True:
        state = states[name]
        result.transitions += 1
        kind = state["Type"]
        if kind in ("Succeed", "Fail"):
            result.events += 1  # published by the task that ended the job (from its outbox entry)
            return result
        resource = state.get("Resource", "")
        if "lambda:invoke" in resource:
            task = state["Parameters"]["FunctionName"].rsplit("-", 1)[-1].removesuffix("Function")
            assert result.invocations is not None
            result.invocations[task] = result.invocations.get(task, 0) + 1
        if name == "CheckStatus":
            result.checks += 1
            status = "completed" if clock >= generation_seconds else "in_progress"
        if kind == "Choice":
            name = _choose(state, status)
            continue
        if kind == "Wait":
            clock += max(1, math.ceil(wait_seconds(attempt)))
            attempt += 1
        name = state["Next"]


def _choose(state: dict[str, Any], status: str) -> str:
    for choice in state["Choices"]:
        if choice.get("Variable") == "$.check.status" and choice.get("StringEquals") == status:
            return str(choice["Next"])
        if choice.get("Variable") == "$.outcome.finalised" and choice.get("BooleanEquals") is True:
            return str(choice["Next"])  # the store completed the job
    return str(state["Default"])


def main() -> None:
    (machine,) = declared_application().state_machines.values()
    definition = json.loads(machine.definition)
    table = Table(
        "State transitions and AWS cost of one job (list prices, us-east-1, arm64)",
        ["generation", "status checks", "transitions", "Step Functions", "Lambda", "events", "total / job"],
    )
    for minutes in GENERATIONS_MINUTES:
        result = walk(definition, minutes * 60)
        assert result.invocations is not None
        sfn = result.transitions * USD_PER_TRANSITION
        lam = sum(
            count
            * (USD_PER_LAMBDA_REQUEST + TASKS[task][0] / 1000 * TASKS[task][1] / 1024 * USD_PER_GB_SECOND_ARM)
            for task, count in result.invocations.items()
        )
        events = result.events * USD_PER_EVENT
        table.add(
            f"{minutes} min",
            result.checks,
            result.transitions,
            f"${sfn:.6f}",
            f"${lam:.6f}",
            f"${events:.6f}",
            f"${sfn + lam + events:.6f}",
        )
    table.notes.append(
        "Assumed billed durations: "
        + ", ".join(f"{task} {ms} ms at {mb} MB" for task, (ms, mb) in TASKS.items())
        + "; the API calls (create, GET, download) are not counted."
    )
    publish("cost", table)


if __name__ == "__main__":
    main()
