"""The other providers' wire protocols over the same engine: each dialect parses its provider's
requests into the engine's, answers in its shapes (errors included) and checks its own way of
sending a key. Written from each provider's documentation and driven in tests by its official SDK."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from local.engine.errors import EngineError
from local.engine.jobs import Job
from local.engine.params import CreateParams
from local.engine.service import Engine

Endpoint = Callable[[Request], Awaitable[Response]]


class MediaFile(FileResponse):
    """A rendered file, read in one piece: starlette reads a file 64 KiB at a time, each read a trip
    to a worker thread, and a video is a few hundred KiB to a few MiB."""

    chunk_size = 8 * 1024 * 1024


def speaking(render: Callable[[EngineError], Response], endpoint: Endpoint) -> Endpoint:
    """An endpoint whose errors are answered in its provider's shape."""

    async def answered(request: Request) -> Response:
        try:
            return await endpoint(request)
        except EngineError as e:
            return render(e)

    return answered


def start(engine: Engine, params: CreateParams) -> Job:
    """A job of another provider's dialect: it sends no OpenAI webhook when it ends."""
    job = engine.create(params)
    job.openai_dialect = False
    return job


def key_matches(given: str | None, expected: str | None) -> bool:
    """Any non-empty key is accepted unless the engine was started with one."""
    if not given or not given.strip():
        return False
    return expected is None or secrets.compare_digest(given.strip(), expected)


def size_of(aspect_ratio: str, resolution: str) -> str:
    """A picture size for an aspect ratio and a resolution (its shorter side)."""
    short = {"720p": 720, "768p": 768, "1080p": 1080}[resolution]
    long = {720: 1280, 768: 1366, 1080: 1920}[short]
    if aspect_ratio == "16:9":
        return f"{long}x{short}"
    if aspect_ratio == "9:16":
        return f"{short}x{long}"
    return f"{short}x{short}"
