"""The engine's files kept by content: written whole once, never rewritten under a job reading them."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from local.engine.stored_files import keep


def test_the_same_bytes_are_kept_once_by_their_digest(tmp_path: Path) -> None:
    data = b"\x00\x00\x00\x18ftypmp42" * 1000

    first, digest = keep(tmp_path / "bases", data, ".mp4")
    inode = first.stat().st_ino
    again, _ = keep(tmp_path / "bases", data, ".mp4")

    assert digest == hashlib.sha256(data).hexdigest()
    assert first == again == tmp_path / "bases" / f"{digest}.mp4"
    assert again.stat().st_ino == inode  # not written again: a reader's file stays as it was
    assert again.read_bytes() == data


def test_requests_racing_with_the_same_bytes_leave_one_whole_file(tmp_path: Path) -> None:
    data = bytes(range(256)) * 4096

    with ThreadPoolExecutor(8) as pool:
        paths = {path for path, _ in pool.map(lambda _: keep(tmp_path, data), range(32))}

    (path,) = paths
    assert path.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no staging file left behind
