"""Render time, real-time factor and peak memory of the engine's renderer.

Each render runs in a fresh interpreter (imports excluded from the time), into an empty cache, so
nothing is reused; the median of several runs is reported. Target: a 4 s 720x1280 clip in < 1.5 s.

    uv run python -m bench.engine [--runs N]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.report import Table, publish

CASES = [(720, 1280, 4), (1792, 1024, 12)]
PROMPT = "A serene mountain landscape at sunset with birds flying over a lake"
TARGET_SECONDS = {(720, 1280, 4): 1.5}


def measure_one(width: int, height: int, seconds: int) -> dict[str, float]:
    from local.engine.render import RenderSpec, render

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        result = render(RenderSpec(PROMPT, width, height, seconds), Path(cache))
        elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds": elapsed,
        "peak_mib": peak / 1024,
        "growth_mib": (peak - baseline) / 1024,
        "mp4_bytes": result.sizes["video.mp4"],
    }


def measure(width: int, height: int, seconds: int, runs: int) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        output = subprocess.run(
            [sys.executable, __file__, "--one", str(width), str(height), str(seconds)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        samples.append(json.loads(output))
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(*args.one)))
        return
    table = Table(
        f"Engine render, median of {args.runs} fresh-process runs",
        ["clip", "render s", "x real time", "peak RSS MiB", "growth MiB", "MP4 KiB", "target"],
    )
    for width, height, seconds in CASES:
        m = measure(width, height, seconds, args.runs)
        target = TARGET_SECONDS.get((width, height, seconds))
        verdict = "" if target is None else f"< {target} s: {'met' if m['seconds'] < target else 'MISSED'}"
        table.add(
            f"{seconds} s {width}x{height}",
            f"{m['seconds']:.2f}",
            f"{seconds / m['seconds']:.1f}",
            f"{m['peak_mib']:.0f}",
            f"{m['growth_mib']:.0f}",
            f"{m['mp4_bytes'] / 1024:.0f}",
            verdict,
        )
    publish("engine", table)


if __name__ == "__main__":
    main()
