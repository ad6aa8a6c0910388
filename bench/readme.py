"""Writes the figures the benchmarks left under artifacts/bench/ into README.md, between the
`<!-- bench:begin -->` and `<!-- bench:end -->` markers (`make bench` runs it last)."""

from __future__ import annotations

import sys

from bench.report import RESULTS, ROOT

ORDER = (
    "engine",
    "cold_start",
    "upstream_calls",
    "aws_calls",
    "aws_endpoint",
    "completion_latency",
    "webhook_deliveries",
    "store_assets",
    "content_credentials",
    "cost",
    "iam_judge",
    "load",
    "load_cpu",
)
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def main() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        sys.exit(f"README.md has no {BEGIN} … {END} section")
    tables = [
        (RESULTS / f"{name}.md").read_text().strip() for name in ORDER if (RESULTS / f"{name}.md").exists()
    ]
    missing = [name for name in ORDER if not (RESULTS / f"{name}.md").exists()]
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(head + BEGIN + "\n\n" + "\n\n".join(tables) + "\n\n" + END + tail)
    print(
        f"README.md: {len(tables)} tables written"
        + (f"; no figures from {', '.join(missing)}" if missing else "")
    )


if __name__ == "__main__":
    main()
