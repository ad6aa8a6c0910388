"""What the domain needs from the outside world, as small protocols; adapters implement them
(DynamoDB, S3, Step Functions, the openai SDK) and unit tests use in-memory fakes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Protocol

from videos_core.models.api import Order, VideoError
from videos_core.models.record import VideoRecord


class ConditionFailedError(Exception):
    """A conditional write found the record in another state (another writer got there first)."""


class UpstreamNotFoundError(Exception):
    """The upstream no longer has the video (deleted, or past its retention)."""


class VariantNotOfferedError(Exception):
    """The upstream makes the video only, not this variant (a thumbnail, a spritesheet)."""


@dataclass(frozen=True)
class Page:
    records: list[VideoRecord]
    has_more: bool


class VideoRepository(Protocol):
    def put_new(self, record: VideoRecord) -> None: ...

    def find_by_upstream_id(self, upstream_id: str) -> tuple[str, str] | None: ...

    def update_progress(self, owner: str, video_id: str, status: str, progress: int) -> None: ...

    def claim_finalisation(
        self, owner: str, video_id: str, claimant: str, now: int, until: int
    ) -> int | None: ...

    def renew_finalisation(self, owner: str, video_id: str, claimant: str, until: int) -> bool: ...

    def release_finalisation(self, owner: str, video_id: str, claimant: str) -> None: ...

    def get(self, owner: str, video_id: str) -> VideoRecord | None: ...

    def list(self, owner: str, limit: int, order: Order, after: str | None) -> Page: ...

    def delete_ended(self, owner: str, video_id: str) -> None: ...


@dataclass(frozen=True)
class PendingEvent:
    """An ended job's event, in the outbox until it is on the bus."""

    video_id: str
    detail_type: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class JobEnd:
    """One job's end, written at once: the record terminal (or removed, by a delete), the slot freed,
    the spend refunded unless billed, the event in the outbox under `holder`'s lease."""

    record: VideoRecord  # as it ends; for a removal, as it was
    detail_type: str
    detail: dict[str, Any]
    refund: bool
    holder: str
    lease_until: int
    claimant: str | None = None  # a completion's finalisation claim
    removed: bool = False


class JobEnds(Protocol):
    def end(self, end: JobEnd, now: int) -> bool:
        """False when the job had already ended (or is gone): nothing was written."""
        ...

    def withdraw(self, record: VideoRecord) -> bool: ...


class Attempts(Protocol):
    def switch(self, before: VideoRecord, after: VideoRecord, charge: Decimal) -> bool:
        """Moves a running job from `before` to `after` (another attempt, or its upstream id) and adds
        `charge` to the spend of the job's day, both or neither; False when the job is no longer as
        `before` says (ended, or moved by another); VideoQuotaExceeded when the budget cannot take it."""
        ...


@dataclass(frozen=True)
class RouteState:
    """What the breaker of one route knows: when it opened to (None: closed), until when its probe is
    out, its failures in a row, and its attempts and failures in the current and previous window."""

    open_until: int | None = None
    probe_until: int | None = None
    streak: int = 0
    attempts: int = 0
    failures: int = 0


class RouteHealth(Protocol):
    """The breakers of the routes, shared by every function; a route is a model's route by name."""

    def state(self, model: str, route: str, window: int, now: int) -> RouteState: ...

    def count(self, model: str, route: str, failed: bool, window: int, keep_until: int) -> RouteState:
        """Adds an attempt (a failure when `failed`) to the route's window `window`; the state after."""
        ...

    def trip(self, model: str, route: str, until: int) -> bool:
        """Opens a closed breaker until `until`; False when it was open already (another opened it)."""
        ...

    def claim_probe(self, model: str, route: str, now: int, until: int) -> bool:
        """Whether this caller is the one probe of a breaker whose cool-down has passed."""
        ...

    def reopen(self, model: str, route: str, until: int) -> None: ...

    def close(self, model: str, route: str, window: int) -> None:
        """Closes the breaker after its probe succeeded, its window's counts cleared."""
        ...


class Outbox(Protocol):
    def claim(self, video_id: str, holder: str, now: int, until: int) -> PendingEvent | None: ...

    def release(self, video_id: str, holder: str) -> None: ...

    def done(self, video_id: str) -> None: ...

    def lapsed(self, now: int) -> list[str]: ...


class AssetStore(Protocol):
    def presign(self, key: str, content_type: str, filename: str, ttl_seconds: int) -> str: ...

    def delete(self, keys: list[str]) -> None: ...


@dataclass(frozen=True)
class StoredAsset:
    key: str
    size: int
    content_type: str


class AssetWriter(Protocol):
    def put_stream(
        self, key: str, chunks: Iterator[bytes], content_type: str, on_part: Callable[[], None] = ...
    ) -> int: ...

    def abort_uploads(self, prefix: str) -> int: ...

    def delete(self, keys: list[str]) -> None: ...

    def read(self, key: str) -> Iterator[bytes]: ...

    def copy_within(self, source: str, key: str, content_type: str) -> int: ...


class ContentStream(Protocol):
    content_type: str
    length: int | None

    def chunks(self) -> Iterator[bytes]: ...


class UploadStore(Protocol):
    def presign_upload(
        self, owner: str, file_id: str, content_type: str, size: int, ttl_seconds: int
    ) -> str: ...

    def reference(self, owner: str, file_id: str) -> Reference: ...

    def video(self, owner: str, file_id: str) -> Reference: ...


@dataclass(frozen=True)
class StoredCharacter:
    id: str
    name: str
    created_at: int
    upstream_id: str


class CharacterStore(Protocol):
    def put(self, owner: str, character: StoredCharacter) -> None: ...

    def get(self, owner: str, character_id: str) -> StoredCharacter | None: ...


class EventPublisher(Protocol):
    def publish(self, detail_type: str, detail: dict[str, Any]) -> None: ...


class Quotas(Protocol):
    """An owner's running-job slots (one per video id) and daily spend."""

    def take(self, owner: str, video_id: str, cost: Decimal, now: int) -> None: ...

    def give_back(self, owner: str, video_id: str, cost: Decimal, now: int) -> None: ...

    def free(self, owner: str, video_id: str) -> None: ...

    def slots(self) -> Iterator[tuple[str, str]]: ...


DeliveryState = Literal["new", "applied", "in_flight"]


class DeliveryLog(Protocol):
    """Webhook deliveries: one applied once, a repeat of it changing nothing."""

    def begin(
        self, delivery_id: str, holder: str, now: int, until: int, remember_until: int
    ) -> DeliveryState: ...

    def applied(self, delivery_id: str, holder: str) -> None: ...

    def forget(self, delivery_id: str, holder: str) -> None: ...


class Workflow(Protocol):
    def start(self, record: VideoRecord) -> None: ...

    def stop(self, video_id: str) -> None: ...

    def status(self, video_id: str) -> str | None:
        """The execution's status (RUNNING, SUCCEEDED, …); None when it does not exist."""
        ...


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
    characters: tuple[str, ...] = ()  # the upstream's ids of the characters named
    # Sent to the upstream, which (where it honours one) makes a repeat of this create no second job.
    idempotency_key: str | None = None
    # Where the upstream calls when the job ends (providers with callbacks).
    callback_url: str | None = None


@dataclass(frozen=True)
class UpstreamDerive:
    """An edit or an extension of the upstream's video `base` (its id), or of an uploaded MP4."""

    kind: Literal["edit", "extension"]
    model: str
    base: str | Reference
    prompt: str
    seconds: str | None = None  # an extension's new segment
    idempotency_key: str | None = None


@dataclass(frozen=True)
class UpstreamJob:
    id: str
    status: str
    progress: int
    error: VideoError | None = None


class Upstream(Protocol):
    def via(self, route: str | None) -> Upstream:
        """This upstream calling each model's route named `route` (its first, for None)."""
        ...

    def create(self, request: UpstreamCreate) -> UpstreamJob: ...

    def remix(
        self, model: str, upstream_id: str, prompt: str, idempotency_key: str | None = None
    ) -> UpstreamJob: ...

    def derive(self, request: UpstreamDerive) -> UpstreamJob: ...

    def create_character(self, model: str, name: str, video: Reference) -> str: ...

    def delete(self, model: str, upstream_id: str) -> None: ...

    def retrieve(self, model: str, upstream_id: str) -> UpstreamJob: ...

    def open_content(
        self, model: str, upstream_id: str, variant: str
    ) -> AbstractContextManager[ContentStream]: ...

    def stored_video(self, model: str, upstream_id: str) -> str | None:
        """The key in this stack's bucket where the provider wrote the video itself; None when its files
        are downloaded."""
        ...


@dataclass(frozen=True)
class KeyRecord:
    owner: str
    revoked: bool


class KeyStore(Protocol):
    def find(self, key_hash: str) -> KeyRecord | None: ...

    def touch(self, key_hash: str, now: int) -> None: ...


@dataclass(frozen=True)
class StoredEndpoint:
    """A tenant's webhook endpoint as kept: its signing secrets sealed (never in the clear at rest)."""

    id: str
    name: str
    url: str
    event_types: tuple[str, ...]
    created_at: int
    updated_at: int
    secret_hint: str
    sealed_secret: bytes
    # The secret before a rotation that kept it, and until when deliveries are signed with it too.
    sealed_previous_secret: bytes | None = None
    previous_secret_until: int | None = None
    status: Literal["enabled", "disabled"] = "enabled"
    disabled_reason: str | None = None
    # When the deliveries to it began to fail without one succeeding since.
    failing_since: int | None = None


class EndpointStore(Protocol):
    def add(self, owner: str, endpoint: StoredEndpoint, limit: int) -> bool:
        """Adds a new endpoint unless the owner has `limit` already (False)."""
        ...

    def get(self, owner: str, endpoint_id: str) -> StoredEndpoint | None: ...

    def list(self, owner: str, limit: int, after: str | None) -> tuple[list[StoredEndpoint], bool]:
        """Newest first, after the endpoint `after`; and whether more follow."""
        ...

    def replace(self, owner: str, endpoint: StoredEndpoint) -> bool:
        """Writes an endpoint that still exists (False when it was deleted meanwhile)."""
        ...

    def remove(self, owner: str, endpoint_id: str) -> bool: ...


class SecretBox(Protocol):
    """Seals a secret under a key only its readers may use, bound to what it belongs to."""

    def seal(self, secret: str, context: dict[str, str]) -> bytes: ...

    def open(self, sealed: bytes, context: dict[str, str]) -> str: ...
