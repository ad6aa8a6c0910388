"""Characters (OpenAI's `POST /v1/videos/characters`): a name and a short video the upstream turns
into a character a create may then name. Each is its owner's: another owner's id is not found."""

from __future__ import annotations

import time

from videos_core.errors import CharacterNotFound, InvalidRequest
from videos_core.ids import new_character_id
from videos_core.models.api import DEFAULT_MODEL, Character, CharacterReference, CreateCharacterRequest
from videos_core.ports import CharacterStore, Reference, StoredCharacter, UploadStore, Upstream


def create_character(
    owner: str,
    request: CreateCharacterRequest,
    video: Reference | None,
    upstream: Upstream,
    store: CharacterStore,
    uploads: UploadStore,
) -> Character:
    if (video is None) == (request.video is None):
        message = "A character needs its video: the form's video file, or video[id] of an upload."
        raise InvalidRequest(message, param="video")
    if request.video is not None:
        video = uploads.video(owner, request.video.id)  # an MP4 by its bytes, as a form's file is
    assert video is not None
    upstream_id = upstream.create_character(DEFAULT_MODEL, request.name, video)
    stored = StoredCharacter(new_character_id(), request.name, int(time.time()), upstream_id)
    store.put(owner, stored)
    return _view(stored)


def get_character(owner: str, character_id: str, store: CharacterStore) -> Character:
    return _view(find_character(owner, character_id, store))


def find_character(owner: str, character_id: str, store: CharacterStore) -> StoredCharacter:
    found = store.get(owner, character_id) if _plausible(character_id) else None
    if found is None:
        raise CharacterNotFound(f"No character with id '{character_id}'.", param="character_id")
    return found


def upstream_ids(owner: str, named: list[CharacterReference], store: CharacterStore) -> tuple[str, ...]:
    """The upstream's ids of the characters a create names, each the caller's own."""
    return tuple(find_character(owner, c.id, store).upstream_id for c in named)


def _plausible(character_id: str) -> bool:
    return character_id.startswith("char_") and character_id[5:].isalnum()


def _view(stored: StoredCharacter) -> Character:
    return Character(id=stored.id, name=stored.name, created_at=stored.created_at)
