"""MiniMax's video generation API, in plain REST (what its own clients, the MiniMax-MCP server and the
mmx CLI, send).

Create: `POST {base}/v1/video_generation` with a bearer key; the body is `model`, `prompt`, `duration`
(a number of seconds), `resolution` ("768P"), `first_frame_image` (a data URL) when a reference image
is given, and `callback_url` when the job is to be called back. The answer is `{"task_id",
"base_resp"}`. Status: `GET {base}/v1/query/video_generation?task_id=`: Preparing and Queueing
(queued), Processing (in progress; MiniMax reports no progress), Success with `file_id`, Fail (its
`base_resp` the reason: 1026 and 1027 are content moderation). The video: `GET
{base}/v1/files/retrieve?file_id=` gives `file.download_url` (on MiniMax's storage, fetched without the
key, valid for hours), read again for each download. MiniMax has no cancel for these tasks.

Every answer carries `base_resp: {status_code, status_msg}`, and MiniMax refuses with it on an HTTP 200
as often as not: a non-zero code is the error, taken as the HTTP status it amounts to (its "Error
Codes" page), whatever the HTTP status it came with.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx2

from videos_core.adapters.upstream_calls import StreamedContent, status_error
from videos_core.adapters.upstream_rest import RestUpstream, job_id
from videos_core.catalog import Entry
from videos_core.errors import (
    InvalidRequest,
    InvalidVideoDuration,
    InvalidVideoPrompt,
    InvalidVideoSize,
    UpstreamErrorInfo,
    UpstreamRetryableError,
)
from videos_core.models.api import VideoError
from videos_core.ports import UpstreamCreate, UpstreamJob, VariantNotOfferedError
from videos_core.providers.minimax import FIRST_FRAME_RESOLUTIONS, IMAGE_ONLY, TEN_SECOND_RESOLUTIONS
from videos_core.sizes import named

# MiniMax's codes as the HTTP status each amounts to: 1000 unknown error, 1001 request timeout, 1013
# internal service error, 1024 internal error, 1033 system error (retry later); 1002 rate limit, 1039
# token limit, 1041 connection limit, 2045 rate growth limit; 1004 not authorized and 2049 invalid api
# key (this service's key); 1008 insufficient balance; 1042 invisible characters in the input and 2013
# invalid params (the request).
_STATUS_OF_CODE = {
    1000: 500,
    1001: 504,
    1013: 500,
    1024: 500,
    1033: 500,
    1002: 429,
    1039: 429,
    1041: 429,
    2045: 429,
    1004: 401,
    2049: 401,
    1008: 402,
    1042: 400,
    2013: 400,
}
# Content moderation: 1026 the input (prompt or first frame), 1027 the output.
SENSITIVE = frozenset({1026, 1027})
# MiniMax's body fields as the contract's parameters, for a 400's `param`: its messages name the field.
_PARAMS = {
    "first_frame_image": "input_reference",
    "duration": "seconds",
    "resolution": "size",
    "prompt": "prompt",
    "model": "model",
}
_FIELD = re.compile(r"\b(" + "|".join(_PARAMS) + r")\b")
_QUEUED = ("Preparing", "Queueing")
# Fail, as MiniMax's API reference and its MCP server have it; Unknown, which its documentation's
# example ends on as well; Failed, as the mmx CLI's types spell it.
_FAILED = ("Fail", "Unknown", "Failed")


def refusal(base_resp: dict[str, Any], http_status: int, headers: Any) -> Exception:
    """The contract's error for a non-zero `base_resp` (an unknown code: the HTTP status it came with)."""
    code = base_resp.get("status_code")
    message = f"{base_resp.get('status_msg') or 'error'} ({code})"
    status = _STATUS_OF_CODE.get(code, http_status) if isinstance(code, int) else http_status
    info = UpstreamErrorInfo(
        type="invalid_request_error" if status == 400 or code in SENSITIVE else "upstream_error",
        code=str(code),
        message=message,
    )
    if code in SENSITIVE:
        return InvalidVideoPrompt(
            f"The upstream refused the prompt: {message}", param="prompt", upstream=info
        )
    field = _FIELD.search(message) if status == 400 else None
    return status_error(status, info, _PARAMS[field.group(1)] if field else None, headers)


def _base_resp(answer: Any) -> dict[str, Any]:
    base = answer.get("base_resp") if isinstance(answer, dict) else None
    return base if isinstance(base, dict) else {}


def _refused(answer: Any) -> bool:
    return bool(_base_resp(answer).get("status_code", 0) != 0)


def _accepted(answer: Any) -> Any:
    """An answer MiniMax did not refuse (its refusal, on an HTTP 200, raised)."""
    if _refused(answer):
        raise refusal(_base_resp(answer), 200, {})
    return answer


class MiniMaxUpstream(RestUpstream):
    def auth_headers(self, entry: Entry) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key(entry.api_key_parameter)}"}

    def _error(self, response: httpx2.Response) -> Exception:
        """An HTTP error whose body is MiniMax's `base_resp` is taken by its code, as on a 200."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if _refused(body):
            return refusal(_base_resp(body), response.status_code, response.headers)
        return super()._error(response)

    def create(self, request: UpstreamCreate) -> UpstreamJob:
        entry = self.route(request.model)
        answer = _accepted(self.start(entry, f"{entry.base_url}/v1/video_generation", _body(entry, request)))
        return UpstreamJob(id=job_id(answer, "task_id"), status="queued", progress=0)

    def _task(self, model: str, task_id: str) -> tuple[Entry, dict[str, Any]]:
        """The task as a query reads it; a failed one carries its reason in `base_resp`."""
        entry = self.route(model)
        url = f"{entry.base_url}/v1/query/video_generation?task_id={quote(task_id, safe='')}"
        task = self.read_state(entry, url, "task")
        return entry, task if task.get("status") in _FAILED else _accepted(task)

    def retrieve(self, model: str, upstream_id: str) -> UpstreamJob:
        _, task = self._task(model, upstream_id)
        status = task.get("status")
        if status in _QUEUED:
            return UpstreamJob(id=upstream_id, status="queued", progress=0)
        if status == "Success":
            if _file_id(task) is None:
                failure = VideoError(
                    code="video_generation_failed", message="MiniMax's task succeeded without a file."
                )
                return UpstreamJob(upstream_id, "failed", 0, failure)
            return UpstreamJob(id=upstream_id, status="completed", progress=100)
        if status in _FAILED:
            return UpstreamJob(upstream_id, "failed", 0, _failure(task))
        # Processing, or a status MiniMax has added since (its clients keep polling those too).
        return UpstreamJob(id=upstream_id, status="in_progress", progress=0)

    def delete(self, model: str, upstream_id: str) -> None:
        """MiniMax has no cancel for these tasks: a task runs out on its own."""

    @contextmanager
    def open_content(self, model: str, upstream_id: str, variant: str) -> Iterator[StreamedContent]:
        """The task's file: its download URL read again for each download (it expires), the video
        downloaded without the key (MiniMax's storage is another origin)."""
        if variant != "video":
            raise VariantNotOfferedError(variant)
        entry, task = self._task(model, upstream_id)
        file_id = _file_id(task)
        if task.get("status") != "Success" or file_id is None:
            raise UpstreamRetryableError("The upstream's task has no file to download.")
        url = f"{entry.base_url}/v1/files/retrieve?file_id={quote(file_id, safe='')}"
        found = _accepted(self.request(entry, "GET", url, repeatable=True))
        file = found.get("file") if isinstance(found, dict) else None
        download_url = file.get("download_url") if isinstance(file, dict) else None
        if not isinstance(download_url, str) or not download_url:
            raise UpstreamRetryableError("The upstream's file has no download URL.")
        with self.stream(entry, download_url) as content:
            yield content


def _body(entry: Entry, request: UpstreamCreate) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": entry.upstream_model,
        "prompt": request.prompt,
        "duration": int(request.seconds),
        "resolution": _resolution(entry, request),
    }
    if request.reference is not None:
        data = base64.b64encode(request.reference.content).decode()
        body["first_frame_image"] = f"data:{request.reference.content_type};base64,{data}"
    if request.callback_url:
        body["callback_url"] = request.callback_url
    return body


def _resolution(entry: Entry, request: UpstreamCreate) -> str:
    """The size as MiniMax names it ("768P"), refused here where MiniMax would refuse the create (its
    2013): a length the resolution is not made at, or a video from text a family makes from a first
    frame only."""
    _, shorter = named(request.size, request.model, ("16:9",))
    resolution = shorter.upper()
    long = TEN_SECOND_RESOLUTIONS.get(entry.family)
    if long is not None and int(request.seconds) > 6 and resolution not in long:
        raise InvalidVideoDuration(
            f"Model '{request.model}' makes {request.seconds} seconds at {' or '.join(sorted(long))} only, "
            f"not {resolution}.",
            param="seconds",
        )
    if request.reference is None and entry.family in IMAGE_ONLY:
        raise InvalidRequest(
            f"Model '{request.model}' makes videos from a first frame only: give an input_reference.",
            param="input_reference",
        )
    if request.reference is None and resolution in FIRST_FRAME_RESOLUTIONS.get(entry.family, ()):
        raise InvalidVideoSize(
            f"Model '{request.model}' makes {resolution} videos from a first frame only: give an "
            "input_reference, or another size.",
            param="size",
        )
    return resolution


def _file_id(task: dict[str, Any]) -> str | None:
    """The file a succeeded task made (a string in the query; a number would be taken as well)."""
    file_id = task.get("file_id")
    if isinstance(file_id, int) and not isinstance(file_id, bool):
        return str(file_id)
    return file_id if isinstance(file_id, str) and file_id else None


def _failure(task: dict[str, Any]) -> VideoError:
    """A failed task's reason: its `base_resp` (a zero code's message is the reason itself)."""
    base = _base_resp(task)
    code, said = base.get("status_code"), base.get("status_msg")
    reason = str(said) if said and said != "success" else f"MiniMax's task ended {task.get('status')}."
    message = f"{reason} ({code})" if code else reason
    return VideoError(
        code="moderation_blocked" if code in SENSITIVE else "video_generation_failed", message=message
    )
