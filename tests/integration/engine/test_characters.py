"""The engine's characters, driven with the openai SDK: a name and a video make a character, which a
create names in `characters` (as OpenAI's guide has it) and whose picture then shows in every frame."""

from __future__ import annotations

import numpy as np
import openai
import pytest
from openai import OpenAI

from tests.media import gray_frames


def clip(client: OpenAI, prompt: str) -> bytes:
    video = client.videos.create_and_poll(prompt=prompt, size="1280x720", poll_interval_ms=100)
    return client.videos.download_content(video.id).content


def test_a_character_is_made_read_back_and_shown_where_a_create_names_it(client: OpenAI) -> None:
    # Fixed prompts: a render is its prompt's, and these two differ where the inset goes (a random
    # pair may match there by chance).
    character = client.videos.create_character(
        name="Captain Gull", video=("gull.mp4", clip(client, "A seagull"), "video/mp4")
    )
    assert character.id is not None
    assert character.id.startswith("char_")
    fetched = client.videos.get_character(character.id)
    assert (fetched.id, fetched.name, fetched.created_at) == (
        character.id,
        "Captain Gull",
        character.created_at,
    )

    prompt = "Captain Gull over the harbour"
    plain = client.videos.create_and_poll(prompt=prompt, size="1280x720", poll_interval_ms=100)
    starring = client.videos.create(
        prompt=prompt, size="1280x720", extra_body={"characters": [{"id": character.id}]}
    )
    starring = client.videos.poll(starring.id, poll_interval_ms=100)

    assert starring.status == "completed"
    with_character = gray_frames(client.videos.download_content(starring.id).content)[0]
    without = gray_frames(client.videos.download_content(plain.id).content)[0]
    corner = (slice(720 - 720 // 4 - 720 // 12, 720 - 720 // 12), slice(1280 - 1280 // 4 - 32, 1280 - 32))
    elsewhere = (slice(0, 120), slice(0, 1280))
    assert float(np.abs(with_character[corner] - without[corner]).mean()) > 8  # 45 with these prompts
    assert float(np.abs(with_character[elsewhere] - without[elsewhere]).mean()) < 4


def test_what_makes_no_character(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        client.videos.create_character(name="", video=("x.mp4", b"\0" * 64, "video/mp4"))
    with pytest.raises(openai.BadRequestError):
        client.videos.create_character(name="Nobody", video=("x.mp4", b"not a video", "video/mp4"))
    with pytest.raises(openai.NotFoundError):
        client.videos.get_character("char_nope")
    with pytest.raises(openai.NotFoundError):
        client.videos.create(prompt="x", extra_body={"characters": [{"id": "char_nope"}]})
