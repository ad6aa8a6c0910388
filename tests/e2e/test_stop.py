"""serve's own stop: a Ctrl-C to its process group with jobs in flight. It starts a `serve` of its own
(the one the other e2e suites share must stay up), so it runs apart from them."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from openai import OpenAI

from tests.support import ROOT, free_port, serve_args, wait_until_serving


def live_processes_of_group(group: int) -> list[str]:
    """The processes still running (not zombies awaiting their reaper) in process group `group`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            name, fields = stat.read_text().rsplit(")", 1)
            state, _parent, pgid = fields.split()[:3]
            if int(pgid) == group and state != "Z":
                found.append(name.split("(", 1)[1])
    return found


def test_ctrl_c_stops_serve_within_3_s_with_jobs_in_flight(tmp_path: Path) -> None:
    """A terminal sends Ctrl-C to every process of the group: serve's API, engine, AWS endpoint,
    function workers and renderers. All are gone within 3 s, and nothing prints a traceback."""
    ports = (free_port(), free_port(), free_port())
    key = "sk-ctrl-c-development-key-0123456789"
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "local", *serve_args(ports, key, tmp_path)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        api = f"http://127.0.0.1:{ports[0]}"
        wait_until_serving(f"{api}/openapi.json", process)
        with OpenAI(base_url=f"{api}/v1", api_key=key, max_retries=0, timeout=30) as sdk:
            videos = [sdk.videos.create(prompt=f"Cut short {i} {uuid.uuid4()}") for i in range(6)]
            deadline = time.monotonic() + 30
            while {sdk.videos.retrieve(v.id).status for v in videos} == {"queued"}:
                assert time.monotonic() < deadline, "no job started"
                time.sleep(0.1)
        assert live_processes_of_group(process.pid)

        started = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=15)
        stopped = time.monotonic() - started
        while live_processes_of_group(process.pid) and time.monotonic() - started < 3.0:
            time.sleep(0.05)
        gone = time.monotonic() - started
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    output = log.read_text()
    assert process.returncode == 0, output
    assert stopped <= 3.0, f"serve took {stopped:.1f} s to stop"
    assert live_processes_of_group(process.pid) == [], f"still running {gone:.1f} s after Ctrl-C"
    assert "Traceback" not in output, output
    assert "Error" not in output, output
    assert output.rstrip().endswith("videos-api stopped.")
