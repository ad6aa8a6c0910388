"""fal's queue (queue.fal.run), as its documentation and fal-client have it, under `/fal`.

`POST /fal/{app}` (`Authorization: Key …`) queues a request; `GET …/requests/{id}/status` says
IN_QUEUE (with `queue_position`), IN_PROGRESS or COMPLETED (with `error` and `error_type` when it
failed); `GET …/requests/{id}` is the result, `{"video": {"url", …}}`; `PUT …/requests/{id}/cancel`
cancels one not yet done (202 CANCELLATION_REQUESTED, else 400 ALREADY_COMPLETED). A submit's
`?fal_webhook=URL` is called when the request ends: `{request_id, status: OK, payload}` or
`{…, status: ERROR, error, payload}`, signed as fal signs them (Ed25519; the key set at
`/fal/.well-known/jwks.json`). The request paths
drop an app's sub-path. Errors are `{"detail": …}`, a list of `{loc, msg, type}` for bad input.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local.engine.dialects import Dialect, MediaFile, key_matches, size_of, speaking, start
from local.engine.errors import EngineError
from local.engine.jobs import Job
from local.engine.params import CreateParams
from local.engine.service import Engine

PREFIX = "/fal"
USER_ID = "engine-user"


@dataclass(frozen=True)
class App:
    durations: tuple[str, ...]
    aspect_ratios: tuple[str, ...]
    resolution: str  # the picture's; Veo 3 takes one in its input


# Apps (an endpoint id's owner/alias) and their inputs, from each model's page on fal.ai.
APPS = {
    "fal-ai/veo3": App(("4s", "6s", "8s"), ("16:9", "9:16"), "720p"),
    "fal-ai/kling-video": App(("5", "10"), ("16:9", "9:16", "1:1"), "1080p"),
    "fal-ai/minimax": App(("6", "10"), ("16:9", "9:16"), "768p"),
}


class _InvalidInputError(EngineError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(422, message, param=field)


def _fal_error(error: EngineError) -> Response:
    if isinstance(error, _InvalidInputError):
        detail: Any = [{"loc": ["body", error.param], "msg": error.message, "type": "value_error"}]
    else:
        detail = error.message
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return JSONResponse({"detail": detail}, error.status, headers=headers)


class FalQueue:
    def __init__(self, engine: Engine, api_key: str | None) -> None:
        self.engine, self.api_key = engine, api_key
        self.apps: dict[str, str] = {}  # request id -> owner/alias
        self.cancelled: set[str] = set()
        # The key this engine signs its webhooks with, published at /fal/.well-known/jwks.json.
        self.signing_key = Ed25519PrivateKey.generate()

    def _signed(self, request_id: str) -> Callable[[bytes], dict[str, str]]:
        """fal's webhook signature: Ed25519 over request id, user id, timestamp and the body's SHA-256."""

        def sign(body: bytes) -> dict[str, str]:
            timestamp = str(int(time.time()))
            digest = hashlib.sha256(body).hexdigest()
            message = "\n".join((request_id, USER_ID, timestamp, digest)).encode()
            return {
                "x-fal-webhook-request-id": request_id,
                "x-fal-webhook-user-id": USER_ID,
                "x-fal-webhook-timestamp": timestamp,
                "x-fal-webhook-signature": self.signing_key.sign(message).hex(),
            }

        return sign

    async def jwks(self, _: Request) -> Response:
        public = self.signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        x = base64.urlsafe_b64encode(public).rstrip(b"=").decode()
        return JSONResponse(
            {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "engine", "use": "sig"}]}
        )

    def _check_key(self, request: Request) -> None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme != "Key" or not key_matches(key, self.api_key):
            raise EngineError(401, "Invalid or missing API key: send 'Authorization: Key <key>'.")

    def _urls(self, base: str, app: str, request_id: str) -> dict[str, str]:
        root = f"{base}{PREFIX.lstrip('/')}/{app}/requests/{request_id}"
        return {"response_url": root, "status_url": f"{root}/status", "cancel_url": f"{root}/cancel"}

    async def submit(self, request: Request) -> Response:
        self._check_key(request)
        endpoint = request.path_params["endpoint"]
        app = "/".join(endpoint.split("/")[:2])
        spec = APPS.get(app)
        if spec is None:
            raise EngineError(404, f"Application '{endpoint}' not found.")
        try:
            body = json.loads(await request.body() or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise EngineError(400, "Request body is not valid JSON.") from e
        if not isinstance(body, dict):
            raise _InvalidInputError("body", "Input should be an object.")
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise _InvalidInputError("prompt", "Field required.")
        duration = str(body.get("duration", spec.durations[-1]))
        if duration not in spec.durations:
            raise _InvalidInputError("duration", f"Input should be {_one_of(spec.durations)}.")
        aspect_ratio = body.get("aspect_ratio", spec.aspect_ratios[0])
        if aspect_ratio not in spec.aspect_ratios:
            raise _InvalidInputError("aspect_ratio", f"Input should be {_one_of(spec.aspect_ratios)}.")
        resolution = body.get("resolution", spec.resolution)
        size = size_of(aspect_ratio, resolution if resolution in ("720p", "1080p") else spec.resolution)
        job = start(self.engine, CreateParams(prompt, endpoint, duration.removesuffix("s"), size))
        self.apps[job.id] = app
        webhook = request.query_params.get("fal_webhook")
        if webhook:
            base = str(request.base_url)
            self.engine.call_back(
                job, webhook, lambda ended: self._webhook_body(ended, base), self._signed(job.id)
            )
        return JSONResponse({"request_id": job.id, **self._urls(str(request.base_url), app, job.id)})

    def _webhook_body(self, job: Job, base_url: str) -> dict[str, Any]:
        """fal's webhook: the request's id, OK with the result as `payload`, or ERROR with `error`."""
        body: dict[str, Any] = {"request_id": job.id, "gateway_request_id": job.id}
        if job.status == "completed":
            return body | {"status": "OK", "payload": self._result(job, base_url)}
        message, error_type = _failure(job, job.id in self.cancelled)
        return body | {
            "status": "ERROR",
            "error": message,
            "error_type": error_type,
            "payload": {"detail": message},
        }

    def _result(self, job: Job, base_url: str) -> dict[str, Any]:
        url = f"{base_url}{PREFIX.lstrip('/')}/files/{job.id}/video.mp4"
        return {"video": {"url": url, "content_type": "video/mp4", "file_name": "video.mp4"}}

    def _job(self, request: Request) -> tuple[Job, str]:
        self._check_key(request)
        app = f"{request.path_params['owner']}/{request.path_params['alias']}"
        request_id = request.path_params["request_id"]
        if self.apps.get(request_id) != app:
            raise EngineError(404, f"Request '{request_id}' not found.")
        return self.engine.read_status(request_id), app

    async def status(self, request: Request) -> Response:
        job, app = self._job(request)
        urls = self._urls(str(request.base_url), app, job.id)
        state, _ = job.live_status()
        if state == "queued":
            return JSONResponse({"status": "IN_QUEUE", "queue_position": 0, **urls})
        if state == "in_progress":
            return JSONResponse({"status": "IN_PROGRESS", "logs": None, **urls})
        body: dict[str, Any] = {"status": "COMPLETED", "logs": None, "metrics": {}, **urls}
        if state == "failed":
            body["error"], body["error_type"] = _failure(job, job.id in self.cancelled)
        return JSONResponse(body)

    async def result(self, request: Request) -> Response:
        job, _ = self._job(request)
        state, _ = job.live_status()
        if state in ("queued", "in_progress"):
            raise EngineError(400, "Request is still in progress.")
        if state == "failed":
            message, error_type = _failure(job, job.id in self.cancelled)
            raise EngineError(422 if error_type == "content_policy_violation" else 500, message)
        return JSONResponse(self._result(job, str(request.base_url)))

    async def cancel(self, request: Request) -> Response:
        job, _ = self._job(request)
        if job.terminal:
            return JSONResponse({"status": "ALREADY_COMPLETED"}, 400)
        if job.task is not None:
            job.task.cancel()
        self.cancelled.add(job.id)
        job.fail("cancelled", "The request was cancelled.")
        return JSONResponse({"status": "CANCELLATION_REQUESTED"}, 202)

    async def file(self, request: Request) -> Response:
        """The result's file, as fal's CDN serves it: no key needed."""
        job = self.engine.get(request.path_params["request_id"])
        path, media_type = self.engine.asset(job.id, "video")
        return MediaFile(path, media_type=media_type)

    def routes(self) -> list[Route]:
        requests = PREFIX + "/{owner}/{alias}/requests/{request_id}"
        return [
            Route(PREFIX + "/.well-known/jwks.json", self.jwks, methods=["GET"]),
            Route(PREFIX + "/files/{request_id}/video.mp4", speaking(_fal_error, self.file), methods=["GET"]),
            Route(requests + "/status", speaking(_fal_error, self.status), methods=["GET"]),
            Route(requests + "/cancel", speaking(_fal_error, self.cancel), methods=["PUT"]),
            Route(requests, speaking(_fal_error, self.result), methods=["GET"]),
            Route(PREFIX + "/{endpoint:path}", speaking(_fal_error, self.submit), methods=["POST"]),
        ]


def _one_of(values: tuple[str, ...]) -> str:
    return ", ".join(repr(v) for v in values)


def _failure(job: Job, cancelled: bool) -> tuple[str, str]:
    if cancelled:
        return "The request was cancelled.", "request_cancelled"
    message = job.error["message"] if job.error else "Generation failed."
    if job.error and job.error["code"] == "moderation_blocked":
        return message, "content_policy_violation"
    return message, "internal_server_error"


DIALECT = Dialect(
    "fal",
    PREFIX,
    lambda engine, api_key: FalQueue(engine, api_key).routes(),
    example_model="fal-ai/veo3",
    webhook_keys_path=PREFIX + "/.well-known/jwks.json",
)
