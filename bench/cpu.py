"""CPU seconds (user + system) spent by `serve`'s processes and this one, by what they are: the AWS
endpoint, each function's workers, serve's own process (gateway, engine, Lambda endpoint) and the
engine's renderers; read from Linux's /proc, where serve names its processes."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

from local.process_names import AWS_ENDPOINT, ENGINE_RENDER, FUNCTION_PREFIX

CLIENTS = "benchmark clients"
ENDPOINT = "AWS endpoint (moto, state machine)"
SERVE = "serve (gateway, engine, Lambda endpoint, fork servers)"


def _processes() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, name, CPU seconds) of every process /proc shows."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(entry.name)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / ticks)
    return found


def _group(name: str) -> str | None:
    if name == AWS_ENDPOINT:
        return ENDPOINT
    if name.startswith(FUNCTION_PREFIX):
        return f"functions: {name.removeprefix(FUNCTION_PREFIX)}"
    if name == ENGINE_RENDER:
        return "engine renders"
    return None


def cpu_seconds() -> defaultdict[str, float]:
    """CPU seconds so far by group, for this process and serve's (the parent of its AWS endpoint) with
    every process under it: function workers are forked from a fork server, not from serve itself."""
    processes = _processes()
    serve = {parent for parent, name, _ in processes.values() if name == AWS_ENDPOINT}
    spent: defaultdict[str, float] = defaultdict(float)
    for pid, (parent, name, seconds) in processes.items():
        if pid == os.getpid():
            spent[CLIENTS] += seconds
        elif pid in serve:
            spent[SERVE] += seconds
        elif _under(parent, serve, processes):
            spent[_group(name) or SERVE] += seconds
    return spent


def _under(pid: int, ancestors: set[int], processes: dict[int, tuple[int, str, float]]) -> bool:
    while pid in processes and pid not in ancestors:
        pid = processes[pid][0]
    return pid in ancestors
