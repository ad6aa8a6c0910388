"""The command line against `serve --fast`: progress, a file at the end, errors in one line. The README's
commands (generate, remix, edit and extend waiting and saving their files) run in test_readme.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import DEV_KEY
from tests.media import jpeg_size, probe_mp4
from tests.support import HTTP, ROOT, Served

# The tests' own calls around the commands: waiting, and seeing what a command left running.
DEV_HEADERS = {"Authorization": f"Bearer {DEV_KEY}"}


def cli(
    served: Served, *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"VIDEOS_API_BASE_URL": served.api, "VIDEOS_API_KEY": DEV_KEY} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "local", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def wait_until_ended(served: Served, video_id: str) -> None:
    """Waits through the service's long poll (the commands under test are the ones around it); its
    maxWaitMs counts from the job's creation, and a busy machine may take minutes."""
    url = f"{served.api}/api/videos/{video_id}/poll"
    while HTTP.get(url, params={"maxWaitMs": "600000"}, headers=DEV_HEADERS, timeout=60).status_code == 202:
        pass


def test_generate_without_wait_prints_the_id_then_get_list_download_delete(
    served: Served, tmp_path: Path
) -> None:
    created = cli(served, "generate", "A quick one")
    video_id = created.stdout.strip()
    assert video_id.startswith("vid_")

    wait_until_ended(served, video_id)
    got = cli(served, "get", video_id)
    listed = cli(served, "list", "--limit", "100")
    on_a_terminal = cli(
        served, "list", "--limit", "5", env={"TTY_COMPATIBLE": "1", "COLUMNS": "80", "TERM": "dumb"}
    )
    downloaded = cli(
        served, "download", video_id, "--variant", "spritesheet", "-o", str(tmp_path / "sheet.jpg")
    )
    deleted = cli(served, "delete", video_id)

    assert got.returncode == 0
    assert json.loads(got.stdout)["status"] == "completed"
    assert video_id in listed.stdout
    header, *lines = on_a_terminal.stdout.splitlines()
    assert header.split()[:2] == ["id", "status"]
    assert all(len(line.split()[0]) == len(video_id) and len(line) <= 80 for line in lines)
    assert downloaded.returncode == 0
    assert jpeg_size((tmp_path / "sheet.jpg").read_bytes()) == (720, 1280)
    assert deleted.stdout.strip() == f"deleted {video_id}"


def test_characters_create_get_and_a_generate_naming_one(served: Served, tmp_path: Path) -> None:
    clip = tmp_path / "gull.mp4"
    made = cli(served, "generate", "A gull for a character", "--wait", "-o", str(clip))
    assert made.returncode == 0, made.stderr

    created = cli(served, "characters", "create", "Captain Gull", str(clip))
    assert created.returncode == 0, created.stderr
    character = json.loads(created.stdout)
    fetched = cli(served, "characters", "get", character["id"])
    starring = cli(
        served,
        "generate",
        "Captain Gull at sea",
        "--character",
        character["id"],
        "--wait",
        "-o",
        str(tmp_path / "s.mp4"),
    )

    assert json.loads(fetched.stdout) == character
    assert character["name"] == "Captain Gull"
    assert starring.returncode == 0, starring.stderr
    probe_mp4((tmp_path / "s.mp4").read_bytes())


def test_an_error_is_one_line_and_a_non_zero_exit(served: Served) -> None:
    result = cli(served, "get", "vid_01JDQ2X8Y3K4M5N6P7Q8R9S0TV")
    invalid = cli(served, "generate", "x", "--seconds", "6")

    assert result.returncode == 1
    assert (
        result.stderr.strip() == "error: video_not_found: No video with id 'vid_01JDQ2X8Y3K4M5N6P7Q8R9S0TV'."
    )
    assert invalid.returncode == 1
    assert invalid.stderr.strip().startswith("error: invalid_video_duration: ")
    assert "Traceback" not in result.stderr + invalid.stderr


def test_ctrl_c_while_waiting_leaves_the_job_running(served: Served) -> None:
    env = os.environ | {"VIDEOS_API_BASE_URL": served.api, "VIDEOS_API_KEY": DEV_KEY}
    process = subprocess.Popen(
        [sys.executable, "-m", "local", "generate", "Waiting forever [stall]", "--wait"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As in a terminal, whatever started the tests: a shell's background job ignores Ctrl-C, and a
        # Python started ignoring it never turns it into KeyboardInterrupt.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    prompt_seen = False
    deadline = time.monotonic() + 60
    while not prompt_seen and time.monotonic() < deadline:  # until the job exists, then a moment of waiting
        time.sleep(0.5)
        listed = HTTP.get(f"{served.api}/v1/videos", params={"limit": "5"}, headers=DEV_HEADERS).json()
        prompt_seen = any("Waiting forever" in (video["prompt"] or "") for video in listed["data"])
    time.sleep(1.5)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)

    assert process.returncode == 130
    assert "keeps running" in stderr
    video_id = stderr.split("videos-api get ")[1].split()[0]
    assert cli(served, "get", video_id).returncode == 0
    assert "Traceback" not in stderr
    assert cli(served, "delete", video_id).returncode == 0
