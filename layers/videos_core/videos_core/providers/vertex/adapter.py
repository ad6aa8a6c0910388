"""Veo on Vertex AI, in plain REST (what the google-genai SDK sends with `vertexai=True`), with the
access token google-auth would ask for with the route's service account key.

Token: `POST {token_uri}` (form) `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` and the
signed assertion → `{access_token, expires_in}`, sent as `Authorization: Bearer` and kept per process
until shortly before it expires (`service_account`). Create: `POST {base}/v1/projects/{project}/
locations/{region}/publishers/google/models/{model}:predictLongRunning` with `instances[0]` (`prompt`,
`image: {bytesBase64Encoded, mimeType}`) and `parameters` (`aspectRatio`, `durationSeconds`,
`resolution`, `generateAudio`, `sampleCount: 1`; no `storageUri`, so the video comes back inline);
the answer is `{name}`, the operation. Status: `POST {base}/v1/{model resource}:fetchPredictOperation
{operationName}`: not `done` (in progress), `done` with `error {code, message}`, or with `response`
holding `videos[0].bytesBase64Encoded`, or no video and `raiMediaFilteredCount`/`Reasons` (the safety
filters took it: moderation). The download is that same call, its inline video decoded as it streams
(`inline`). Errors are Google's `{"error": {code, message, status}}`; a 401 drops the kept tokens, so
the next call asks for a new one. Vertex AI documents no cancel of these operations.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx2

from videos_core.adapters.upstream_calls import StreamedContent, status_error
from videos_core.adapters.upstream_rest import RestUpstream, job_id
from videos_core.catalog import Entry
from videos_core.errors import UpstreamErrorInfo, UpstreamRetryableError
from videos_core.models.api import VideoError
from videos_core.ports import UpstreamCreate, UpstreamJob, VariantNotOfferedError
from videos_core.providers.gemini.adapter import filtered, google_error_info
from videos_core.providers.vertex import RATIOS
from videos_core.providers.vertex.inline import InlineVideo
from videos_core.providers.vertex.service_account import GRANT_TYPE, AccessTokens, ServiceAccount
from videos_core.sizes import named

# What Veo makes: an MP4 (the response names it too, but only after the bytes).
VIDEO_TYPE = "video/mp4"


class VertexUpstream(RestUpstream):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Shared by the bounded copies of this adapter (`until`), as its HTTP clients are.
        self.tokens = AccessTokens()

    def account(self, entry: Entry) -> ServiceAccount:
        return ServiceAccount.from_key(self._api_key(entry.api_key_parameter))

    def auth_headers(self, entry: Entry) -> dict[str, str]:
        account = self.account(entry)
        token = self.tokens.token(account, lambda assertion: self._exchange(account, assertion))
        return {"Authorization": f"Bearer {token}"}

    def error_info(self, body: Any, status: int) -> tuple[UpstreamErrorInfo, str | None]:
        info, param = super().error_info(body, status)
        return google_error_info(body, info), param

    def _error(self, response: httpx2.Response) -> Exception:
        """A 401 is a token Vertex AI no longer takes: the next call asks for a new one."""
        error = super()._error(response)
        if response.status_code != 401:
            return error
        self.tokens.forget()
        return UpstreamRetryableError("Vertex AI refused the access token; a new one will be asked for.")

    def create(self, request: UpstreamCreate) -> UpstreamJob:
        entry = self.route(request.model)
        aspect_ratio, resolution = named(request.size, request.model, RATIOS)
        instance: dict[str, Any] = {"prompt": request.prompt}
        if request.reference is not None:
            instance["image"] = {
                "bytesBase64Encoded": base64.b64encode(request.reference.content).decode(),
                "mimeType": request.reference.content_type,
            }
        parameters = {
            "aspectRatio": aspect_ratio,
            "durationSeconds": int(request.seconds),
            "resolution": resolution,
            "generateAudio": entry.capabilities.audio,
            "sampleCount": 1,
        }
        url = f"{self._model_url(entry)}:predictLongRunning"
        operation = self.start(entry, url, {"instances": [instance], "parameters": parameters})
        return UpstreamJob(id=job_id(operation, "name"), status="queued", progress=0)

    def retrieve(self, model: str, upstream_id: str) -> UpstreamJob:
        with self._operation(model, upstream_id) as inline:
            operation = inline.document()
        if not isinstance(operation, dict):
            raise UpstreamRetryableError("The upstream answered with a malformed operation.")
        if not operation.get("done"):
            return UpstreamJob(id=upstream_id, status="in_progress", progress=0)
        error = operation.get("error")
        if isinstance(error, dict):
            message = str(error.get("message") or "The generation failed.")
            failure = VideoError(code="video_generation_failed", message=message)
            return UpstreamJob(upstream_id, "failed", 0, failure)
        if not inline.decoded_bytes:
            response = operation.get("response")
            return UpstreamJob(
                upstream_id, "failed", 0, filtered(response if isinstance(response, dict) else {})
            )
        return UpstreamJob(id=upstream_id, status="completed", progress=100)

    def delete(self, model: str, upstream_id: str) -> None:
        """Vertex AI documents no cancel of a Veo operation: it runs out on its own."""

    @contextmanager
    def open_content(self, model: str, upstream_id: str, variant: str) -> Iterator[InlineContent]:
        if variant != "video":
            raise VariantNotOfferedError(variant)
        with self._operation(model, upstream_id) as inline:
            yield InlineContent(inline)

    @contextmanager
    def _operation(self, model: str, name: str) -> Iterator[InlineVideo]:
        """The operation as `fetchPredictOperation` streams it (its video, when done, inline)."""
        entry = self.route(model)
        resource, found, _ = name.rpartition("/operations/")
        if not found or not resource.startswith("projects/"):
            raise UpstreamRetryableError(f"The upstream's operation name is malformed: {name!r}.")
        url = f"{entry.base_url}/v1/{quote(resource)}:fetchPredictOperation"
        headers = self.auth_headers(entry) | {"Accept": "application/json"}
        body = {"operationName": name}
        try:
            with self._http().stream(
                "POST", url, json=body, headers=headers, timeout=self._timeout()
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise self._error(response)
                yield InlineVideo(StreamedContent(response, self._out_of_time).chunks())
        except httpx2.TransportError as e:
            raise UpstreamRetryableError("The upstream could not be reached for the operation.") from e

    def _model_url(self, entry: Entry) -> str:
        project = self.account(entry).project_id
        location = entry.region
        model = entry.upstream_model
        return (
            f"{entry.base_url}/v1/projects/{quote(project, safe='')}/locations/{location}"
            f"/publishers/google/models/{quote(model, safe='')}"
        )

    def _exchange(self, account: ServiceAccount, assertion: str) -> tuple[str, int]:
        """The account's assertion exchanged at its token endpoint: an access token and the seconds
        it lasts."""
        form = {"grant_type": GRANT_TYPE, "assertion": assertion}
        try:
            response = self._http().post(account.token_uri, data=form, timeout=self._timeout())
        except httpx2.TransportError as e:
            raise UpstreamRetryableError("The token endpoint could not be reached.") from e
        if response.status_code >= 400:
            raise _token_refused(response)
        answer = self._json(response)
        answer = answer if isinstance(answer, dict) else {}
        token, lasts = answer.get("access_token"), answer.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(lasts, int):
            raise UpstreamRetryableError("The token endpoint answered without a token.")
        return token, lasts


class InlineContent:
    """The operation's inline video as the store reads a download: its bytes as they are decoded."""

    content_type = VIDEO_TYPE
    length: int | None = None

    def __init__(self, inline: InlineVideo) -> None:
        self._inline = inline

    def chunks(self) -> Iterator[bytes]:
        yield from self._inline.chunks()
        if not self._inline.found:
            raise UpstreamRetryableError("The upstream's operation has no video to download.")


def _token_refused(response: httpx2.Response) -> Exception:
    """The token endpoint's OAuth error (`{"error": "invalid_grant", "error_description"}`): a refused
    key is this service's credentials; a 429 or 5xx is worth asking again."""
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    code = str(body.get("error") or f"HTTP {response.status_code}")
    info = UpstreamErrorInfo(
        type="oauth_error", code=code, message=str(body.get("error_description") or code)
    )
    status = response.status_code
    return status_error(401 if status in (400, 401, 403) else status, info, None, response.headers)
