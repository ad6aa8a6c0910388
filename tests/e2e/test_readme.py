"""The README's offline commands, read from README.md and run as written against the shared `serve`:
its addresses become the running serve's, and each placeholder (`sk-…`, `vid_01…`, `char_…`) what a
reader would paste there. A command left out is named below with the reason, and the list is held to
the README, so a command added to it runs or is left out on purpose."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openai import OpenAI

from local.serve.development_certificate import CA_FILE, CREDENTIALS_DIR
from tests.conftest import DEV_KEY
from tests.media import jpeg_size, png_bytes, probe_mp4
from tests.support import ROOT, Served

README = (ROOT / "README.md").read_text()

# Each left out, by the start of its line, and why.
NOT_RUN = {
    "make serve": "starts a serve of its own on the default ports",
    "make test": "the whole test command",
    "uv run videos-api routes apply": "would change the routes of the serve the other tests share",
    "curl -X POST localhost:4010/_faults": "arms faults on the engine the other tests share",
    "curl -X DELETE localhost:4010/_faults": "would disarm the other tests' faults",
    "curl -X DELETE localhost:4010/_stats": "resets the counts other tests read",
    "curl localhost:4010/_videos/video_…": "the engine's own id of a job, which no answer of the API shows",
    "curl -X PUT localhost:4010/_s3": "moves where the shared engine's Bedrock writes",
    "curl -X POST localhost:4566/_faults": "arms faults on the AWS endpoint the other tests share",
    "curl -X DELETE localhost:4566/_faults": "would disarm the other tests' faults",
    "curl -X DELETE localhost:4566/_calls": "resets the counts other tests read",
    'curl -s -X PUT --upload-file frame.png -H "Content-Type: image/png" "<upload_url>"': (
        "the URL is the answer of the command before it"
    ),
    "curl -s -X POST http://127.0.0.1:3000/v1/videos -H": "names the upload the skipped PUT sends",
}


def offline_blocks() -> list[str]:
    return [
        block
        for block in re.findall(r"```bash\n(.*?)```", README, re.DOTALL)
        if "127.0.0.1" in block or "localhost:" in block
    ]


def commands_left_out(block: str) -> tuple[str, list[str]]:
    """The block less its left-out commands (with their continuation lines), and those commands."""
    kept, skipped, skipping = [], [], False
    for line in block.splitlines():
        if not skipping and (start := next((s for s in NOT_RUN if line.startswith(s)), None)):
            skipped.append(start)
            skipping = line.rstrip().endswith("\\")
            continue
        if skipping:
            skipping = line.rstrip().endswith("\\")
            continue
        kept.append(line)
    return "\n".join(kept), skipped


def test_every_command_left_out_is_in_the_readme() -> None:
    skipped = [start for block in offline_blocks() for start in commands_left_out(block)[1]]

    assert sorted(set(skipped)) == sorted(NOT_RUN)


@pytest.fixture(scope="module")
def reader(served: Served, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A reader's directory (the files the README's commands name) and what they would paste: a
    completed sora-2 video and a character of the development key's owner."""
    here = tmp_path_factory.mktemp("reader")
    with OpenAI(base_url=f"{served.api}/v1", api_key=DEV_KEY, max_retries=0, timeout=60) as sdk:
        video = sdk.videos.create_and_poll(prompt="A reader's video", seconds="4", poll_interval_ms=200)
        assert video.status == "completed"
        (here / "gull.mp4").write_bytes(sdk.videos.download_content(video.id).read())
        with (here / "gull.mp4").open("rb") as clip:
            character = sdk.videos.create_character(name="Captain Gull", video=clip)
    routes = next(b for b in re.findall(r"```json\n(.*?)```", README, re.DOTALL) if '"house-video"' in b)
    (here / "routes.json").write_text(routes)
    (here / "frame.png").write_bytes(png_bytes())
    # serve's development CA where the reader's own serve keeps it, in the clone's .videos-api/.
    anchor = here / ".videos-api" / CREDENTIALS_DIR
    anchor.mkdir(parents=True)
    (anchor / CA_FILE).write_bytes((served.data_dir / CREDENTIALS_DIR / CA_FILE).read_bytes())
    assert character.id is not None
    return here, {"vid": video.id, "char": character.id}


def as_written(block: str, served: Served, pasted: dict[str, str]) -> str:
    api_port, aws_port, engine_port = served.ports
    for default, port in (("3000", api_port), ("4566", aws_port), ("4010", engine_port)):
        block = re.sub(rf"(127\.0\.0\.1|localhost):{default}\b", f"127.0.0.1:{port}", block)
    block = block.replace("sk-…", DEV_KEY).replace("char_…", pasted["char"])
    return re.sub(r"vid_(01)?…", pasted["vid"], block)


@pytest.mark.parametrize("index", range(len(offline_blocks())))
def test_the_readmes_offline_commands_run_as_written(
    index: int, served: Served, reader: tuple[Path, dict[str, str]]
) -> None:
    here, pasted = reader
    script, _ = commands_left_out(offline_blocks()[index])
    if "aws --endpoint-url" in script and shutil.which("aws") is None:
        pytest.skip("the AWS CLI is not installed")
    if not script.strip(" \n#"):
        return

    ran = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", as_written(script, served, pasted)],
        cwd=here,
        # The reader's shell: in the clone (their files here), with the key the first example set.
        env=os.environ | {"UV_PROJECT": str(ROOT), "KEY": DEV_KEY},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )

    assert ran.returncode == 0, f"{script}\n--- stdout\n{ran.stdout}\n--- stderr\n{ran.stderr}"
    assert '"error_code"' not in ran.stdout, ran.stdout  # curl exits 0 on an error's answer too
    if "get-metric-statistics" in script:
        assert json.loads(ran.stdout)["Datapoints"], "no cost recorded for the completed sora-2 video"
    if "videos-api generate" in script:  # what the command line saved, as the README says
        kite = probe_mp4((here / "kite.mp4").read_bytes())
        assert (kite.width, kite.height, kite.video_codec) == (1280, 720, "h264")
        assert jpeg_size((here / "kite.jpg").read_bytes()) == (1280, 720)
        frames = {
            name: probe_mp4((here / f"{name}.mp4").read_bytes()).frames
            for name in ("night", "sepia", "longer")
        }
        assert frames == {"night": 4 * 24, "sepia": 4 * 24, "longer": 12 * 24}
        probe_mp4((here / "gull-at-sea.mp4").read_bytes())
        assert jpeg_size((here / "sheet.jpg").read_bytes()) == (720, 1280)  # the pasted video's size
