"""Each provider's wire protocol over the same engine: a dialect parses its provider's requests into
the engine's, answers in its shapes (errors included) and checks its own way of sending a key. Written
from each provider's documentation and driven in tests by its official SDK.

A dialect is a module here declaring `DIALECT`, found at first use: one per registered provider
(`videos_core.providers`), served under its own path of the engine."""

from __future__ import annotations

import base64
import binascii
import importlib
import io
import pkgutil
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

from PIL import Image, UnidentifiedImageError
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from local.engine.errors import EngineError
from local.engine.jobs import Job
from local.engine.params import CreateParams
from local.engine.service import Engine

Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Dialect:
    provider: str
    # Where the engine serves it: a route to the engine's dialect has the engine's URL + this as base_url.
    path: str
    routes: Callable[[Engine, str | None], list[Route]]
    # The provider's id of a model this dialect serves: what the conformance suite routes to it.
    example_model: str
    # Where it publishes the keys it signs its callbacks with, for a provider that signs them.
    webhook_keys_path: str | None = None
    # How it answers an error, for a status fault armed on its paths (None: OpenAI's shape).
    errors: Callable[[EngineError], Response] | None = None
    # The secret a route to it is stored with offline, from the key a routes file gives and the
    # engine's URL (None: that key): Vertex AI's is a service account's JSON key.
    route_secret: Callable[[str, str], str] | None = None


@cache
def dialects() -> dict[str, Dialect]:
    """Every dialect, by its provider's name."""
    found: dict[str, Dialect] = {}
    for module in pkgutil.iter_modules(__path__):
        dialect = importlib.import_module(f"{__name__}.{module.name}").DIALECT
        if not isinstance(dialect, Dialect) or dialect.provider != module.name:
            raise TypeError(f"{module.name}: DIALECT must be the Dialect of provider {module.name!r}")
        found[dialect.provider] = dialect
    return found


class MediaFile(FileResponse):
    """A rendered file, read in one piece: starlette reads a file 64 KiB at a time, each read a trip
    to a worker thread, and a video is a few hundred KiB to a few MiB."""

    chunk_size = 8 * 1024 * 1024


def job_video(engine: Engine, job_id: str | None, missing: Exception) -> MediaFile:
    """A job's video as a provider's storage serves it (its signed URL checked first); `missing`, in
    the provider's shape, where the provider keeps no such file."""
    if job_id is None:
        raise missing
    path, media_type = engine.asset(job_id, "video")
    return MediaFile(path, media_type=media_type)


def speaking(render: Callable[[EngineError], Response], endpoint: Endpoint) -> Endpoint:
    """An endpoint whose errors are answered in its provider's shape."""

    async def answered(request: Request) -> Response:
        try:
            return await endpoint(request)
        except EngineError as e:
            return render(e)

    return answered


# Google's canonical error codes by the HTTP status each maps to (google.rpc.Code).
_GOOGLE_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def google_error(error: EngineError) -> Response:
    """An error as Google's APIs answer one (the Gemini API, Vertex AI):
    `{"error": {"code": 400, "message", "status": "INVALID_ARGUMENT"}}`."""
    fallback = "INTERNAL" if error.status >= 500 else "FAILED_PRECONDITION"
    status = _GOOGLE_STATUS_NAMES.get(error.status, fallback)
    body = {"error": {"code": error.status, "message": error.message, "status": status}}
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return JSONResponse(body, error.status, headers=headers)


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
    """A picture size for an aspect ratio (`W:H`) and a resolution (`<shorter side>p`): the longer side
    is the shorter one times the ratio, to an even number of pixels (16:9 at 768p is 1366x768, 21:9 at
    720p is 1680x720)."""
    short = int(resolution.removesuffix("p"))
    width, _, height = aspect_ratio.partition(":")
    ratio = Fraction(max(int(width), int(height)), min(int(width), int(height)))
    long = round(short * ratio / 2) * 2
    return f"{long}x{short}" if int(width) >= int(height) else f"{short}x{long}"


def nearest_ratio(image: bytes, ratios: Sequence[str]) -> str:
    """The aspect ratio (`W:H`) of `ratios` nearest the image's own shape (for a provider that follows
    the image's shape)."""
    with Image.open(io.BytesIO(image)) as picture:
        shape = Fraction(picture.width, picture.height)

    def off(ratio: str) -> Fraction:
        width, _, height = ratio.partition(":")
        return abs(Fraction(int(width), int(height)) - shape)

    return min(ratios, key=off)


def data_uri_picture(value: str) -> tuple[bytes, tuple[int, int]]:
    """A base64 data URI's picture (a PNG, JPEG or WebP) and its width and height; ValueError saying
    what is wrong, for its dialect to answer in its own shape (the engine fetches no URL)."""
    header, _, data = value.partition(",")
    if not header.startswith("data:"):
        raise ValueError("the engine fetches no URL: give the image as a base64 data URI")
    if not header.endswith(";base64"):
        raise ValueError("the data URI is not base64-encoded")
    try:
        content = base64.b64decode(data, validate=True)
        with Image.open(io.BytesIO(content)) as picture:
            if picture.format not in ("PNG", "JPEG", "WEBP"):
                raise ValueError("the picture is not a PNG, JPEG or WebP image")
            return content, picture.size
    except (binascii.Error, UnidentifiedImageError) as e:
        raise ValueError("the data URI is not a readable image") from e
