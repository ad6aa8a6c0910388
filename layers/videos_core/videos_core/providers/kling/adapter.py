"""Kling's API, in plain REST (as its API reference sends it: Kling has no official Python SDK).

Create: `POST {base}/v1/videos/text2video`, or `/v1/videos/image2video` with `image` (base64, without
a `data:` prefix) when a reference image is given, with a bearer JWT made from the route's key
(`tokens.py`); the body is `model_name`, `prompt`, `duration` ("5"), `mode` (std for 720p, pro for
1080p; none for the master models), `aspect_ratio` (text to video: image to video takes the image's),
`sound` (V2.6) and `callback_url`. Every answer is `{"code", "message", "request_id", "data"}`, the
create's `data` the task, `{"task_id", "task_status": "submitted", …}`. Status: `GET
{base}/v1/videos/text2video/{id}` or `/image2video/{id}` (each path knows its own tasks: a task is
looked for at the second when the first has none): submitted (queued), processing (Kling reports no
progress), succeed with `task_result.videos[0].url` (on Kling's CDN, fetched without the key), failed
with `task_status_msg`. Kling has no cancel. Errors carry Kling's code with its HTTP status: 401 for
1000-1004 (the token), 429 for 1100-1102 (the account) and 1302-1304 (rates), 403 for 1103, 400 for
1200-1201 and 1300-1301 (1301: the content security policy refused the input), 404 for 1202-1203,
500, 503 and 504 for 5000-5002.
"""

from __future__ import annotations

import base64
import re
import time
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
from videos_core.providers.kling import MODELESS, MODES, WITH_SOUND
from videos_core.providers.kling.tokens import api_token
from videos_core.sizes import named

TEXT_TO_VIDEO, IMAGE_TO_VIDEO = "text2video", "image2video"
# Kling's code for an input its content security policy refused.
CONTENT_REFUSED = 1301
# The image types image to video takes.
_IMAGE_TYPES = ("image/png", "image/jpeg")
# Kling's body fields as the contract's parameters, for a 400's `param`: Kling's messages name the field.
_PARAMS = {
    "duration": "seconds",
    "aspect_ratio": "size",
    "mode": "size",
    "prompt": "prompt",
    "image": "input_reference",
    "model_name": "model",
}
_FIELD = re.compile(r"\b(" + "|".join(_PARAMS) + r")\b")
_QUEUED, _RUNNING, _SUCCEEDED, _FAILED = "submitted", "processing", "succeed", "failed"
NO_VIDEO = VideoError(code="video_generation_failed", message="Kling's task succeeded without a video.")


class KlingUpstream(RestUpstream):
    def auth_headers(self, entry: Entry) -> dict[str, str]:
        token = api_token(self._api_key(entry.api_key_parameter), int(time.time()))
        return {"Authorization": f"Bearer {token}"}

    def error_info(self, body: Any, status: int) -> tuple[UpstreamErrorInfo, str | None]:
        """Kling's `{"code", "message", "request_id"}`; the body field a 400's message names (an input
        the content policy refused is the prompt's)."""
        code = body.get("code") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(code, int) or not isinstance(message, str):
            return super().error_info(body, status)
        info = UpstreamErrorInfo(
            type="invalid_request_error" if status in (400, 404) else "upstream_error",
            code=str(code),
            message=message,
        )
        if code == CONTENT_REFUSED:
            return info, "prompt"
        field = _FIELD.search(message)
        return info, _PARAMS[field.group(1)] if field and status == 400 else None

    def create(self, request: UpstreamCreate) -> UpstreamJob:
        entry = self.route(request.model)
        body = _task_body(entry, request)
        endpoint = TEXT_TO_VIDEO if request.reference is None else IMAGE_TO_VIDEO
        answer = self.start(entry, f"{entry.base_url}/v1/videos/{endpoint}", body)
        return UpstreamJob(id=job_id(_data(answer), "task_id"), status="queued", progress=0)

    def _task(self, model: str, task_id: str) -> tuple[Entry, dict[str, Any]]:
        """The task, asked for at text to video's path, then at image to video's (each path knows its
        own tasks only)."""
        entry = self.route(model)
        try:
            return entry, self._read(entry, TEXT_TO_VIDEO, task_id)
        except UpstreamNotFoundError:
            return entry, self._read(entry, IMAGE_TO_VIDEO, task_id)

    def _read(self, entry: Entry, endpoint: str, task_id: str) -> dict[str, Any]:
        url = f"{entry.base_url}/v1/videos/{endpoint}/{quote(task_id, safe='')}"
        task = _data(self.request(entry, "GET", url, repeatable=True))
        if not isinstance(task.get("task_status"), str):
            raise UpstreamRetryableError("The upstream answered with a malformed task.")
        return task

    def retrieve(self, model: str, upstream_id: str) -> UpstreamJob:
        _, task = self._task(model, upstream_id)
        status = task["task_status"]
        if status == _QUEUED:
            return UpstreamJob(id=upstream_id, status="queued", progress=0)
        if status == _RUNNING:
            # Kling reports no progress.
            return UpstreamJob(id=upstream_id, status="in_progress", progress=0)
        if status == _SUCCEEDED:
            if _video_url(task) is None:
                return UpstreamJob(upstream_id, "failed", 0, NO_VIDEO)
            return UpstreamJob(id=upstream_id, status="completed", progress=100)
        if status == _FAILED:
            return UpstreamJob(upstream_id, "failed", 0, _failure(task))
        raise UpstreamRetryableError(f"The upstream's task has a status Kling does not document: {status}.")

    def delete(self, model: str, upstream_id: str) -> None:
        """Kling has no cancel: a task runs out, and its video is kept 30 days."""

    @contextmanager
    def open_content(self, model: str, upstream_id: str, variant: str) -> Iterator[StreamedContent]:
        """The task's first video, read again with each download, and fetched without the token
        (Kling's CDN is another origin)."""
        if variant != "video":
            raise VariantNotOfferedError(variant)
        entry, task = self._task(model, upstream_id)
        url = _video_url(task) if task["task_status"] == _SUCCEEDED else None
        with self.stream_output(entry, url, "The upstream's task has no video to download.") as content:
            yield content


def _task_body(entry: Entry, request: UpstreamCreate) -> dict[str, Any]:
    """The create's body: the model's fields, the image where one is given, the callback's URL."""
    aspect_ratio, resolution = named(request.size, request.model)
    body: dict[str, Any] = {
        "model_name": entry.upstream_model,
        "prompt": request.prompt,
        "duration": request.seconds,
    }
    if entry.family not in MODELESS:
        body["mode"] = _mode(request.model, resolution)
    if entry.family in WITH_SOUND:
        body["sound"] = "on" if entry.capabilities.audio else "off"
    if request.reference is None:
        body["aspect_ratio"] = aspect_ratio
    else:
        body["image"] = _image(request)
    if request.callback_url:
        body["callback_url"] = request.callback_url
    return body


def _mode(model: str, resolution: str) -> str:
    mode = MODES.get(resolution)
    if mode is None:
        raise InvalidVideoSize(
            f"Model '{model}' makes {' or '.join(MODES)} videos, not {resolution}.", param="size"
        )
    return mode


def _image(request: UpstreamCreate) -> str:
    """The reference image in base64, as Kling takes it (a JPEG or PNG, with no `data:` prefix)."""
    reference = request.reference
    if reference is None or reference.content_type not in _IMAGE_TYPES:
        raise InvalidRequest(
            f"Model '{request.model}' takes a JPEG or PNG reference image.", param="input_reference"
        )
    return base64.b64encode(reference.content).decode()


def _data(answer: Any) -> dict[str, Any]:
    """An answer's `data`: the task."""
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict):
        raise UpstreamRetryableError("The upstream answered without its data.")
    return data


def _video_url(task: dict[str, Any]) -> str | None:
    result = task.get("task_result")
    videos = result.get("videos") if isinstance(result, dict) else None
    first = videos[0] if isinstance(videos, list) and videos and isinstance(videos[0], dict) else {}
    url = first.get("url")
    return url if isinstance(url, str) and url else None


def _failure(task: dict[str, Any]) -> VideoError:
    """A failed task's reason, `task_status_msg` (Kling gives it no code)."""
    reason = task.get("task_status_msg")
    message = reason if isinstance(reason, str) and reason else "Kling's task failed."
    return VideoError(code="video_generation_failed", message=message)
