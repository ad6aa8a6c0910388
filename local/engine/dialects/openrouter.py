"""OpenRouter's video generation API, as its API reference and official SDK have it, under `/api/v1`.

`POST /api/v1/videos` (bearer key) answers 202 `{id, polling_url, status: "pending"}`;
`GET /api/v1/videos/{id}` says pending, in_progress, completed (with `unsigned_urls` and `usage`)
or failed (with `error`); `GET /api/v1/videos/{id}/content?index=0` is the file (key needed);
`GET /api/v1/videos/models` lists each model's durations, resolutions, aspect ratios and sizes.
A submit's `callback_url` is called with the job, as a poll answers it, when the job ends.
Errors are `{"error": {"code", "message"}}`.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local.engine.dialects import Dialect, MediaFile, key_matches, size_of, speaking, start
from local.engine.errors import EngineError
from local.engine.jobs import Job
from local.engine.params import CreateParams
from local.engine.service import Engine

PREFIX = "/api/v1"


@dataclass(frozen=True)
class VideoModel:
    durations: tuple[int, ...]
    resolutions: tuple[str, ...]
    aspect_ratios: tuple[str, ...]
    cost_per_second: float


MODELS = {
    "google/veo-3.1": VideoModel((4, 6, 8), ("720p", "1080p"), ("16:9", "9:16"), 0.40),
    "openai/sora-2-pro": VideoModel((4, 8, 12), ("720p",), ("16:9", "9:16"), 0.30),
    "alibaba/wan-2.6": VideoModel((5, 10), ("720p", "1080p"), ("16:9", "9:16"), 0.05),
}


def _openrouter_error(error: EngineError) -> Response:
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return JSONResponse(
        {"error": {"code": error.status, "message": error.message}}, error.status, headers=headers
    )


def _bad(message: str) -> EngineError:
    return EngineError(400, message)


class OpenRouterVideos:
    def __init__(self, engine: Engine, api_key: str | None) -> None:
        self.engine, self.api_key = engine, api_key
        self.costs: dict[str, float] = {}

    def _check_key(self, request: Request) -> None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key_matches(key, self.api_key):
            raise EngineError(401, "No auth credentials found")

    async def submit(self, request: Request) -> Response:
        self._check_key(request)
        try:
            body = json.loads(await request.body() or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise _bad("Invalid JSON body.") from e
        if not isinstance(body, dict):
            raise _bad("The body must be a JSON object.")
        name = body.get("model")
        model = MODELS.get(name) if isinstance(name, str) else None
        if model is None:
            raise EngineError(404, f"Model {name!r} is not a video generation model.")
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise _bad("prompt is required for this model.")
        duration = body.get("duration", model.durations[0])
        if duration not in model.durations:
            raise _bad(f"duration must be one of {list(model.durations)} for {name}.")
        size = _size(body, model, str(name))
        reference = _reference(body.get("input_references"))
        job = start(self.engine, CreateParams(prompt, str(name), str(duration), size, reference=reference))
        self.costs[job.id] = round(model.cost_per_second * duration, 4)
        callback = body.get("callback_url")
        if isinstance(callback, str) and callback:
            base = str(request.base_url)
            self.engine.call_back(job, callback, lambda ended: self._view(ended, base))
        return JSONResponse(self._view(job, str(request.base_url)), 202)

    def _view(self, job: Job, base_url: str) -> dict[str, Any]:
        state, _ = job.live_status()
        view: dict[str, Any] = {
            "id": job.id,
            "polling_url": f"{PREFIX}/videos/{job.id}",
            "status": "pending" if state == "queued" else state,
            "generation_id": f"gen-{job.id}",
        }
        if state == "completed":
            view["unsigned_urls"] = [f"{base_url}{PREFIX.lstrip('/')}/videos/{job.id}/content?index=0"]
            view["usage"] = {"cost": self.costs.get(job.id, 0.0), "is_byok": False}
            view["expires_at"] = job.expires_at
        elif state == "failed":
            view["error"] = job.error["message"] if job.error else "Generation failed."
        return view

    async def poll(self, request: Request) -> Response:
        self._check_key(request)
        job = self._job(request)
        return JSONResponse(self._view(job, str(request.base_url)))

    def _job(self, request: Request) -> Job:
        try:
            return self.engine.read_status(request.path_params["job_id"])
        except EngineError as e:
            if e.status == 404:
                raise EngineError(404, "Video generation job not found.") from e
            raise

    async def content(self, request: Request) -> Response:
        self._check_key(request)
        job = self._job(request)
        if request.query_params.get("index", "0") != "0":
            raise EngineError(404, "No output at that index.")
        if job.status != "completed":
            raise _bad("The video is not ready.")
        path, media_type = self.engine.asset(job.id, "video")
        return MediaFile(path, media_type=media_type)

    async def models(self, request: Request) -> Response:
        self._check_key(request)
        return JSONResponse({"data": [_model_view(name, model) for name, model in MODELS.items()]})

    def routes(self) -> list[Route]:
        return [
            Route(PREFIX + "/videos", speaking(_openrouter_error, self.submit), methods=["POST"]),
            Route(PREFIX + "/videos/models", speaking(_openrouter_error, self.models), methods=["GET"]),
            Route(PREFIX + "/videos/{job_id}", speaking(_openrouter_error, self.poll), methods=["GET"]),
            Route(
                PREFIX + "/videos/{job_id}/content",
                speaking(_openrouter_error, self.content),
                methods=["GET"],
            ),
        ]


def _size(body: dict[str, Any], model: VideoModel, name: str) -> str:
    size = body.get("size")
    if isinstance(size, str):
        sizes = [size_of(a, r) for a in model.aspect_ratios for r in model.resolutions]
        if size not in sizes:
            raise _bad(f"size must be one of {sizes} for {name}.")
        return size
    resolution = body.get("resolution", model.resolutions[0])
    aspect_ratio = body.get("aspect_ratio", model.aspect_ratios[0])
    if resolution not in model.resolutions:
        raise _bad(f"resolution must be one of {list(model.resolutions)} for {name}.")
    if aspect_ratio not in model.aspect_ratios:
        raise _bad(f"aspect_ratio must be one of {list(model.aspect_ratios)} for {name}.")
    return size_of(aspect_ratio, resolution)


def _reference(references: Any) -> bytes | None:
    if not references:
        return None
    first = references[0] if isinstance(references, list) else None
    url = first.get("image_url", {}).get("url") if isinstance(first, dict) else None
    if not isinstance(url, str) or not url.startswith("data:") or ";base64," not in url:
        raise _bad("input_references[0] must be an image_url with a data: URL here.")
    try:
        return base64.b64decode(url.split(";base64,", 1)[1], validate=True)
    except (binascii.Error, ValueError) as e:
        raise _bad("input_references[0] is not base64.") from e


def _model_view(name: str, model: VideoModel) -> dict[str, Any]:
    return {
        "id": name,
        "canonical_slug": name,
        "name": name,
        "created": int(time.time()),
        "allowed_passthrough_parameters": [],
        "creativity": None,
        "generate_audio": True,
        "seed": True,
        "supported_aspect_ratios": list(model.aspect_ratios),
        "supported_durations": list(model.durations),
        "supported_frame_images": ["first_frame"],
        "supported_resolutions": list(model.resolutions),
        "supported_sizes": [size_of(a, r) for a in model.aspect_ratios for r in model.resolutions],
        "upscale_factor": None,
        "pricing_skus": {"video_per_second": str(model.cost_per_second)},
    }


DIALECT = Dialect(
    "openrouter",
    PREFIX,
    lambda engine, api_key: OpenRouterVideos(engine, api_key).routes(),
    "alibaba/wan-2.6",
)
