"""Replicate's HTTP API, as replicate.com/docs has it (and its official client, replicate, sends it),
under `/replicate`.

`POST /replicate/v1/models/{owner}/{name}/predictions` (bearer token) runs an official model on
`input`, its own fields: google/veo-3.1 and google/veo-3.1-fast take `prompt`, `duration` (4, 6 or 8,
default 8), `aspect_ratio` (16:9 or 9:16), `resolution` (720p or 1080p, default 1080p), `image` and
`generate_audio`; minimax/hailuo-02 takes `prompt`, `duration` (6 or 10, 10 at 768p only),
`resolution` (512p, 768p or 1080p, default 1080p; 16:9, or the image's shape) and
`first_frame_image`. Images are data URIs (the engine fetches no URL). The answer is the prediction,
201, status `starting`. `GET /replicate/v1/predictions/{id}` reads it: starting, processing (with
`logs` holding a progress bar as the model prints one), succeeded with `output` (a URL on the engine's
delivery path, `/replicate/delivery/…`, that needs no token and expires), failed with `error` (`[fail]`;
`[moderation]` is Replicate's E005, an input or output flagged as sensitive) or canceled. `POST
/replicate/v1/predictions/{id}/cancel` cancels one starting or processing and answers the prediction.
A create's `webhook` is called with the prediction when it ends (`webhook_events_filter` must then
include `completed`, the only event the engine sends), signed as Replicate signs every webhook
(Standard Webhooks: `webhook-id`, the same on each retry; `webhook-timestamp`; `webhook-signature`,
`v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` under the account's secret). `GET
/replicate/v1/webhooks/default/secret` gives the account's secret, `{"key": "whsec_…"}`, to its token:
one per engine unless given.

Errors are problem details, `{"title", "detail", "status"}`: a body that is not JSON a 400, an input
that fails the model's schema a 422 listing `invalid_fields`, an unknown model or prediction a 404, no
or another token a 401.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from PIL import Image, UnidentifiedImageError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local.engine.dialects import Dialect, job_video, key_matches, size_of, speaking, start
from local.engine.errors import EngineError
from local.engine.jobs import Job
from local.engine.params import CreateParams
from local.engine.service import Engine
from local.engine.signed_urls import SignedUrls
from local.engine.webhooks import new_secret, secret_key, sign

PREFIX = "/replicate"
SECRET_PATH = PREFIX + "/v1/webhooks/default/secret"
WEBHOOK_EVENTS = ("start", "output", "logs", "completed")
# Replicate's error for an input or output its safety checks flag.
FLAGGED = "The input or output was flagged as sensitive. Please try again with different inputs. (E005)"
_TITLES = {400: "Bad request", 401: "Unauthenticated", 404: "Not found", 422: "Input validation failed"}


@dataclass(frozen=True)
class Model:
    durations: tuple[int, ...]
    default_duration: int
    resolutions: tuple[str, ...]
    default_resolution: str
    # The field the first frame is given in.
    image_field: str
    # The aspect ratios it takes in `aspect_ratio` (none: 16:9 from text, the image's own shape).
    aspect_ratios: tuple[str, ...] = ()
    # The resolutions 10 seconds are made at (all of them when empty).
    long_resolutions: tuple[str, ...] = ()


_VEO = Model((4, 6, 8), 8, ("720p", "1080p"), "1080p", "image", aspect_ratios=("16:9", "9:16"))
MODELS = {
    "google/veo-3.1": _VEO,
    "google/veo-3.1-fast": _VEO,
    "minimax/hailuo-02": Model(
        (6, 10), 6, ("512p", "768p", "1080p"), "1080p", "first_frame_image", long_resolutions=("768p",)
    ),
}


class _InvalidInputError(EngineError):
    def __init__(self, field: str, description: str, kind: str = "enum") -> None:
        super().__init__(422, f"- input.{field}: {description}\n")
        self.invalid_field = {"type": kind, "field": f"input.{field}", "description": description}


def _replicate_error(error: EngineError) -> Response:
    body: dict[str, Any] = {
        "title": _TITLES.get(error.status, "Internal server error" if error.status >= 500 else "Error"),
        "detail": error.message,
        "status": error.status,
    }
    if isinstance(error, _InvalidInputError):
        body["invalid_fields"] = [error.invalid_field]
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return JSONResponse(body, error.status, headers=headers, media_type="application/problem+json")


class ReplicateApi:
    def __init__(self, engine: Engine, api_key: str | None, webhook_secret: str | None = None) -> None:
        self.engine, self.api_key = engine, api_key
        # The account's webhook signing secret, `whsec_` and base64.
        self.webhook_secret = webhook_secret or new_secret()
        self._signing_key = secret_key(self.webhook_secret)
        self.signed = SignedUrls()
        self.predictions: dict[str, str] = {}  # prediction id -> the engine's job id
        self.inputs: dict[str, dict[str, Any]] = {}  # job id -> the prediction's input
        self.cancelled: set[str] = set()

    def _check(self, request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() not in ("bearer", "token") or not key_matches(token, self.api_key):
            raise EngineError(401, "You did not pass a valid authentication token")

    def _signed(self) -> Callable[[bytes], dict[str, str]]:
        """Standard Webhooks' headers for one webhook: its id kept across retries, each attempt's own
        timestamp."""
        message_id = "msg_" + secrets.token_hex(13)

        def headers(body: bytes) -> dict[str, str]:
            timestamp = int(time.time())
            return {
                "webhook-id": message_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign(self._signing_key, message_id, timestamp, body),
            }

        return headers

    async def default_secret(self, request: Request) -> Response:
        """The account's webhook signing secret, to its token."""
        self._check(request)
        return JSONResponse({"key": self.webhook_secret})

    async def create(self, request: Request) -> Response:
        self._check(request)
        name = f"{request.path_params['owner']}/{request.path_params['name']}"
        model = MODELS.get(name)
        if model is None:
            raise EngineError(404, "The requested resource could not be found.")
        try:
            body = json.loads(await request.body() or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise EngineError(400, "The request body is not valid JSON.") from e
        if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
            raise EngineError(422, "- (root): input is required\n")
        given: dict[str, Any] = body["input"]
        prompt = given.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise _InvalidInputError("prompt", "prompt is required", "required")
        duration = _choice(given, "duration", model.durations, model.default_duration)
        resolution = _choice(given, "resolution", model.resolutions, model.default_resolution)
        if duration == 10 and model.long_resolutions and resolution not in model.long_resolutions:
            raise _InvalidInputError("duration", "10 seconds is only available for 768p resolution")
        image = _image(given.get(model.image_field), model.image_field)
        if model.aspect_ratios:
            ratio = _choice(given, "aspect_ratio", model.aspect_ratios, model.aspect_ratios[0])
            size = size_of(ratio, resolution)
        else:
            size = _shape_of(image, resolution)
        webhook = _webhook(body)
        job = start(self.engine, CreateParams(prompt, name, str(duration), size, reference=image))
        prediction_id = _prediction_id(job)
        self.predictions[prediction_id] = job.id
        self.inputs[job.id] = {field: value for field, value in given.items() if field != model.image_field}
        base = str(request.base_url)
        if webhook is not None:
            self.engine.call_back(job, webhook, lambda ended: self._view(ended, base), self._signed())
        return JSONResponse(self._view(job, base), 201)

    def _job(self, request: Request) -> Job:
        self._check(request)
        job_id = self.predictions.get(request.path_params["prediction_id"])
        if job_id is None:
            raise EngineError(404, "The requested resource could not be found.")
        return self.engine.read_status(job_id)

    async def get(self, request: Request) -> Response:
        return JSONResponse(self._view(self._job(request), str(request.base_url)))

    async def cancel(self, request: Request) -> Response:
        """Cancels a prediction starting or processing; one that has ended is answered as it is."""
        job = self._job(request)
        if not job.terminal:
            if job.task is not None:
                job.task.cancel()
            self.cancelled.add(job.id)
            job.fail("cancelled", "The prediction was canceled.")
            self.engine.announce_end(job)
        return JSONResponse(self._view(job, str(request.base_url)))

    def _view(self, job: Job, base_url: str) -> dict[str, Any]:
        """The prediction, as a GET and a webhook carry it."""
        state, progress = job.live_status()
        prediction_id = _prediction_id(job)
        root = f"{base_url.rstrip('/')}{PREFIX}/v1/predictions/{prediction_id}"
        view: dict[str, Any] = {
            "id": prediction_id,
            "model": job.model,
            "version": "hidden",
            "input": self.inputs.get(job.id, {}),
            "logs": "",
            "output": None,
            "data_removed": False,
            "error": None,
            "status": "starting",
            "created_at": _iso(job.created_at),
            "started_at": None,
            "completed_at": None,
            "metrics": {},
            "urls": {
                "get": root,
                "cancel": f"{root}/cancel",
                "web": f"https://replicate.com/p/{prediction_id}",
            },
        }
        if state == "queued":
            return view
        view["started_at"] = _iso(job.created_at)
        if state == "in_progress":
            return view | {"status": "processing", "logs": _progress_bar(progress)}
        ended = {"completed_at": _iso(job.completed_at or job.created_at), "logs": _progress_bar(100)}
        if job.id in self.cancelled:
            return view | ended | {"status": "canceled"}
        if state == "completed":
            path = f"{PREFIX}/delivery/{prediction_id}/output.mp4"
            url = f"{base_url.rstrip('/')}{path}?{self.signed.query(path)}"
            metrics = {"predict_time": job.latency, "video_output_duration_seconds": int(job.seconds)}
            return view | ended | {"status": "succeeded", "output": url, "metrics": metrics}
        error = job.error or {}
        message = FLAGGED if error.get("code") == "moderation_blocked" else error.get("message")
        return view | ended | {"status": "failed", "error": message or "Video generation failed."}

    async def output(self, request: Request) -> Response:
        """An output at its signed URL, as replicate.delivery serves it: no token; a bad or expired
        signature is refused."""
        self.signed.check(request.url.path, request.query_params)
        job_id = self.predictions.get(request.path_params["prediction_id"])
        return job_video(self.engine, job_id, EngineError(404, "The requested resource could not be found."))

    def routes(self) -> list[Route]:
        predictions = PREFIX + "/v1/predictions/{prediction_id}"
        return [
            Route(
                PREFIX + "/v1/models/{owner}/{name}/predictions",
                speaking(_replicate_error, self.create),
                methods=["POST"],
            ),
            Route(predictions, speaking(_replicate_error, self.get), methods=["GET"]),
            Route(SECRET_PATH, speaking(_replicate_error, self.default_secret), methods=["GET"]),
            Route(predictions + "/cancel", speaking(_replicate_error, self.cancel), methods=["POST"]),
            Route(
                PREFIX + "/delivery/{prediction_id}/output.mp4",
                speaking(_replicate_error, self.output),
                methods=["GET"],
            ),
        ]


def _prediction_id(job: Job) -> str:
    """A prediction id as Replicate writes them (26 lowercase base32 characters), from the job's id."""
    digest = bytes.fromhex(job.id.removeprefix("video_")[:32])
    return base64.b32encode(digest).decode().lower().rstrip("=")


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def _progress_bar(percent: int) -> str:
    """A progress bar as a model prints one to its logs (what the client parses)."""
    filled = "█" * (percent // 10)
    return f"{percent:3d}%|{filled:<10}| {percent}/100\n"


def _choice(given: dict[str, Any], field: str, allowed: tuple[Any, ...], default: Any) -> Any:
    value = given.get(field, default)
    expected = int if isinstance(allowed[0], int) else str
    if isinstance(value, bool) or not isinstance(value, expected):
        kind = "integer" if expected is int else "string"
        raise _InvalidInputError(
            field, f"Invalid type. Expected: {kind}, given: {type(value).__name__}", "invalid_type"
        )
    if value not in allowed:
        options = ", ".join(str(a) for a in allowed)
        raise _InvalidInputError(field, f"{field} must be one of the following: {options}")
    return value


def _image(value: Any, field: str) -> bytes | None:
    """A file input: a base64 data URI of a PNG, JPEG or WebP picture."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith("data:"):
        raise _InvalidInputError(field, "the engine fetches no URL: give the file as a data URI", "format")
    header, _, data = value.partition(",")
    try:
        if not header.endswith(";base64"):
            raise ValueError("not base64")
        content = base64.b64decode(data, validate=True)
        with Image.open(io.BytesIO(content)) as picture:
            if picture.format not in ("PNG", "JPEG", "WEBP"):
                raise ValueError("not a picture")
    except (binascii.Error, ValueError, UnidentifiedImageError) as e:
        raise _InvalidInputError(field, "Does not match format 'uri': not a readable image", "format") from e
    return content


def _shape_of(image: bytes | None, resolution: str) -> str:
    """Hailuo's picture: 16:9 from text; from an image, the image's shape at the resolution (its
    shorter side), to an even number of pixels."""
    if image is None:
        return size_of("16:9", resolution)
    short = int(resolution.removesuffix("p"))
    with Image.open(io.BytesIO(image)) as picture:
        width, height = picture.width, picture.height
    long = round(short * Fraction(max(width, height), min(width, height)) / 2) * 2
    return f"{long}x{short}" if width >= height else f"{short}x{long}"


def _webhook(body: dict[str, Any]) -> str | None:
    """The URL to call when the prediction ends, if its events filter lets `completed` through."""
    webhook = body.get("webhook")
    if webhook is None:
        return None
    if not isinstance(webhook, str) or not webhook.startswith(("https://", "http://")):
        raise EngineError(422, "- webhook: Does not match format 'uri'\n")
    events = body.get("webhook_events_filter", list(WEBHOOK_EVENTS))
    if not isinstance(events, list) or any(event not in WEBHOOK_EVENTS for event in events):
        raise EngineError(
            422,
            f"- webhook_events_filter: each event must be one of: {', '.join(WEBHOOK_EVENTS)}\n",
        )
    return webhook if "completed" in events else None


DIALECT = Dialect(
    "replicate",
    PREFIX,
    lambda engine, api_key: ReplicateApi(engine, api_key).routes(),
    example_model="google/veo-3.1",
    webhook_keys_path=SECRET_PATH,
    errors=_replicate_error,
)
