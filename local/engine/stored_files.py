"""Files written whole before they appear: the engine's files kept by their content (uploaded videos,
reference images, characters' videos), one per digest, so that a job reading one never sees another
request with the same bytes rewriting it under it; and any file replaced whole (a list, a snapshot)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def keep(directory: Path, data: bytes, suffix: str = "") -> tuple[Path, str]:
    """The file holding `data` in `directory`, and its digest; written only when not already there."""
    digest = hashlib.sha256(data).hexdigest()
    path = directory / f"{digest}{suffix}"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        write_whole(path, data)
    return path, digest


def write_whole(path: Path, data: bytes) -> None:
    """`data` at `path`, on disk before the name points at it: a reader, or a start after a crash, finds
    the old file or the new, never part of one. A crash may leave a `.<name>-….tmp` beside it."""
    descriptor, staging = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
