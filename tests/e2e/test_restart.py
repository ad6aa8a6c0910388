"""serve keeps its data across restarts: a Ctrl-C and a new start find the same videos, files, keys,
characters and uploads; a start after a kill in the middle of a job finds the last snapshot and ends
the job the kill cut short. It starts `serve` three times on one data directory of its own, so it runs
apart from the suites that share one. The first start listens on every address (`--host 0.0.0.0`),
reached over loopback as every test is."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
from openai import OpenAI

from local.keys import create_key
from local.serve.aws_endpoint import client as aws_client
from local.serve.aws_state import SNAPSHOT
from tests.media import png_bytes
from tests.support import HTTP, ROOT, free_port, serve_args, wait_until_serving

POLL_MS = 200
STACK = "videos-api"
# The reconciler may end a job a second old: the one a kill cut short is ended at the next start.
RECONCILE_AT_ONCE = ("--parameter", "ReconcileAfterSeconds=1")


@dataclass(frozen=True)
class Started:
    process: subprocess.Popen[bytes]
    api: str
    aws: str

    def sdk(self, key: str) -> OpenAI:
        return OpenAI(base_url=f"{self.api}/v1", api_key=key, max_retries=0, timeout=60)


@contextlib.contextmanager
def started(data_dir: Path, *extra: str) -> Iterator[Started]:
    """`serve` in a process group of its own (so that a test may kill all of it), stopped by a Ctrl-C."""
    ports = (free_port(), free_port(), free_port())
    log = data_dir.parent / f"serve-{ports[0]}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "local", *serve_args(ports, None, data_dir), *extra],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("UPSTREAM_")},
        )
    try:
        api = f"http://127.0.0.1:{ports[0]}"
        wait_until_serving(f"{api}/openapi.json", process)
        yield Started(process, api, f"http://127.0.0.1:{ports[1]}")
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=15)
            assert process.returncode == 0, log.read_text()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def kept_after(data_dir: Path, moment: float) -> None:
    """Waits for a snapshot written after `moment` (one is written within a second of a change)."""
    deadline = time.monotonic() + 10
    while (data_dir / "aws" / SNAPSHOT).stat().st_mtime <= moment:
        assert time.monotonic() < deadline, "no snapshot after the change"
        time.sleep(0.05)


def test_serve_keeps_its_data_across_a_ctrl_c_and_ends_the_job_a_kill_cut_short(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    # Given a serve listening on every address, with a video, a character, an upload and a second key
    with started(data_dir, "--host", "0.0.0.0") as first:
        key = (data_dir / "api-key").read_text().strip()
        with first.sdk(key) as sdk:
            video = sdk.videos.create_and_poll(prompt="A gull on a post", poll_interval_ms=POLL_MS)
            assert video.status == "completed"
            content = sdk.videos.download_content(video.id).content
            character = sdk.videos.create_character(name="Gull", video=("gull.mp4", content, "video/mp4"))
            assert character.id is not None
            listed = [v.id for v in sdk.videos.list()]
        other_key = create_key(aws_client("dynamodb", first.aws), f"{STACK}-KeysTable", "other-owner")
        image = png_bytes(1280, 720)
        with httpx.Client(base_url=first.api, headers={"Authorization": f"Bearer {key}"}) as api:
            upload = api.post(
                "/v1/uploads", json={"filename": "f.png", "bytes": len(image), "mime_type": "image/png"}
            ).json()
        assert (
            HTTP.put(upload["upload_url"], content=image, headers=upload["upload_headers"]).status_code == 200
        )

    # When it is stopped by a Ctrl-C and started again (without --api-key)
    with started(data_dir, *RECONCILE_AT_ONCE) as second:
        # Then the development key is the same, and everything made before is there
        assert (data_dir / "api-key").read_text().strip() == key
        with second.sdk(key) as sdk, second.sdk(other_key) as other:
            assert [v.id for v in sdk.videos.list()] == listed
            assert sdk.videos.download_content(video.id).content == content
            assert sdk.videos.get_character(character.id).name == "Gull"
            assert list(other.videos.list()) == []
            # the engine's character and the uploaded frame too: a create names both
            made = sdk.videos.create(
                prompt="The gull comes alive",
                size="1280x720",
                extra_body={
                    "characters": [{"id": character.id}],
                    "input_reference": {"file_id": upload["id"]},
                },
            )
            assert sdk.videos.poll(made.id, poll_interval_ms=POLL_MS).status == "completed"
            # When it is killed with a job in flight, once a snapshot holds the job running
            cut = sdk.videos.create(prompt="Cut short by a kill [stall]")
            while sdk.videos.retrieve(cut.id).status != "in_progress":
                time.sleep(0.1)
            kept_after(data_dir, time.time())
        os.killpg(second.process.pid, signal.SIGKILL)
        second.process.wait()

    # Then the next start ends that job, and its record, slot, spend and outbox agree
    with started(data_dir, *RECONCILE_AT_ONCE) as third, third.sdk(key) as sdk:
        deadline = time.monotonic() + 30
        while (ended := sdk.videos.retrieve(cut.id)).status == "in_progress":
            assert time.monotonic() < deadline, "the job cut short is still running"
            time.sleep(0.2)
        assert ended.status == "failed"
        assert ended.error is not None
        assert ended.error.code == "video_generation_failed"
        dynamodb = aws_client("dynamodb", third.aws)
        quotas = dynamodb.scan(TableName=f"{STACK}-QuotasTable")["Items"]
        slots = [
            item.get("video_ids", {}).get("SS", []) for item in quotas if item["period"]["S"] == "running"
        ]
        assert all(cut.id not in held for held in slots)
        spent = sum(
            Decimal(item["spent_usd"]["N"]) for item in quotas if item["period"]["S"].startswith("day#")
        )
        completed = [sdk.videos.retrieve(v) for v in (video.id, made.id)]
        costs = [Decimal(str((v.model_extra or {})["estimated_cost_usd"])) for v in completed]
        assert spent == sum(costs, Decimal(0))
        assert dynamodb.scan(TableName=f"{STACK}-OutboxTable")["Items"] == []
