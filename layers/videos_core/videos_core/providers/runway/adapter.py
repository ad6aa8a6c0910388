"""Runway's API, in plain REST (what its official SDK, runwayml, sends).

Create: `POST {base}/v1/text_to_video`, or `/v1/image_to_video` with `promptImage` (a data URI) when
a reference image is given, with a bearer key and `X-Runway-Version`; the body is `model`,
`promptText`, `ratio` ("1280:720"), `duration` (a number) and, for Veo, `audio`. The answer is
`{"id"}`. Status: `GET {base}/v1/tasks/{id}`: PENDING and THROTTLED (queued), RUNNING (`progress`
from 0 to 1), SUCCEEDED with `output` (signed URLs on Runway's storage, fetched without the key),
FAILED with `failure` and `failureCode` (SAFETY.* is content moderation), CANCELLED. Delete:
`DELETE {base}/v1/tasks/{id}`, which cancels a task not yet ended and deletes one that has. Errors
are `{"error": "…"}`, a validation failure's with `issues` (`path`, `message`).
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
from videos_core.errors import InvalidRequest, UpstreamErrorInfo, UpstreamRetryableError
from videos_core.models.api import VideoError
from videos_core.ports import UpstreamCreate, UpstreamJob, UpstreamNotFoundError, VariantNotOfferedError
from videos_core.providers.runway import API_VERSION, IMAGE_ONLY, WITH_AUDIO

# Runway's body fields as the contract's parameters, for a 400's `param`.
_PARAMS = {
    "promptText": "prompt",
    "duration": "seconds",
    "ratio": "size",
    "model": "model",
    "promptImage": "input_reference",
}
_QUEUED = ("PENDING", "THROTTLED")


def ratio_of(size: str) -> str:
    """A picture size as Runway names it: 1280x720 is "1280:720"."""
    width, _, height = size.partition("x")
    return f"{width}:{height}"


class RunwayUpstream(RestUpstream):
    def auth_headers(self, entry: Entry) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._api_key(entry.api_key_parameter)}",
            "X-Runway-Version": API_VERSION,
        }

    def error_info(self, body: Any, status: int) -> tuple[UpstreamErrorInfo, str | None]:
        """Runway's `{"error": "…"}`; a validation failure names each field in `issues[].path`."""
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, str):
            return super().error_info(body, status)
        issues = body.get("issues")
        first = issues[0] if isinstance(issues, list) and issues and isinstance(issues[0], dict) else None
        if first is None:
            return UpstreamErrorInfo(type="upstream_error", code=None, message=error), None
        path = first.get("path")
        field = str(path[0]) if isinstance(path, list) and path else ""
        message = f"{error}: {field + ': ' if field else ''}{first.get('message') or 'invalid input'}"
        code = first.get("code")
        info = UpstreamErrorInfo(
            type="invalid_request_error", code=None if code is None else str(code), message=message
        )
        return info, _PARAMS.get(field)

    def create(self, request: UpstreamCreate) -> UpstreamJob:
        entry = self.route(request.model)
        body: dict[str, Any] = {
            "model": entry.upstream_model,
            "promptText": request.prompt,
            "ratio": ratio_of(request.size),
            "duration": int(request.seconds),
        }
        if entry.family in WITH_AUDIO:
            body["audio"] = entry.capabilities.audio
        endpoint = "text_to_video"
        if request.reference is not None:
            data = base64.b64encode(request.reference.content).decode()
            body["promptImage"] = f"data:{request.reference.content_type};base64,{data}"
            endpoint = "image_to_video"
        elif entry.family in IMAGE_ONLY:
            raise InvalidRequest(
                f"Model '{request.model}' makes videos from an image only: give an input_reference.",
                param="input_reference",
            )
        task = self.request(entry, "POST", f"{entry.base_url}/v1/{endpoint}", repeatable=False, body=body)
        return UpstreamJob(id=job_id(task, "id"), status="queued", progress=0)

    def _task(self, model: str, task_id: str) -> tuple[Entry, dict[str, Any]]:
        entry = self.route(model)
        return entry, self.read_state(entry, f"{entry.base_url}/v1/tasks/{quote(task_id)}", "task", "status")

    def retrieve(self, model: str, upstream_id: str) -> UpstreamJob:
        _, task = self._task(model, upstream_id)
        status = task["status"]
        if status in _QUEUED:
            return UpstreamJob(id=upstream_id, status="queued", progress=0)
        if status == "RUNNING":
            return UpstreamJob(id=upstream_id, status="in_progress", progress=_percent(task.get("progress")))
        if status == "SUCCEEDED":
            return UpstreamJob(id=upstream_id, status="completed", progress=100)
        return UpstreamJob(upstream_id, "failed", 0, _failure(task))

    def delete(self, model: str, upstream_id: str) -> None:
        """Cancels the task (or deletes it, once ended): Runway stops one pending, throttled or running."""
        entry = self.route(model)
        with contextlib.suppress(UpstreamNotFoundError):
            self.request(entry, "DELETE", f"{entry.base_url}/v1/tasks/{quote(upstream_id)}", repeatable=True)

    @contextmanager
    def open_content(self, model: str, upstream_id: str, variant: str) -> Iterator[StreamedContent]:
        """The task's first output: a signed URL on Runway's storage, fetched again with each status
        read (they expire), and downloaded without the key (another origin)."""
        if variant != "video":
            raise VariantNotOfferedError(variant)
        entry, task = self._task(model, upstream_id)
        output = task.get("output")
        url = output[0] if isinstance(output, list) and output else None
        if task["status"] != "SUCCEEDED" or not isinstance(url, str):
            raise UpstreamRetryableError("The upstream's task has no output to download.")
        with self.stream(entry, url) as content:
            yield content


def _percent(progress: Any) -> int:
    """Runway's progress (0 to 1) as a percentage short of done."""
    if not isinstance(progress, (int, float)):
        return 0
    return max(0, min(99, round(progress * 100)))


def _failure(task: dict[str, Any]) -> VideoError:
    status = task["status"]
    if status == "CANCELLED":
        return VideoError(code="video_generation_failed", message="The task was cancelled.")
    code = task.get("failureCode")
    reason = str(task.get("failure") or f"The task ended {str(status).lower()}.")
    message = f"{reason} ({code})" if isinstance(code, str) and code else reason
    # SAFETY.INPUT.* and SAFETY.OUTPUT.*: content moderation took the inputs or the output
    # (INPUT_PREPROCESSING.SAFETY.* likewise, before the generation started).
    moderated = isinstance(code, str) and (code.startswith("SAFETY.") or ".SAFETY." in code)
    return VideoError(code="moderation_blocked" if moderated else "video_generation_failed", message=message)
