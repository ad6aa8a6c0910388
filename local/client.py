"""A small client of the service's HTTP API, for the command line.

It speaks HTTP through the standard library: each command is a process of its own, and an HTTP
library's import (httpx brings its own command line's click, rich and pygments) cost every command
more CPU than the rest of its start together."""

from __future__ import annotations

import http.client
import json
import mimetypes
import secrets
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

DEFAULT_BASE_URL = "http://127.0.0.1:3000"
DOWNLOAD_TIMEOUT = 300.0
CHUNK_BYTES = 1 << 16

# A form field's value, or a file as (name, content, media type).
Fields = dict[str, str | list[str]]
Files = dict[str, tuple[str, bytes, str]]


class ApiCallError(Exception):
    """What the service answered with, or why it could not be reached: one line for a person."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class Poll:
    video: dict[str, Any]
    finished: bool


@dataclass(frozen=True)
class Answer:
    status: int
    reason: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _connection(url: str, timeout: float) -> http.client.HTTPConnection:
    """A connection to `url`'s host; https verifies the server's certificate by the system's CAs."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return http.client.HTTPSConnection(
            parts.netloc, timeout=timeout, context=ssl.create_default_context()
        )
    if parts.scheme == "http":
        return http.client.HTTPConnection(parts.netloc, timeout=timeout)
    raise ApiCallError("unreachable", f"not an http(s) URL: {url}")


def _multipart(fields: Fields, files: Files) -> tuple[bytes, str]:
    """A multipart/form-data body and its content type."""
    boundary = secrets.token_hex(16)
    parts: list[bytes] = []
    for name, value in fields.items():
        for item in [value] if isinstance(value, str) else value:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
            parts.append(item.encode() + b"\r\n")
    for name, (filename, content, media_type) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {media_type}\r\n\r\n".encode()
        )
        parts.append(content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class VideosClient:
    """Each call is a request on a connection of its own: the progress bar's GETs and a long poll run
    side by side from two threads."""

    def __init__(self, base_url: str, api_key: str, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._prefix = urlsplit(self.base_url).path
        self._api_key = api_key
        self._timeout = timeout

    def close(self) -> None:
        """Nothing is kept open between calls."""

    def __enter__(self) -> VideosClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        fields: Fields | None = None,
        files: Files | None = None,
    ) -> Answer:
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}
        body: bytes | None = None
        if files is not None:
            body, headers["Content-Type"] = _multipart(fields or {}, files)
        elif json_body is not None:
            body, headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
        target = self._prefix + path + (f"?{urlencode(params)}" if params else "")
        connection = _connection(self.base_url, self._timeout)
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            answer = Answer(response.status, response.reason, response.read())
        except (OSError, http.client.HTTPException) as e:
            raise ApiCallError("unreachable", f"could not reach {self.base_url}: {e}") from e
        finally:
            connection.close()
        if answer.status >= 400:
            raise _error_of(answer)
        return answer

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
            return dict(self._request("POST", "/v1/videos", json_body=body).json())
        if characters:
            fields["characters[][id]"] = characters
        content_type = mimetypes.guess_type(input_reference.name)[0] or "application/octet-stream"
        files = {"input_reference": (input_reference.name, input_reference.read_bytes(), content_type)}
        return dict(self._request("POST", "/v1/videos", fields=fields, files=files).json())

    def remix(self, video_id: str, prompt: str) -> dict[str, Any]:
        return dict(
            self._request("POST", f"/v1/videos/{video_id}/remix", json_body={"prompt": prompt}).json()
        )

    def edit(self, video_id: str, prompt: str) -> dict[str, Any]:
        body = {"prompt": prompt, "video": {"id": video_id}}
        return dict(self._request("POST", "/v1/videos/edits", json_body=body).json())

    def extend(self, video_id: str, prompt: str, seconds: str) -> dict[str, Any]:
        body = {"prompt": prompt, "seconds": seconds, "video": {"id": video_id}}
        return dict(self._request("POST", "/v1/videos/extensions", json_body=body).json())

    def create_character(self, name: str, video: Path) -> dict[str, Any]:
        files = {"video": (video.name, video.read_bytes(), "video/mp4")}
        return dict(self._request("POST", "/v1/videos/characters", fields={"name": name}, files=files).json())

    def get_character(self, character_id: str) -> dict[str, Any]:
        return dict(self._request("GET", f"/v1/videos/characters/{character_id}").json())

    def get(self, video_id: str) -> dict[str, Any]:
        return dict(self._request("GET", f"/v1/videos/{video_id}").json())

    def poll(self, video_id: str, max_wait_ms: int) -> Poll:
        """One long poll: returns when the job ends or the server's hold does (202)."""
        answer = self._request("GET", f"/api/videos/{video_id}/poll", params={"maxWaitMs": str(max_wait_ms)})
        return Poll(answer.json(), finished=answer.status == 200)

    def list(self, limit: int, order: str, after: str | None = None) -> dict[str, Any]:
        params = {"limit": str(limit), "order": order} | ({"after": after} if after else {})
        return dict(self._request("GET", "/v1/videos", params=params).json())

    def models(self) -> dict[str, Any]:
        return dict(self._request("GET", "/v1/videos/models").json())

    def delete(self, video_id: str) -> dict[str, Any]:
        return dict(self._request("DELETE", f"/v1/videos/{video_id}").json())

    def download(self, video_id: str, variant: str, target: Path) -> int:
        """Streams a variant to `target` from the presigned URL the service gives (without the key)."""
        link = self._request(
            "GET", f"/v1/videos/{video_id}/content", params={"variant": variant, "redirect": "false"}
        ).json()
        url = urlsplit(link["url"])
        partial = target.with_name(target.name + ".part")
        size = 0
        connection = _connection(link["url"], DOWNLOAD_TIMEOUT)
        try:
            connection.request("GET", url.path + (f"?{url.query}" if url.query else ""))
            response = connection.getresponse()
            if response.status >= 400:
                raise ApiCallError("download_failed", f"the file store answered {response.status}")
            with partial.open("wb") as out:
                while chunk := response.read(CHUNK_BYTES):
                    out.write(chunk)
                    size += len(chunk)
            partial.replace(target)
        except (OSError, http.client.HTTPException) as e:
            raise ApiCallError("download_failed", f"the download broke off: {e}") from e
        finally:
            connection.close()
            partial.unlink(missing_ok=True)
        return size


def _error_of(answer: Answer) -> ApiCallError:
    try:
        body = answer.json()
        error = body.get("error") or {}
        return ApiCallError(
            error.get("code") or body.get("error_code") or str(answer.status),
            error.get("message") or body.get("message") or answer.body.decode(errors="replace"),
            answer.status,
        )
    except (ValueError, AttributeError):
        text = answer.body.decode(errors="replace").strip()
        return ApiCallError(str(answer.status), text or answer.reason, answer.status)
