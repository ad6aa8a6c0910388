"""What the domain needs from the outside world, as small protocols; adapters implement them
(DynamoDB, S3, Step Functions, the openai SDK) and unit tests use in-memory fakes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from videos_core.models.api import Order, VideoError
from videos_core.models.record import VideoRecord


class ConditionFailedError(Exception):
    """A conditional write found the record in another state (another writer got there first)."""


class UpstreamNotFoundError(Exception):
    """The upstream no longer has the video (deleted, or past its retention)."""


@dataclass(frozen=True)
class Page:
    records: list[VideoRecord]
    has_more: bool


class VideoRepository(Protocol):
    def put_new(self, record: VideoRecord) -> None: ...

    def get(self, owner: str, video_id: str) -> VideoRecord | None: ...

    def list(self, owner: str, limit: int, order: Order, after: str | None) -> Page: ...

    def delete(self, owner: str, video_id: str) -> None: ...

    def mark_failed(self, owner: str, video_id: str, error: VideoError, now: int) -> None: ...


class AssetStore(Protocol):
    def presign(self, key: str, content_type: str, filename: str, ttl_seconds: int) -> str: ...

    def delete(self, keys: list[str]) -> None: ...


class Workflow(Protocol):
    def start(self, record: VideoRecord) -> None: ...

    def stop(self, video_id: str) -> None: ...


@dataclass(frozen=True)
class Reference:
    filename: str
    content: bytes
    content_type: str


@dataclass(frozen=True)
class UpstreamCreate:
    prompt: str
    model: str
    seconds: str
    size: str
    reference: Reference | None = None


@dataclass(frozen=True)
class UpstreamJob:
    id: str
    status: str
    progress: int
    error: VideoError | None = None


class Upstream(Protocol):
    def create(self, request: UpstreamCreate) -> UpstreamJob: ...

    def remix(self, model: str, upstream_id: str, prompt: str) -> UpstreamJob: ...

    def delete(self, model: str, upstream_id: str) -> None: ...


@dataclass(frozen=True)
class KeyRecord:
    owner: str
    revoked: bool


class KeyStore(Protocol):
    def find(self, key_hash: str) -> KeyRecord | None: ...
