"""Files the engine keeps by their content (uploaded videos, reference images, characters' videos):
one file per digest, written whole before it appears, so that a job reading it never sees another
request with the same bytes rewriting it under it."""

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
        descriptor, staging = tempfile.mkstemp(prefix=f".{digest}-", dir=directory)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
            os.replace(staging, path)
        except BaseException:
            Path(staging).unlink(missing_ok=True)
            raise
    return path, digest
