"""Wan on Model Studio's DashScope API, in plain REST (what its official SDK, dashscope, sends).

Create: `POST {base}/api/v1/services/aigc/video-generation/video-synthesis` with a bearer key and
`X-DashScope-Async: enable`; the body is `model`, `input.prompt` and `parameters`: `size` (`"1280*720"`)
and `duration` from text or, from an image, the family's image-to-video model with `input.img_url` (a
data URI) and `resolution` (the size's tier, `"720P"`). The answer is `{"output": {"task_id",
"task_status"}, "request_id"}`. Status: `GET {base}/api/v1/tasks/{task_id}`: PENDING (queued), RUNNING
(in progress; DashScope reports no progress), SUCCEEDED with `output.video_url` (a signed URL on
Alibaba Cloud's OSS, fetched without the key, kept 24 hours), FAILED with `output.code` and
`output.message` (DataInspectionFailed and IPInfringementSuspect are content moderation), CANCELED, or
UNKNOWN (a task past its 24 hours). Delete: `POST {base}/api/v1/tasks/{task_id}/cancel`, which stops a
task still PENDING; a running one is refused (400 UnsupportedOperation) and runs out on its own. Errors
are `{"request_id", "code", "message"}`: 400 InvalidParameter (`Model not exist.` for an unknown model),
401 InvalidApiKey, 429 Throttling, 500 InternalError.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from videos_core.adapters.upstream_calls import StreamedContent
from videos_core.adapters.upstream_rest import RestUpstream, job_id
from videos_core.catalog import Entry
from videos_core.errors import InvalidRequest, InvalidVideoSize, UpstreamErrorInfo, UpstreamRetryableError
from videos_core.models.api import VideoError
from videos_core.ports import UpstreamCreate, UpstreamJob, UpstreamNotFoundError, VariantNotOfferedError
from videos_core.providers.wan import IMAGE_MODELS, tier_of
from videos_core.sizes import dimensions

CREATE_PATH = "/api/v1/services/aigc/video-generation/video-synthesis"
# DashScope's codes of a refusal by its content moderation, of the input or of the output.
MODERATION_CODES = frozenset({"DataInspectionFailed", "IPInfringementSuspect"})
# A cancel's refusal of a task no longer PENDING.
NOT_PENDING = "UnsupportedOperation"
# DashScope's words in a 400's message, as the contract's parameters.
_PARAMS = (
    (re.compile(r"model not exist", re.IGNORECASE), "model"),
    (re.compile(r"\b(size|resolution)\b", re.IGNORECASE), "size"),
    (re.compile(r"\bduration\b", re.IGNORECASE), "seconds"),
    (re.compile(r"\bimg_url\b", re.IGNORECASE), "input_reference"),
    (re.compile(r"\bprompt\b", re.IGNORECASE), "prompt"),
)
_QUEUED, _SUCCEEDED = "PENDING", "SUCCEEDED"
# The statuses a task ends with, as the SDK's `wait` takes them: it polls any other (RUNNING, SUSPENDED).
_ENDED = frozenset({_SUCCEEDED, "FAILED", "CANCELED", "UNKNOWN"})


class WanUpstream(RestUpstream):
    def auth_headers(self, entry: Entry) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key(entry.api_key_parameter)}"}

    def error_info(self, body: Any, status: int) -> tuple[UpstreamErrorInfo, str | None]:
        """DashScope's `{"code", "message"}`; a moderation refusal is the contract's, and a 400's
        message names the parameter."""
        code = body.get("code") if isinstance(body, dict) else None
        if not isinstance(code, str) or not code:
            return super().error_info(body, status)
        message = f"{body.get('message') or code} ({code})"
        if code in MODERATION_CODES:
            return UpstreamErrorInfo(
                type="invalid_request_error", code="moderation_blocked", message=message
            ), None
        info = UpstreamErrorInfo(
            type="invalid_request_error" if status in (400, 404) else "upstream_error",
            code=code,
            message=message,
        )
        return info, _param_named(message) if status == 400 else None

    def create(self, request: UpstreamCreate) -> UpstreamJob:
        entry = self.route(request.model)
        body = create_body(entry, request)
        url = f"{entry.base_url}{CREATE_PATH}"
        answer = self.start(entry, url, body, headers={"X-DashScope-Async": "enable"})
        output = answer.get("output") if isinstance(answer, dict) else None
        return UpstreamJob(id=job_id(output, "task_id"), status="queued", progress=0)

    def _task(self, model: str, task_id: str) -> tuple[Entry, dict[str, Any]]:
        entry = self.route(model)
        answer = self.request(entry, "GET", _task_url(entry, task_id), repeatable=True)
        output = answer.get("output") if isinstance(answer, dict) else None
        if not isinstance(output, dict) or not isinstance(output.get("task_status"), str):
            raise UpstreamRetryableError("The upstream answered with a malformed task.")
        return entry, output

    def retrieve(self, model: str, upstream_id: str) -> UpstreamJob:
        _, task = self._task(model, upstream_id)
        status = task["task_status"]
        if status == _QUEUED:
            return UpstreamJob(id=upstream_id, status="queued", progress=0)
        if status not in _ENDED:
            return UpstreamJob(id=upstream_id, status="in_progress", progress=0)
        if status == _SUCCEEDED and _video_url(task) is not None:
            return UpstreamJob(id=upstream_id, status="completed", progress=100)
        return UpstreamJob(upstream_id, "failed", 0, _failure(task))

    def delete(self, model: str, upstream_id: str) -> None:
        """Cancels the task while it is PENDING; one running (or ended) is refused, and runs out."""
        entry = self.route(model)
        try:
            self.request(entry, "POST", _task_url(entry, upstream_id) + "/cancel", repeatable=True)
        except UpstreamNotFoundError:
            pass
        except InvalidRequest as e:
            if e.upstream is None or e.upstream.code != NOT_PENDING:
                raise

    @contextmanager
    def open_content(self, model: str, upstream_id: str, variant: str) -> Iterator[StreamedContent]:
        """The task's `video_url`, read again with each download (a signed URL that expires), fetched
        without the key (Alibaba Cloud's OSS is another origin)."""
        if variant != "video":
            raise VariantNotOfferedError(variant)
        entry, task = self._task(model, upstream_id)
        url = _video_url(task) if task["task_status"] == _SUCCEEDED else None
        with self.stream_output(entry, url, "The upstream's task has no video to download.") as content:
            yield content


def _task_url(entry: Entry, task_id: str) -> str:
    return f"{entry.base_url}/api/v1/tasks/{quote(task_id, safe='')}"


def create_body(entry: Entry, request: UpstreamCreate) -> dict[str, Any]:
    """The create's body: text to video at the size, or the family's image-to-video model at the size's
    tier (the video takes the image's shape)."""
    tier = tier_of(request.size)
    if tier is None:
        raise InvalidVideoSize(
            f"Model '{request.model}' makes no video of size '{request.size}'.", param="size"
        )
    duration = int(request.seconds)
    if request.reference is None:
        width, height = dimensions(request.size)
        parameters = {"size": f"{width}*{height}", "duration": duration}
        return {"model": entry.upstream_model, "input": {"prompt": request.prompt}, "parameters": parameters}
    data = base64.b64encode(request.reference.content).decode()
    image = f"data:{request.reference.content_type};base64,{data}"
    return {
        "model": IMAGE_MODELS[entry.family],
        "input": {"prompt": request.prompt, "img_url": image},
        "parameters": {"resolution": tier, "duration": duration},
    }


def _param_named(message: str) -> str | None:
    return next((param for pattern, param in _PARAMS if pattern.search(message)), None)


def _video_url(task: dict[str, Any]) -> str | None:
    url = task.get("video_url")
    return url if isinstance(url, str) and url else None


def _failure(task: dict[str, Any]) -> VideoError:
    status = task["task_status"]
    if status == "CANCELED":
        return VideoError(code="video_generation_failed", message="The task was canceled.")
    if status == "UNKNOWN":
        return VideoError(
            code="video_generation_failed",
            message="DashScope no longer knows the task (UNKNOWN): a task is kept 24 hours.",
        )
    if status == _SUCCEEDED:
        return VideoError(code="video_generation_failed", message="The task succeeded without a video_url.")
    code = task.get("code")
    reason = str(task.get("message") or f"The task ended {status}.")
    message = f"{reason} ({code})" if isinstance(code, str) and code else reason
    moderated = code in MODERATION_CODES
    return VideoError(code="moderation_blocked" if moderated else "video_generation_failed", message=message)
