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

CREATE_FIELDS = {"prompt", "model", "seconds", "size", "input_reference"}
REMIX_FIELDS = {"prompt"}


@dataclass(frozen=True)
class CreateParams:
    prompt: str
    model: str
    seconds: str
    size: str
    reference: bytes | None = None


async def _read_body(request: Request, allowed: set[str]) -> tuple[dict[str, str], bytes | None]:
    """The text fields of a JSON, multipart or url-encoded body, and an uploaded reference image."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        try:
            form = await request.form(max_files=2, max_fields=20, max_part_size=MAX_REFERENCE_BYTES)
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
    fields: dict[str, str] = {}
    for name, value in body.items():
        if name not in allowed or name == "input_reference":
            raise invalid(name, f"Unknown parameter: '{name}'.", "unknown_parameter")
        if not isinstance(value, str):
            raise invalid(name, f"Invalid type for '{name}': expected a string.", "invalid_type")
        fields[name] = value
    return fields


async def _form_fields(form: FormData, allowed: set[str]) -> tuple[dict[str, str], bytes | None]:
    fields: dict[str, str] = {}
    reference: bytes | None = None
    for name, value in form.multi_items():
        if name == "input_reference" and "input_reference" in allowed:
            if not isinstance(value, UploadFile):
                raise invalid(name, "input_reference must be an uploaded image file.", "invalid_type")
            reference = await value.read()
        elif name == "input_reference[image_url]" and "input_reference" in allowed and isinstance(value, str):
            reference = _data_url_bytes(value)
        elif name in allowed and isinstance(value, str):
            fields[name] = value
        else:
            raise invalid(name, f"Unknown parameter: '{name}'.", "unknown_parameter")
    return fields, reference


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
    return CreateParams(
        prompt=prompt,
        model=model,
        seconds=_choice(fields, "seconds", SECONDS, "4"),
        size=_choice(fields, "size", SIZES, "720x1280"),
        reference=reference,
    )


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
        limit = 0
    if not 1 <= limit <= LIST_MAX_LIMIT:
        raise invalid("limit", f"limit must be an integer from 1 to {LIST_MAX_LIMIT}.")
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise invalid("order", "order must be 'asc' or 'desc'.")
    return ListParams(limit=limit, order=order, after=query.get("after") or None)


def parse_variant(request: Request) -> str:
    return _choice(dict(request.query_params), "variant", VARIANTS, "video")
