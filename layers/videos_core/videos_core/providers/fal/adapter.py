"""fal's queue, in plain REST (what fal-client sends).

Create: `POST {base}/{app}` with `Authorization: Key …` and the model's input (prompt, `duration` as
the model writes it, `aspect_ratio`, and `resolution` where the model takes one); the answer carries a
`request_id`. Status: `GET {base}/{owner}/{alias}/requests/{id}/status`: IN_QUEUE (with
`queue_position`), IN_PROGRESS, COMPLETED (with `error` when the request failed). Result:
`GET …/requests/{id}`, whose `video.url` is the file. Delete: `PUT …/requests/{id}/cancel`, which
stops a request still queued. A create names its callback in `?fal_webhook=`. The status and
result paths drop an app's sub-path (`fal-ai/kling-video/v2.1/…` is `fal-ai/kling-video`), as fal's
documentation says.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

from videos_core.adapters.upstream_calls import StreamedContent
from videos_core.adapters.upstream_rest import RestUpstream, job_id
from videos_core.catalog import Entry
from videos_core.errors import InvalidRequest, UpstreamErrorInfo, UpstreamRetryableError
from videos_core.models.api import VideoError
from videos_core.ports import UpstreamCreate, UpstreamJob, UpstreamNotFoundError, VariantNotOfferedError
from videos_core.providers.fal import DURATION_FORMATS
from videos_core.sizes import named

# fal's input fields as the contract's parameters, for a 422's `loc`.
_PARAMS = {"duration": "seconds", "aspect_ratio": "size", "resolution": "size", "prompt": "prompt"}
_STATUSES = {"IN_QUEUE": "queued", "IN_PROGRESS": "in_progress"}


def _requests_url(entry: Entry, request_id: str) -> str:
    owner, alias = entry.upstream_model.split("/")[:2]
    return f"{entry.base_url}/{owner}/{alias}/requests/{request_id}"


class FalUpstream(RestUpstream):
    def auth_headers(self, entry: Entry) -> dict[str, str]:
        return {"Authorization": f"Key {self._api_key(entry.api_key_parameter)}"}

    def error_info(self, body: Any, status: int) -> tuple[UpstreamErrorInfo, str | None]:
        """fal's `{"detail": "…"}`, or a validation error's `{"detail": [{"loc", "msg", "type"}]}`."""
        detail = body.get("detail") if isinstance(body, dict) else None
        if isinstance(detail, list) and detail and isinstance(detail[0], dict):
            first = detail[0]
            loc = first.get("loc")
            field = str(loc[-1]) if isinstance(loc, list) and loc else None
            message = str(first.get("msg") or "invalid input")
            info = UpstreamErrorInfo(type="invalid_request_error", code=first.get("type"), message=message)
            return info, _PARAMS.get(field or "")
        if isinstance(detail, str):
            return UpstreamErrorInfo(type="upstream_error", code=None, message=detail), None
        return super().error_info(body, status)

    def create(self, request: UpstreamCreate) -> UpstreamJob:
        entry = self.route(request.model)
        aspect_ratio, resolution = named(request.size, request.model)
        body: dict[str, Any] = {
            "prompt": request.prompt,
            "duration": DURATION_FORMATS.get(entry.family, "{}").format(request.seconds),
            "aspect_ratio": aspect_ratio,
        }
        if entry.family == "fal-ai/veo3":
            body["resolution"] = resolution
        url = f"{entry.base_url}/{entry.upstream_model}"
        if request.callback_url:
            url += "?" + urlencode({"fal_webhook": request.callback_url})
        queued = self.request(entry, "POST", url, repeatable=False, body=body)
        return UpstreamJob(id=job_id(queued, "request_id"), status="queued", progress=0)

    def retrieve(self, model: str, upstream_id: str) -> UpstreamJob:
        entry = self.route(model)
        status = self.read_state(entry, _requests_url(entry, upstream_id) + "/status", "status")
        state = str(status.get("status"))
        if state in _STATUSES:
            return UpstreamJob(id=upstream_id, status=_STATUSES[state], progress=0)
        error = status.get("error")
        if state == "COMPLETED" and not error:
            return UpstreamJob(id=upstream_id, status="completed", progress=100)
        message = str(error or f"The request ended {state.lower()}.")
        code = "moderation_blocked" if status.get("error_type") == "content_policy_violation" else "failed"
        return UpstreamJob(upstream_id, "failed", 0, VideoError(code=code, message=message))

    def delete(self, model: str, upstream_id: str) -> None:
        """Cancels the request: fal stops one still in its queue (one already running runs out)."""
        entry = self.route(model)
        # 404: gone; 400 ALREADY_COMPLETED: nothing is left to cancel.
        with contextlib.suppress(UpstreamNotFoundError, InvalidRequest):
            self.request(entry, "PUT", _requests_url(entry, upstream_id) + "/cancel", repeatable=True)

    @contextmanager
    def open_content(self, model: str, upstream_id: str, variant: str) -> Iterator[StreamedContent]:
        if variant != "video":
            raise VariantNotOfferedError(variant)
        entry = self.route(model)
        result = self.request(entry, "GET", _requests_url(entry, upstream_id), repeatable=True)
        video = result.get("video") if isinstance(result, dict) else None
        url = video.get("url") if isinstance(video, dict) else None
        if not isinstance(url, str):
            raise UpstreamRetryableError("The upstream's result has no video URL.")
        with self.stream(entry, url) as content:
            yield content
