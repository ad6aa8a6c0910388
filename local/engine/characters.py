"""The engine's characters (OpenAI's `POST /v1/videos/characters`): a name and a short video,
kept by the video's digest; a create that names one in `characters` shows the character's picture
in every frame, inset in the lower corner."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import av

from local.engine.errors import EngineError, invalid
from local.engine.stored_files import keep, write_whole

MAX_NAME_CHARS = 80


@dataclass(frozen=True)
class Character:
    id: str
    name: str
    path: str
    digest: str
    created_at: int = field(default_factory=lambda: int(time.time()))

    def view(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "created_at": self.created_at}


class Characters:
    """Kept in the data directory (their list in `characters.json`), as a provider keeps an account's
    characters: one made before the engine restarted is still there after."""

    def __init__(self, data_dir: Path) -> None:
        self._dir = data_dir / "characters"
        self._list = data_dir / "characters.json"
        self._by_id: dict[str, Character] = {}
        if self._list.exists():
            kept = (Character(**fields) for fields in json.loads(self._list.read_text()))
            self._by_id = {c.id: c for c in kept if Path(c.path).exists()}

    def create(self, name: str, video: bytes) -> Character:
        if not 1 <= len(name) <= MAX_NAME_CHARS:
            raise invalid("name", f"name must be 1 to {MAX_NAME_CHARS} characters.")
        path, digest = keep(self._dir, video, ".mp4")
        try:
            with av.open(str(path)) as container:
                next(container.decode(video=0))
        except (av.FFmpegError, StopIteration, IndexError) as e:
            path.unlink(missing_ok=True)
            raise invalid("video", "video is not a readable video with a video track.") from e
        character = Character("char_" + secrets.token_hex(16), name, str(path), digest)
        self._by_id[character.id] = character
        write_whole(self._list, json.dumps([asdict(c) for c in list(self._by_id.values())]).encode())
        return character

    def get(self, character_id: str) -> Character:
        character = self._by_id.get(character_id)
        if character is None:
            raise EngineError(
                404,
                f"Character with id '{character_id}' not found.",
                code="character_not_found",
                param="character_id",
            )
        return character
