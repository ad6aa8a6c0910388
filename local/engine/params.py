"""Parsing and validation of the engine's request bodies and queries, with OpenAI's error answers."""

from __future__ import annotations

import base64
import binascii
import io
import json
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from local.engine.errors import EngineError, invalid
from local.engine.jobs import MODELS, SECONDS, SIZES

MAX_PROMPT_CHARS = 32_000  # the published spec's
MAX_REFERENCE_BYTES = 10 * 1024 * 1024
REFERENCE_FORMATS = {"PNG", "JPEG", "WEBP"}
LIST_DEFAULT_LIMIT = 20
LIST_MAX_LIMIT = 100
VARIANTS = ("video", "thumbnail", "spritesheet")

CREATE_FIELDS = {"prompt", "model", "seconds", "size", "input_reference", "characters"}
MAX_CHARACTERS = 2
REMIX_FIELDS = {"prompt"}
EDIT_FIELDS = {"prompt", "video"}
EXTEND_FIELDS = {"prompt", "seconds", "video"}
# An extension's new segment, as OpenAI's spec gives it.
EXTENSION_SECONDS = ("4", "8", "12", "16", "20")
MAX_VIDEO_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class BaseParams:
    """What an edit or an extension starts from: a completed video of the engine's, or an upload."""

    prompt: str
    video_id: str | None
    upload: bytes | None
    seconds: str | None = None  # an extension's new segment


@dataclass(frozen=True)
class CreateParams:
    prompt: str
    model: str
    seconds: str
    size: str
    reference: bytes | None = None
    characters: tuple[str, ...] = ()


async def _read_body(request: Request, allowed: set[str]) -> tuple[dict[str, str], bytes | None]:
    """The text fields of a JSON, multipart or url-encoded body, and its uploaded file (a reference
    image, or the video an edit or an extension starts from)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        try:
            form = await request.form(max_files=2, max_fields=20, max_part_size=MAX_VIDEO_BYTES)
        except Exception as e:  # starlette raises plain exceptions for unparseable multipart bodies
            raise EngineError(400, f"Could not parse the form body: {e}", code="invalid_body") from e
        try:
            return await _form_fields(form, allowed)
        finally:
            await form.close()
    if content_type == "application/json" or not content_type:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
            raise EngineError(
                400, "We could not parse the JSON body of your request.", code="invalid_json"
            ) from e
        if not isinstance(body, dict):
            raise EngineError(400, "The request body must be a JSON object.", code="invalid_json")
        return _json_fields(body, allowed), None
    raise EngineError(400, f"Unsupported content type '{content_type}'.", code="unsupported_content_type")


def _json_fields(body: dict[str, Any], allowed: set[str]) -> dict[str, str]:
    """A JSON body's fields, an object's as `name[key]` (as a form sends them)."""
    fields: dict[str, str] = {}
    for name, value in body.items():
        if name == "characters" and name in allowed and isinstance(value, list):
            for n, item in enumerate(value):
                if not (isinstance(item, dict) and set(item) == {"id"} and isinstance(item["id"], str)):
                    raise invalid(name, 'characters must be a list of {"id": "char_…"}.')
                fields[f"characters[{n}][id]"] = item["id"]
            continue
        if name == "video" and name in allowed and isinstance(value, dict):
            if set(value) != {"id"} or not isinstance(value["id"], str):
                raise invalid(name, 'video must be {"id": "<a completed video\'s id>"}.')
            fields["video[id]"] = value["id"]
            continue
        if name not in allowed or name == "input_reference":
            raise invalid(name, f"Unknown parameter: '{name}'.", "unknown_parameter")
        if not isinstance(value, str):
            raise invalid(name, f"Invalid type for '{name}': expected a string.", "invalid_type")
        fields[name] = value
    return fields


async def _form_fields(form: FormData, allowed: set[str]) -> tuple[dict[str, str], bytes | None]:
    fields: dict[str, str] = {}
    upload: bytes | None = None
    for name, value in form.multi_items():
        if name == "input_reference" and "input_reference" in allowed:
            if not isinstance(value, UploadFile):
                raise invalid(name, "input_reference must be an uploaded image file.", "invalid_type")
            upload = await value.read()
        elif name == "input_reference[image_url]" and "input_reference" in allowed and isinstance(value, str):
            upload = _data_url_bytes(value)
        elif name == "video" and "video" in allowed:
            if not isinstance(value, UploadFile):
                raise invalid(name, "video must be an uploaded MP4 file or video[id].", "invalid_type")
            upload = await value.read()
        elif isinstance(value, str) and (name in allowed or _object_field(name, allowed)):
            if name.startswith("characters["):  # `characters[][id]` repeats: numbered in order
                name = f"characters[{sum(key.startswith('characters[') for key in fields)}][id]"
            fields[name] = value
        else:
            raise invalid(name, f"Unknown parameter: '{name}'.", "unknown_parameter")
    return fields, upload


def _object_field(name: str, allowed: set[str]) -> bool:
    """A form's field of an object or a list of them, as the openai SDK writes it: `video[id]`,
    `characters[][id]`, `characters[0][id]`."""
    return (name == "video[id]" and "video" in allowed) or (
        name.startswith("characters[") and name.endswith("][id]") and "characters" in allowed
    )


def _data_url_bytes(url: str) -> bytes:
    """The engine never fetches: an image URL must carry its bytes as a base64 data URL."""
    header, _, data = url.partition(",")
    if not (header.startswith("data:image/") and header.endswith(";base64")):
        raise invalid(
            "input_reference", "input_reference.image_url must be a base64 data URL (data:image/…;base64,…)."
        )
    try:
        return base64.b64decode(data, validate=True)
    except binascii.Error as e:
        raise invalid("input_reference", "input_reference.image_url is not valid base64.") from e


def _check_reference(reference: bytes) -> None:
    if len(reference) > MAX_REFERENCE_BYTES:
        raise invalid("input_reference", "input_reference must be at most 10 MiB.")
    try:
        with Image.open(io.BytesIO(reference)) as image:
            image_format = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise invalid("input_reference", "input_reference is not a readable image.") from e
    if image_format not in REFERENCE_FORMATS:
        raise invalid("input_reference", "input_reference must be a PNG, JPEG or WebP image.")


def _prompt(fields: dict[str, str]) -> str:
    prompt = fields.get("prompt")
    if prompt is None:
        raise invalid("prompt", "Missing required parameter: 'prompt'.", "missing_required_parameter")
    if not prompt.strip():
        raise invalid("prompt", "prompt must not be empty.")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise invalid("prompt", f"prompt must be at most {MAX_PROMPT_CHARS} characters.")
    return prompt


def _choice(fields: dict[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = fields.get(name, default)
    if value not in allowed:
        raise invalid(
            name, f"Invalid value for '{name}': '{value}'. Supported values are: {', '.join(allowed)}."
        )
    return value


async def parse_create(request: Request) -> CreateParams:
    fields, reference = await _read_body(request, CREATE_FIELDS)
    prompt = _prompt(fields)
    model = fields.get("model", MODELS[0])
    if model not in MODELS:
        raise EngineError(
            404,
            f"The model '{model}' does not exist or you do not have access to it.",
            code="model_not_found",
            param="model",
        )
    if reference is not None:
        _check_reference(reference)
    characters = tuple(value for name, value in fields.items() if name.startswith("characters["))
    if len(characters) > MAX_CHARACTERS:
        raise invalid("characters", f"A video takes at most {MAX_CHARACTERS} characters.")
    return CreateParams(
        prompt=prompt,
        model=model,
        seconds=_choice(fields, "seconds", SECONDS, "4"),
        size=_choice(fields, "size", SIZES, "720x1280"),
        reference=reference,
        characters=characters,
    )


async def parse_base(request: Request, extension: bool) -> BaseParams:
    """An edit's or an extension's body: the prompt, and the video as `{"id"}` or an uploaded file."""
    fields, upload = await _read_body(request, EXTEND_FIELDS if extension else EDIT_FIELDS)
    prompt = _prompt(fields)
    video_id = fields.get("video[id]")
    if (video_id is None) == (upload is None):
        raise invalid(
            "video", 'Give the video as {"id": …} or as an uploaded file.', "missing_required_parameter"
        )
    if upload is not None and len(upload) > MAX_VIDEO_BYTES:
        raise invalid("video", f"video must be at most {MAX_VIDEO_BYTES // 2**20} MiB.")
    seconds = None
    if extension:
        if "seconds" not in fields:
            raise invalid("seconds", "Missing required parameter: 'seconds'.", "missing_required_parameter")
        seconds = _choice(fields, "seconds", EXTENSION_SECONDS, "")
    return BaseParams(prompt=prompt, video_id=video_id, upload=upload, seconds=seconds)


async def parse_character(request: Request) -> tuple[str, bytes]:
    """A character's form: its `name` and its `video` file."""
    fields, video = await _read_body(request, {"name", "video"})
    if "name" not in fields:
        raise invalid("name", "Missing required parameter: 'name'.", "missing_required_parameter")
    if video is None:
        raise invalid("video", "Missing required parameter: 'video' (a file).", "missing_required_parameter")
    return fields["name"], video


async def parse_remix(request: Request) -> str:
    fields, _ = await _read_body(request, REMIX_FIELDS)
    return _prompt(fields)


@dataclass(frozen=True)
class ListParams:
    limit: int
    order: str
    after: str | None


def parse_list(request: Request) -> ListParams:
    query = request.query_params
    raw_limit = query.get("limit", str(LIST_DEFAULT_LIMIT))
    try:
        limit = int(raw_limit)
    except ValueError:
        limit = -1
    if not 0 <= limit <= LIST_MAX_LIMIT:
        raise invalid("limit", f"limit must be an integer from 0 to {LIST_MAX_LIMIT}.")
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise invalid("order", "order must be 'asc' or 'desc'.")
    return ListParams(limit=limit, order=order, after=query.get("after") or None)


def parse_variant(request: Request) -> str:
    return _choice(dict(request.query_params), "variant", VARIANTS, "video")
