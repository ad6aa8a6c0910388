"""Google's Gemini API for Veo, as its documentation and the google-genai SDK have it.

`POST /v1beta/models/{model}:predictLongRunning` (key in `x-goog-api-key` or `?key=`) starts an
operation; `GET /v1beta/models/{model}/operations/{id}` reads it; a finished one carries
`response.generateVideoResponse.generatedSamples[].video.uri`, a file at
`GET /v1beta/files/{id}:download?alt=media` that needs the key too. A `[moderation]` prompt ends with
no sample and the filter's reason, as Veo's safety filters do. Errors are Google's
`{"error": {"code", "message", "status"}}`.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local.engine.dialects import Dialect, MediaFile, google_error, key_matches, size_of, speaking, start
from local.engine.errors import EngineError
from local.engine.jobs import Job
from local.engine.params import CreateParams
from local.engine.service import Engine
from local.engine.signed_urls import SignedUrls

# Model -> the lengths it makes (the Gemini API's Veo models).
MODELS = {
    "veo-3.1-generate-preview": (4, 6, 8),
    "veo-3.1-fast-generate-preview": (4, 6, 8),
    "veo-3.0-generate-001": (4, 6, 8),
    "veo-3.0-fast-generate-001": (4, 6, 8),
    "veo-2.0-generate-001": (5, 6, 8),
}
_RAI_REASON = (
    "We encountered an issue with the prompt that goes against our Responsible AI practices. "
    "Please rephrase and try again."
)


def _bad(message: str) -> EngineError:
    return EngineError(400, message)


class GeminiApi:
    def __init__(self, engine: Engine, api_key: str | None) -> None:
        self.engine, self.api_key = engine, api_key
        self.signed = SignedUrls()

    def _check_key(self, request: Request) -> None:
        given = request.headers.get("x-goog-api-key") or request.query_params.get("key")
        if not given:
            raise EngineError(403, "Method doesn't allow unregistered callers. Please use an API key.")
        if not key_matches(given, self.api_key):
            raise _bad("API key not valid. Please pass a valid API key.")

    async def predict(self, request: Request) -> Response:
        self._check_key(request)
        model = request.path_params["model"]
        if model not in MODELS:
            raise EngineError(404, f"models/{model} is not found for API version v1beta.")
        try:
            body = json.loads(await request.body() or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise _bad("Invalid JSON payload received.") from e
        instances = body.get("instances") if isinstance(body, dict) else None
        if not isinstance(instances, list) or len(instances) != 1 or not isinstance(instances[0], dict):
            raise _bad("instances must hold one instance.")
        params = _parameters(body.get("parameters") or {}, MODELS[model])
        prompt = instances[0].get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise _bad("instances[0].prompt is required.")
        reference = _image(instances[0].get("image"))
        job = start(self.engine, CreateParams(prompt, model, *params, reference=reference))
        return JSONResponse({"name": f"models/{model}/operations/{job.id}"})

    async def operation(self, request: Request) -> Response:
        self._check_key(request)
        model, name = request.path_params["model"], request.path_params["operation"]
        try:
            job = self.engine.read_status(name)
        except EngineError as e:
            raise EngineError(404, f"Operation models/{model}/operations/{name} not found.") from e
        return JSONResponse(self._view(job, f"models/{model}/operations/{name}", str(request.base_url)))

    def _view(self, job: Job, name: str, base_url: str) -> dict[str, Any]:
        status, _ = job.live_status()
        view: dict[str, Any] = {"name": name}
        if status not in ("completed", "failed"):
            return view
        view["done"] = True
        response_type = "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse"
        if status == "completed":
            uri = f"{base_url}v1beta/files/{_file_id(job)}:download?alt=media"
            samples = {"generatedSamples": [{"video": {"uri": uri}}]}
            view["response"] = {"@type": response_type, "generateVideoResponse": samples}
        elif job.error and job.error["code"] == "moderation_blocked":
            filtered = {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": [_RAI_REASON]}
            view["response"] = {"@type": response_type, "generateVideoResponse": filtered}
        else:
            message = job.error["message"] if job.error else "Video generation failed."
            view["error"] = {"code": 13, "message": message}
        return view

    async def download(self, request: Request) -> Response:
        """A file's download, as the Gemini API answers it: a redirect (302) to where the bytes are, a
        signed URL on the engine's storage path that needs no key (the google-genai SDK follows it)."""
        self._check_key(request)
        file_id = request.path_params["file"]
        self._video_of(file_id)
        path = f"/v1beta/storage/files/{file_id}"
        location = f"{str(request.base_url).rstrip('/')}{path}?{self.signed.query(path)}"
        return Response(status_code=302, headers={"Location": location})

    async def stored(self, request: Request) -> Response:
        """A file's bytes at its signed URL; a bad or expired signature is refused, as storage does."""
        self.signed.check(request.url.path, request.query_params)
        path, media_type = self._video_of(request.path_params["file"])
        return MediaFile(path, media_type=media_type)

    def _video_of(self, file_id: str) -> tuple[Path, str]:
        job = next((j for j in self.engine.jobs.values() if _file_id(j) == file_id), None)
        if job is None or job.assets is None:
            raise EngineError(404, f"File files/{file_id} not found.")
        return self.engine.asset(job.id, "video")

    def routes(self) -> list[Route]:
        return [
            Route(
                "/v1beta/models/{model}:predictLongRunning",
                speaking(google_error, self.predict),
                methods=["POST"],
            ),
            Route(
                "/v1beta/models/{model}/operations/{operation}",
                speaking(google_error, self.operation),
                methods=["GET"],
            ),
            Route("/v1beta/files/{file}:download", speaking(google_error, self.download), methods=["GET"]),
            Route("/v1beta/storage/files/{file}", speaking(google_error, self.stored), methods=["GET"]),
        ]


def _file_id(job: Job) -> str:
    """A file name as the Gemini API mints them (lowercase letters and digits)."""
    return job.id.removeprefix("video_")


def _parameters(parameters: Any, lengths: tuple[int, ...]) -> tuple[str, str]:
    if not isinstance(parameters, dict):
        raise _bad("parameters must be an object.")
    seconds = parameters.get("durationSeconds", 8)
    if not isinstance(seconds, int) or seconds not in lengths:
        allowed = ", ".join(str(n) for n in lengths)
        raise _bad(f"The durationSeconds you specified ({seconds}) is not supported; use one of {allowed}.")
    aspect_ratio = parameters.get("aspectRatio", "16:9")
    if aspect_ratio not in ("16:9", "9:16"):
        raise _bad(f"Unsupported aspect ratio: {aspect_ratio}. Supported: 16:9, 9:16.")
    resolution = parameters.get("resolution", "720p")
    if resolution not in ("720p", "1080p"):
        raise _bad(f"Unsupported resolution: {resolution}. Supported: 720p, 1080p.")
    if parameters.get("sampleCount", 1) != 1:
        raise _bad("sampleCount must be 1 here.")
    return str(seconds), size_of(aspect_ratio, resolution)


def _image(image: Any) -> bytes | None:
    if image is None:
        return None
    if not isinstance(image, dict) or not isinstance(image.get("bytesBase64Encoded"), str):
        raise _bad("instances[0].image needs bytesBase64Encoded and mimeType.")
    try:
        return base64.b64decode(image["bytesBase64Encoded"], validate=True)
    except (binascii.Error, ValueError) as e:
        raise _bad("instances[0].image.bytesBase64Encoded is not base64.") from e


DIALECT = Dialect(
    "gemini", "", lambda engine, api_key: GeminiApi(engine, api_key).routes(), "veo-3.1-generate-preview"
)
