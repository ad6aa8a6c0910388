"""Cold import of each function's module in a fresh interpreter, beside two references measured in
the same run: the floor (`import boto3` and one DynamoDB client: what any function that reads a
table pays) and an import-everything baseline (openai, Powertools' event handler and idempotency,
pydantic, a boto3 client). The runs are interleaved so that all three see the same machine; the
median of each is reported. Functions run with the template's default POWERTOOLS_TRACE_DISABLED=true.

Target: get, list, poll and download each ≤ 1.4x the floor and ≥ 2.5x below the baseline.

    uv run python bench/cold_start.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

from bench.report import ROOT, Table, publish

FUNCTIONS = sorted(path.parent.name for path in (ROOT / "functions").glob("*/app.py"))
TARGETED = ("get", "list", "poll", "download")
MAX_OF_FLOOR = 1.4
MIN_BELOW_BASELINE = 2.5

FLOOR = "import boto3\nboto3.client('dynamodb')"
BASELINE = """import boto3, openai, pydantic
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities import idempotency
boto3.client('dynamodb')"""
TIMED = """import time
_started = time.perf_counter()
{code}
print((time.perf_counter() - _started) * 1000)"""


def import_ms(code: str) -> float:
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": f"{ROOT}:{ROOT / 'layers' / 'videos_core'}",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "videos-api",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    output = subprocess.run(
        [sys.executable, "-c", TIMED.format(code=code)],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(output.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    cases = {"floor": FLOOR, "baseline": BASELINE} | {
        name: f"import functions.{name}.app" for name in FUNCTIONS
    }
    import_ms(BASELINE)  # warm the file system cache, so the first case pays nothing extra
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, code in cases.items():
            samples[name].append(import_ms(code))
    median = {name: statistics.median(values) for name, values in samples.items()}
    floor, baseline = median["floor"], median["baseline"]

    table = Table(
        f"Cold import, median of {args.runs} fresh interpreters (ms)",
        ["module", "import ms", "x floor", "baseline /", "target"],
    )
    table.add("floor: boto3 + a DynamoDB client", f"{floor:.0f}", "1.00", f"{baseline / floor:.2f}", "")
    table.add("baseline: import everything", f"{baseline:.0f}", f"{baseline / floor:.2f}", "1.00", "")
    missed = []
    for name in FUNCTIONS:
        ms = median[name]
        target = ""
        if name in TARGETED:
            met = ms <= MAX_OF_FLOOR * floor and baseline / ms >= MIN_BELOW_BASELINE
            target = f"≤ {MAX_OF_FLOOR}x floor, ≥ {MIN_BELOW_BASELINE}x below baseline: " + (
                "met" if met else "MISSED"
            )
            if not met:
                missed.append(name)
        table.add(f"functions/{name}", f"{ms:.0f}", f"{ms / floor:.2f}", f"{baseline / ms:.2f}", target)
    publish("cold_start", table)
    if missed:
        sys.exit(f"cold import target missed by: {', '.join(missed)}")


if __name__ == "__main__":
    main()
