"""The command line's tables at a terminal's usual widths: nothing past the edge, the ids and statuses
whole, the prompt cut; piped, every field whole."""

from __future__ import annotations

import io

import pytest
from rich.cells import cell_len
from rich.console import Console

from local.keys_commands import KEY_COLUMNS
from local.terminal_table import print_table
from local.videos_commands import MODEL_COLUMNS, VIDEO_COLUMNS

PROMPT = "A lighthouse keeper climbs the spiral stairs at dawn, the lamp still turning, " * 3
VIDEOS = [
    ("vid_01M8AJA3T0R087X9888Z3XCE2J", "in_progress", "42%", "sora-2-pro", "12", "1792x1024",
     "2026-11-25 23:36", PROMPT),
    ("vid_01M8AJA3T0R087X9888Z3XCE2K", "completed", "100%", "veo-3.1-fast", "8", "1280x720",
     "2026-11-25 23:37", "A kite over the dunes"),
]  # fmt: skip
MODELS = [
    ("veo-3.1", "gemini", "4,6,8", "1280x720, 720x1280, 1920x1080, 1080x1920", "0.40", "yes", "no"),
    ("sora-2-pro", "openai", "4,8,12", "1280x720, 720x1280, 1792x1024, 1024x1792", "0.30", "yes", "yes"),
]
KEYS = [("key_3f9a0c1d2e4b", "alice-in-the-video-team", "2026-11-25 23:36", "2026-11-26 08:01", "-")]


def rendered(columns: object, rows: object, width: int) -> list[str]:
    screen = io.StringIO()
    print_table(Console(file=screen, width=width, force_terminal=True, color_system=None), columns, rows)  # type: ignore[arg-type]
    return screen.getvalue().splitlines()


@pytest.mark.parametrize("width", [80, 100])
def test_the_video_list_fits_and_cuts_the_prompt_not_the_id_or_status(width: int) -> None:
    lines = rendered(VIDEO_COLUMNS, VIDEOS, width)

    assert max(cell_len(line) for line in lines) <= width
    header, running, done = lines
    assert running.split()[:2] == ["vid_01M8AJA3T0R087X9888Z3XCE2J", "in_progress"]
    assert done.split()[:2] == ["vid_01M8AJA3T0R087X9888Z3XCE2K", "completed"]
    assert running.endswith("…")
    assert "A lighthouse keeper" in running
    assert done.rstrip().endswith("A kite over the dunes")
    assert header.split()[-1] == "prompt"


def test_a_wider_terminal_shows_more_of_each_video() -> None:
    narrow, wide = (rendered(VIDEO_COLUMNS, VIDEOS, width)[0].split() for width in (80, 100))

    assert narrow == ["id", "status", "model", "prompt"]
    assert wide == ["id", "status", "model", "created", "prompt"]
    assert rendered(VIDEO_COLUMNS, VIDEOS, 160)[0].split() == [
        "id", "status", "progress", "model", "seconds", "size", "created", "prompt"
    ]  # fmt: skip


@pytest.mark.parametrize("width", [80, 100])
def test_the_models_and_keys_fit_with_every_size_and_the_key_ids_whole(width: int) -> None:
    models = rendered(MODEL_COLUMNS, MODELS, width)
    keys = rendered(KEY_COLUMNS, KEYS, width)

    assert max(cell_len(line) for line in models + keys) <= width
    shown = " ".join(models)
    for size in ("1920x1080", "1080x1920", "1792x1024", "1024x1792"):
        assert size in shown  # wrapped at its commas, never cut
    assert keys[1].split()[0] == "key_3f9a0c1d2e4b"
    assert keys[1].split()[-1] == "-"


def test_piped_every_field_goes_out_whole_tab_separated(capsys: pytest.CaptureFixture[str]) -> None:
    print_table(Console(file=io.StringIO(), force_terminal=False), VIDEO_COLUMNS, VIDEOS)

    assert capsys.readouterr().out.splitlines() == ["\t".join(row) for row in VIDEOS]
