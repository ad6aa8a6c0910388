"""A small client of the service's HTTP API, for the command line."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

DEFAULT_BASE_URL = "http://127.0.0.1:3000"
VARIANT_SUFFIXES = {"video": ".mp4", "thumbnail": ".jpg", "spritesheet": ".jpg"}


class ApiCallError(Exception):
    """What the service answered with, or why it could not be reached: one line for a person."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class Poll:
    video: dict[str, Any]
    finished: bool


class VideosClient:
    def __init__(self, base_url: str, api_key: str, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=timeout
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> VideosClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as e:
            raise ApiCallError("unreachable", f"could not reach {self.base_url}: {e}") from e
        if response.status_code >= 400:
            raise _error_of(response)
        return response

    def create(
        self,
        prompt: str,
        model: str | None,
        seconds: str | None,
        size: str | None,
        input_reference: Path | None = None,
        characters: list[str] | None = None,
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {
            k: v for k, v in {"prompt": prompt, "model": model, "seconds": seconds, "size": size}.items() if v
        }
        if input_reference is None:
            body = fields | ({"characters": [{"id": c} for c in characters]} if characters else {})
            return dict(self._request("POST", "/v1/videos", json=body).json())
        if characters:
            fields["characters[][id]"] = characters
        content_type = mimetypes.guess_type(input_reference.name)[0] or "application/octet-stream"
        files = {"input_reference": (input_reference.name, input_reference.read_bytes(), content_type)}
        return dict(self._request("POST", "/v1/videos", data=fields, files=files).json())

    def remix(self, video_id: str, prompt: str) -> dict[str, Any]:
        return dict(self._request("POST", f"/v1/videos/{video_id}/remix", json={"prompt": prompt}).json())

    def edit(self, video_id: str, prompt: str) -> dict[str, Any]:
        body = {"prompt": prompt, "video": {"id": video_id}}
        return dict(self._request("POST", "/v1/videos/edits", json=body).json())

    def extend(self, video_id: str, prompt: str, seconds: str) -> dict[str, Any]:
        body = {"prompt": prompt, "seconds": seconds, "video": {"id": video_id}}
        return dict(self._request("POST", "/v1/videos/extensions", json=body).json())

    def create_character(self, name: str, video: Path) -> dict[str, Any]:
        files = {"video": (video.name, video.read_bytes(), "video/mp4")}
        return dict(self._request("POST", "/v1/videos/characters", data={"name": name}, files=files).json())

    def get_character(self, character_id: str) -> dict[str, Any]:
        return dict(self._request("GET", f"/v1/videos/characters/{character_id}").json())

    def get(self, video_id: str) -> dict[str, Any]:
        return dict(self._request("GET", f"/v1/videos/{video_id}").json())

    def poll(self, video_id: str, max_wait_ms: int) -> Poll:
        """One long poll: returns when the job ends or the server's hold does (202)."""
        response = self._request(
            "GET", f"/api/videos/{video_id}/poll", params={"maxWaitMs": str(max_wait_ms)}
        )
        return Poll(response.json(), finished=response.status_code == 200)

    def list(self, limit: int, order: str, after: str | None = None) -> dict[str, Any]:
        params = {"limit": str(limit), "order": order} | ({"after": after} if after else {})
        return dict(self._request("GET", "/v1/videos", params=params).json())

    def models(self) -> dict[str, Any]:
        return dict(self._request("GET", "/v1/videos/models").json())

    def delete(self, video_id: str) -> dict[str, Any]:
        return dict(self._request("DELETE", f"/v1/videos/{video_id}").json())

    def download(self, video_id: str, variant: str, target: Path) -> int:
        """Streams a variant to `target` (through the presigned URL the service redirects to)."""
        link = self._request(
            "GET", f"/v1/videos/{video_id}/content", params={"variant": variant, "redirect": "false"}
        ).json()
        partial = target.with_name(target.name + ".part")
        size = 0
        try:
            with httpx.stream("GET", link["url"], timeout=300) as response:
                if response.status_code >= 400:
                    raise ApiCallError("download_failed", f"the file store answered {response.status_code}")
                with partial.open("wb") as out:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
                        size += len(chunk)
            partial.replace(target)
        except httpx.HTTPError as e:
            raise ApiCallError("download_failed", f"the download broke off: {e}") from e
        finally:
            partial.unlink(missing_ok=True)
        return size


def _error_of(response: httpx.Response) -> ApiCallError:
    try:
        body = response.json()
        error = body.get("error") or {}
        return ApiCallError(
            error.get("code") or body.get("error_code") or str(response.status_code),
            error.get("message") or body.get("message") or response.text,
            response.status_code,
        )
    except ValueError:
        return ApiCallError(
            str(response.status_code), response.text.strip() or response.reason_phrase, response.status_code
        )
