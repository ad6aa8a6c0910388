"""ModelArk's video generation tasks, in plain REST (what its official SDK, volcengine-ark-runtime, sends).

Create: `POST {base}/contents/generations/tasks` with a bearer key; the body is `model`, `content` (the
prompt as `{"type": "text", "text"}` and, from an image, `{"type": "image_url", "image_url": {"url"},
"role": "first_frame"}` with a data URI), and the parameters as the request's own fields, as the SDK
and the API reference give them now (`resolution` "720p", `ratio` "16:9", `duration` in seconds,
`generate_audio` for the models with audio) rather than as the prompt's older text commands (`--rs
720p --rt 16:9 --dur 5`), which ModelArk validates loosely; `callback_url` when the job is to be called
back. The answer is `{"id"}`. Status: `GET {base}/contents/generations/tasks/{id}`: queued, running (no
progress is reported), succeeded with `content.video_url` (a presigned URL on BytePlus's object
storage, fetched without the key, valid a day), failed with `error: {code, message}` (a code naming
sensitive content is moderation), expired, cancelled. Delete: `DELETE {base}/contents/generations/
tasks/{id}`, which cancels a queued task and deletes an ended one's record (it refuses a running one):
sent here for an ended task only.
Errors are `{"error": {"code", "message", "param", "type"}}`.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from videos_core.adapters.upstream_calls import StreamedContent
from videos_core.adapters.upstream_rest import RestUpstream, job_id
from videos_core.catalog import Entry
from videos_core.errors import InvalidVideoSize, UpstreamErrorInfo
from videos_core.models.api import VideoError
from videos_core.ports import UpstreamCreate, UpstreamJob, UpstreamNotFoundError, VariantNotOfferedError
from videos_core.providers.seedance import FAMILIES

# ModelArk's request fields as the contract's parameters, for a 400's `param`.
_PARAMS = {
    "model": "model",
    "content": "prompt",
    "text": "prompt",
    "duration": "seconds",
    "resolution": "size",
    "ratio": "size",
    "image_url": "input_reference",
    "role": "input_reference",
}
# The words of ModelArk's codes for inputs or outputs its content checks refused
# (InputTextSensitiveContentDetected, OutputVideoSensitiveContentDetected, InputImageRiskDetection…).
_MODERATED = ("SensitiveContent", "RiskDetection")
_TASKS = "contents/generations/tasks"
# The statuses of a task that has ended, whose record a DELETE deletes.
_ENDED = frozenset({"succeeded", "failed", "expired"})


class SeedanceUpstream(RestUpstream):
    def auth_headers(self, entry: Entry) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key(entry.api_key_parameter)}"}

    def error_info(self, body: Any, status: int) -> tuple[UpstreamErrorInfo, str | None]:
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict) or not isinstance(error.get("message"), str):
            return super().error_info(body, status)
        return modelark_error(error, status)

    def create(self, request: UpstreamCreate) -> UpstreamJob:
        entry = self.route(request.model)
        family = FAMILIES[entry.family]
        picture = family.picture(request.size)
        if picture is None:
            raise InvalidVideoSize(
                f"Model '{request.model}' makes none of its pictures at size '{request.size}'.", param="size"
            )
        ratio, resolution = picture
        body: dict[str, Any] = {
            "model": entry.upstream_model,
            "content": _content(request),
            "resolution": resolution,
            "ratio": ratio,
            "duration": int(request.seconds),
        }
        if family.audio:
            body["generate_audio"] = entry.capabilities.audio
        if request.callback_url:
            body["callback_url"] = request.callback_url
        task = self.start(entry, f"{entry.base_url}/{_TASKS}", body)
        return UpstreamJob(id=job_id(task, "id"), status="queued", progress=0)

    def _task(self, model: str, task_id: str) -> tuple[Entry, dict[str, Any]]:
        entry = self.route(model)
        return entry, self.read_state(entry, _task_url(entry, task_id), "task", "status")

    def retrieve(self, model: str, upstream_id: str) -> UpstreamJob:
        _, task = self._task(model, upstream_id)
        status = task["status"]
        if status == "queued":
            return UpstreamJob(id=upstream_id, status="queued", progress=0)
        if status == "running":
            return UpstreamJob(id=upstream_id, status="in_progress", progress=0)
        if status == "succeeded" and _video_url(task) is not None:
            return UpstreamJob(id=upstream_id, status="completed", progress=100)
        return UpstreamJob(upstream_id, "failed", 0, _failure(task))

    def delete(self, model: str, upstream_id: str) -> None:
        """Deletes the record of a task that has ended. One not yet ended is left to run out: ModelArk's
        DELETE would cancel it only while queued (it refuses a running one), and a delete here cancels
        nothing (`cancels` is False). A task already gone is as good as deleted."""
        try:
            entry, task = self._task(model, upstream_id)
        except UpstreamNotFoundError:
            return
        if task["status"] in _ENDED:
            with contextlib.suppress(UpstreamNotFoundError):
                self.request(entry, "DELETE", _task_url(entry, upstream_id), repeatable=True)

    @contextmanager
    def open_content(self, model: str, upstream_id: str, variant: str) -> Iterator[StreamedContent]:
        """The task's video, at the presigned URL read again with each download, fetched without the
        key (BytePlus's object storage is another origin)."""
        if variant != "video":
            raise VariantNotOfferedError(variant)
        entry, task = self._task(model, upstream_id)
        url = _video_url(task) if task["status"] == "succeeded" else None
        with self.stream_output(entry, url, "The upstream's task has no video to download.") as content:
            yield content


def modelark_error(error: dict[str, Any], status: int) -> tuple[UpstreamErrorInfo, str | None]:
    """ModelArk's `{code, message, param, type}`, and the contract's parameter a 400 names (a refused
    text is the prompt's fault, a refused image the reference's)."""
    code = error.get("code")
    code = code if isinstance(code, str) and code else None
    kind = str(error.get("type") or "upstream_error")
    info = UpstreamErrorInfo(type=kind, code=code, message=str(error["message"]))
    if status != 400:
        return info, None
    if code is not None and _moderated(code):
        return info, "input_reference" if "Image" in code else "prompt"
    return info, _param(error.get("param"))


def _task_url(entry: Entry, task_id: str) -> str:
    return f"{entry.base_url}/{_TASKS}/{quote(task_id, safe='')}"


def _content(request: UpstreamCreate) -> list[dict[str, Any]]:
    """The prompt, then the job's reference image as the first frame."""
    content: list[dict[str, Any]] = [{"type": "text", "text": request.prompt}]
    if request.reference is not None:
        data = base64.b64encode(request.reference.content).decode()
        url = f"data:{request.reference.content_type};base64,{data}"
        content.append({"type": "image_url", "image_url": {"url": url}, "role": "first_frame"})
    return content


def _video_url(task: dict[str, Any]) -> str | None:
    content = task.get("content")
    url = content.get("video_url") if isinstance(content, dict) else None
    return url if isinstance(url, str) and url else None


def _param(param: Any) -> str | None:
    """The contract's parameter for ModelArk's `param` (`duration`, `content.image_url.url`): its
    innermost field this service knows."""
    fields = str(param or "").split(".")
    return next((_PARAMS[field] for field in reversed(fields) if field in _PARAMS), None)


def _moderated(code: str) -> bool:
    return any(word in code for word in _MODERATED)


def _failure(task: dict[str, Any]) -> VideoError:
    status = task["status"]
    if status == "succeeded":
        return VideoError(
            code="video_generation_failed", message="ModelArk's task succeeded without a video."
        )
    if status in ("cancelled", "expired"):
        return VideoError(code="video_generation_failed", message=f"ModelArk's task was {status}.")
    error = task.get("error")
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    message = str(error.get("message") or f"ModelArk's task ended {status}.")
    moderated = isinstance(code, str) and _moderated(code)
    return VideoError(
        code="moderation_blocked" if moderated else "video_generation_failed",
        message=f"{message} ({code})" if isinstance(code, str) and code else message,
    )
