"""What the domain needs from the outside world, as small protocols; adapters implement them
(DynamoDB, S3, Step Functions, the openai SDK) and unit tests use in-memory fakes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

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

    def find_by_upstream_id(self, upstream_id: str) -> tuple[str, str] | None: ...

    def update_progress(self, owner: str, video_id: str, status: str, progress: int) -> None: ...

    def claim_finalisation(
        self, owner: str, video_id: str, claimant: str, now: int, lease_seconds: int
    ) -> bool: ...

    def complete(self, record: VideoRecord, claimant: str) -> None: ...

    def release_finalisation(self, owner: str, video_id: str, claimant: str) -> None: ...

    def fail(
        self, owner: str, video_id: str, error: VideoError, now: int, ttl: int
    ) -> VideoRecord | None: ...

    def get(self, owner: str, video_id: str) -> VideoRecord | None: ...

    def list(self, owner: str, limit: int, order: Order, after: str | None) -> Page: ...

    def delete(self, owner: str, video_id: str) -> VideoRecord | None:
        """Deletes the record; returns it as it was (None if it was already gone)."""
        ...


class AssetStore(Protocol):
    def presign(self, key: str, content_type: str, filename: str, ttl_seconds: int) -> str: ...

    def delete(self, keys: list[str]) -> None: ...


@dataclass(frozen=True)
class StoredAsset:
    key: str
    size: int
    content_type: str


class AssetWriter(Protocol):
    def put_stream(self, key: str, chunks: Iterator[bytes], content_type: str) -> int: ...

    def abort_uploads(self, prefix: str) -> int: ...

    def delete(self, keys: list[str]) -> None: ...


class ContentStream(Protocol):
    content_type: str
    length: int | None

    def chunks(self) -> Iterator[bytes]: ...


class UploadStore(Protocol):
    def presign_upload(
        self, owner: str, file_id: str, content_type: str, size: int, ttl_seconds: int
    ) -> str: ...

    def reference(self, owner: str, file_id: str) -> Reference: ...


class EventPublisher(Protocol):
    def publish(self, detail_type: str, detail: dict[str, Any]) -> None: ...


class Quotas(Protocol):
    """An owner's running-job slots and daily spend."""

    def take(self, owner: str, cost: Decimal, now: int) -> None: ...

    def release(self, owner: str) -> None: ...

    def give_back(self, owner: str, cost: Decimal, now: int) -> None: ...

    def refund(self, owner: str, cost: Decimal, day_of: int) -> None: ...


class DeliveryLog(Protocol):
    """Webhook deliveries already received, so a replayed one is refused."""

    def remember(self, delivery_id: str, until: int) -> bool: ...

    def forget(self, delivery_id: str) -> None: ...


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

    def retrieve(self, model: str, upstream_id: str) -> UpstreamJob: ...

    def open_content(
        self, model: str, upstream_id: str, variant: str
    ) -> AbstractContextManager[ContentStream]: ...


@dataclass(frozen=True)
class KeyRecord:
    owner: str
    revoked: bool


class KeyStore(Protocol):
    def find(self, key_hash: str) -> KeyRecord | None: ...

    def touch(self, key_hash: str, now: int) -> None: ...
