"""OpenRouter's video generation API, in plain REST (what its official SDK sends).

Create: `POST {base}/videos` with a bearer key, `model`, `prompt`, `duration` (a number),
`aspect_ratio` and `resolution`, and a starting image in `input_references`; the answer is `{id,
polling_url, status: "pending"}`. Status: `GET {base}/videos/{id}`: pending, in_progress, completed,
or failed / cancelled / expired with `error`. Content: `GET {base}/videos/{id}/content?index=0`
with the key. OpenRouter documents no way to cancel a job, and makes the video only.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from videos_core.adapters.upstream_calls import StreamedContent
from videos_core.adapters.upstream_rest import RestUpstream, job_id
from videos_core.catalog import Entry
from videos_core.models.api import VideoError
from videos_core.ports import UpstreamCreate, UpstreamJob, VariantNotOfferedError
from videos_core.sizes import aspect_and_resolution

_STATUSES = {"pending": "queued", "in_progress": "in_progress", "completed": "completed"}


class OpenRouterUpstream(RestUpstream):
    def auth_headers(self, entry: Entry) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key(entry.api_key_parameter)}"}

    def create(self, request: UpstreamCreate) -> UpstreamJob:
        entry = self.route(request.model)
        body: dict[str, Any] = {
            "model": entry.upstream_model,
            "prompt": request.prompt,
            "duration": int(request.seconds),
        }
        named = aspect_and_resolution(request.size)
        if named is not None:
            body["aspect_ratio"], body["resolution"] = named
        else:
            body["size"] = request.size
        if request.callback_url:
            body["callback_url"] = request.callback_url
        if request.reference is not None:
            data = base64.b64encode(request.reference.content).decode()
            url = f"data:{request.reference.content_type};base64,{data}"
            body["input_references"] = [{"type": "image_url", "image_url": {"url": url}}]
        job = self.request(entry, "POST", f"{entry.base_url}/videos", repeatable=False, body=body)
        return _job(job)

    def retrieve(self, model: str, upstream_id: str) -> UpstreamJob:
        entry = self.route(model)
        return _job(
            self.request(entry, "GET", f"{entry.base_url}/videos/{quote(upstream_id)}", repeatable=True)
        )

    def delete(self, model: str, upstream_id: str) -> None:
        """OpenRouter documents no cancel: a job runs out, and its output expires on its own."""

    @contextmanager
    def open_content(self, model: str, upstream_id: str, variant: str) -> Iterator[StreamedContent]:
        if variant != "video":
            raise VariantNotOfferedError(variant)
        entry = self.route(model)
        with self.stream(entry, f"{entry.base_url}/videos/{quote(upstream_id)}/content?index=0") as content:
            yield content


def _job(body: Any) -> UpstreamJob:
    upstream_id = job_id(body, "id")
    status = str(body.get("status"))
    if status in _STATUSES:
        return UpstreamJob(
            id=upstream_id, status=_STATUSES[status], progress=100 if status == "completed" else 0
        )
    message = str(body.get("error") or f"The job ended {status}.")
    return UpstreamJob(upstream_id, "failed", 0, VideoError(code="video_generation_failed", message=message))
