"""In-memory stand-ins for the ports a job's end uses: records, slots, spend, outbox, bus. The end is
applied all at once or not at all, as the DynamoDB transaction does."""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tests.unit.test_domain_rules import BASE_ENV
from videos_core.catalog import build_catalog
from videos_core.errors import ServiceUnavailable
from videos_core.logic.ending import Ender
from videos_core.logic.workflow import Finisher
from videos_core.models.record import VideoRecord
from videos_core.ports import JobEnd, PendingEvent, RouteState
from videos_core.settings import load_settings

RECORD = VideoRecord.model_validate(
    {
        "owner": "alice",
        "video_id": "vid_01JDQ2X8Y3K4M5N6P7Q8R9S0TV",
        "upstream_id": "video_up",
        "status": "in_progress",
        "model": "sora-2",
        "seconds": "4",
        "size": "720x1280",
        "prompt": "p",
        "created_at": 1,
        "cost_estimate": "0.5",
    }
)


@dataclass
class Store:
    """The tables: records, each owner's slots and spend, the outbox, and the finalisation claims."""

    records: dict[str, VideoRecord] = field(default_factory=dict)
    slots: set[str] = field(default_factory=set)
    spent: Decimal = Decimal(0)
    outbox: dict[str, tuple[PendingEvent, str, int]] = field(default_factory=dict)
    claims: dict[str, tuple[str, int]] = field(default_factory=dict)
    claim_counts: Counter[str] = field(default_factory=Counter)

    def running(self, record: VideoRecord) -> VideoRecord:
        self.records[record.video_id] = record
        self.slots.add(record.video_id)
        self.spent += record.cost_estimate
        return record

    # VideoRepository
    def get(self, owner: str, video_id: str) -> VideoRecord | None:
        record = self.records.get(video_id)
        if record is None or video_id not in self.claims:
            return record
        holder, until = self.claims[video_id]
        return record.model_copy(update={"finaliser": holder, "finalise_until": until})

    def update_progress(self, owner: str, video_id: str, status: str, progress: int) -> None:
        self.records[video_id] = self.records[video_id].model_copy(
            update={"status": status, "progress": progress}
        )

    def claim_finalisation(
        self, owner: str, video_id: str, claimant: str, now: int, until: int
    ) -> int | None:
        holder, held_until = self.claims.get(video_id, ("", 0))
        record = self.records.get(video_id)
        if record is None or record.terminal or (holder not in ("", claimant) and held_until >= now):
            return None
        self.claims[video_id] = (claimant, until)
        self.claim_counts[video_id] += 1
        return self.claim_counts[video_id]

    def renew_finalisation(self, owner: str, video_id: str, claimant: str, until: int) -> bool:
        if self.claims.get(video_id, ("", 0))[0] != claimant:
            return False
        self.claims[video_id] = (claimant, until)
        return True

    def release_finalisation(self, owner: str, video_id: str, claimant: str) -> None:
        if self.claims.get(video_id, ("", 0))[0] == claimant:
            del self.claims[video_id]

    # JobEnds
    def end(self, end: JobEnd, now: int) -> bool:
        video_id = end.record.video_id
        current = self.records.get(video_id)
        if current is None or current.terminal or end.record.video_id in self.outbox:
            return False
        if end.claimant is not None and self.claims.get(video_id, ("", 0))[0] != end.claimant:
            return False
        if end.removed:
            del self.records[video_id]
        else:
            self.records[video_id] = end.record
        self.slots.discard(video_id)
        if end.refund:
            self.spent -= end.record.cost_estimate
        self.outbox[video_id] = (
            PendingEvent(video_id, end.detail_type, end.detail),
            end.holder,
            end.lease_until,
        )
        return True

    # Attempts
    def switch(self, before: VideoRecord, after: VideoRecord, charge: Decimal) -> bool:
        current = self.records.get(before.video_id)
        if current is None or current.terminal or current.upstream_id != before.upstream_id:
            return False
        if len(current.attempts) != len(before.attempts):
            return False
        self.records[before.video_id] = after
        self.spent += charge
        return True

    def withdraw(self, record: VideoRecord) -> bool:
        self.records.pop(record.video_id)
        self.slots.discard(record.video_id)
        self.spent -= record.cost_estimate
        return True

    # Outbox
    def claim(self, video_id: str, holder: str, now: int, until: int) -> PendingEvent | None:
        if video_id not in self.outbox:
            return None
        event, held_by, lease = self.outbox[video_id]
        if held_by != holder and lease >= now:
            return None
        self.outbox[video_id] = (event, holder, until)
        return event

    def release(self, video_id: str, holder: str) -> None:
        event, held_by, _ = self.outbox[video_id]
        if held_by == holder:
            self.outbox[video_id] = (event, holder, 0)

    def done(self, video_id: str) -> None:
        del self.outbox[video_id]

    def lapsed(self, now: int) -> list[str]:
        return [video_id for video_id, (_, _, lease) in self.outbox.items() if lease < now]


@dataclass
class Bus:
    refusals: int = 0
    published: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        if self.refusals:
            self.refusals -= 1
            raise ServiceUnavailable("The event bus refused the event.", retry_after=1)
        self.published.append((detail_type, detail))


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(body), kind) + body


# The smallest files that pass as what they are: an MP4 of 4 s at 64x64 (its boxes, no real media)
# and a JPEG's start.
_MOVIE_HEADER = _box(b"mvhd", bytes(12) + struct.pack(">II", 1000, 4000) + bytes(76))
_TRACK = _box(b"trak", _box(b"tkhd", bytes(76) + struct.pack(">II", 64 << 16, 64 << 16)))
VIDEO = _box(b"ftyp", b"isom" + bytes(4)) + _box(b"moov", _MOVIE_HEADER + _TRACK) + _box(b"mdat", b"abc")
IMAGE = b"\xff\xd8\xff\xe0" + bytes(12)


@dataclass
class Content:
    data: bytes = VIDEO
    content_type: str = "video/mp4"

    def chunks(self) -> Iterator[bytes]:
        yield self.data


class Upstream:
    def via(self, route: str | None) -> Upstream:
        return self

    def stored_video(self, model: str, upstream_id: str) -> str | None:
        return None

    @contextmanager
    def open_content(self, model: str, upstream_id: str, variant: str) -> Iterator[Content]:
        yield Content(VIDEO) if variant == "video" else Content(IMAGE, "image/jpeg")


@dataclass
class Assets:
    deleted: list[str] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)

    def put_stream(self, key: str, chunks: Iterator[bytes], content_type: str, on_part: Any = None) -> int:
        if on_part is not None:
            on_part()
        self.stored.append(key)
        return sum(len(c) for c in chunks)

    def abort_uploads(self, prefix: str) -> int:
        return 0

    def delete(self, keys: list[str]) -> None:
        self.deleted += keys

    def read(self, key: str) -> Iterator[bytes]:
        raise AssertionError(f"nothing here was written by a provider: {key}")

    def copy_within(self, source: str, key: str, content_type: str) -> int:
        raise AssertionError(f"nothing here was written by a provider: {source}")


def ender(store: Store, bus: Bus, holder: str = "me", *, bill_failed_jobs: bool = False) -> Ender:
    return Ender(store, store, bus, "assets", holder, bill_failed_jobs)


def finisher(
    store: Store, bus: Bus, holder: str = "me", assets: Assets | None = None, **env: str
) -> Finisher:
    settings = load_settings(BASE_ENV | env)
    catalog = build_catalog({}, settings.catalog_defaults)
    return Finisher(
        settings,
        lambda: catalog,
        store,  # type: ignore[arg-type]
        Upstream(),  # type: ignore[arg-type]
        assets or Assets(),
        ender(store, bus, holder),
        store,
        lambda _domain, _entry, _video_id: None,
    )


class RouteHealthStore:
    """The routes' breakers in memory, with the adapter's rules (route_health.py)."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, int]] = {}

    def _state(self, item: dict[str, int], window: int) -> RouteState:
        return RouteState(
            open_until=item.get("open_until"),
            probe_until=item.get("probe_until"),
            streak=item.get("streak", 0),
            attempts=item.get(f"a_{window}", 0) + item.get(f"a_{window - 1}", 0),
            failures=item.get(f"f_{window}", 0) + item.get(f"f_{window - 1}", 0),
        )

    def state(self, model: str, route: str, window: int, now: int) -> RouteState:
        item = self.items.get(f"{model}/{route}", {})
        return self._state(item if item.get("ttl", now + 1) > now else {}, window)

    def count(self, model: str, route: str, failed: bool, window: int, keep_until: int) -> RouteState:
        item = self.items.setdefault(f"{model}/{route}", {})
        item["streak"] = item.get("streak", 0) + 1 if failed else 0
        item["ttl"] = keep_until
        item[f"a_{window}"] = item.get(f"a_{window}", 0) + 1
        item[f"f_{window}"] = item.get(f"f_{window}", 0) + int(failed)
        for kind in ("a", "f"):
            item.pop(f"{kind}_{window - 2}", None)
        return self._state(item, window)

    def trip(self, model: str, route: str, until: int) -> bool:
        item = self.items.setdefault(f"{model}/{route}", {})
        if "open_until" in item:
            return False
        item["open_until"] = until
        item.pop("probe_until", None)
        return True

    def claim_probe(self, model: str, route: str, now: int, until: int) -> bool:
        item = self.items.get(f"{model}/{route}", {})
        if item.get("open_until", now + 1) > now or item.get("probe_until", 0) > now:
            return False
        item["probe_until"] = until
        return True

    def reopen(self, model: str, route: str, until: int) -> None:
        item = self.items.get(f"{model}/{route}", {})
        if "open_until" in item:
            item["open_until"] = until
            item.pop("probe_until", None)

    def close(self, model: str, route: str, window: int) -> None:
        item = self.items.get(f"{model}/{route}", {})
        if "open_until" in item:
            for name in (
                "open_until",
                "probe_until",
                f"a_{window}",
                f"f_{window}",
                f"a_{window - 1}",
                f"f_{window - 1}",
            ):
                item.pop(name, None)
            item["streak"] = 0
