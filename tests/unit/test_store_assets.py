"""store_assets with in-memory fakes: what a finaliser that loses its claim does with its copies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from tests.unit.test_domain_rules import BASE_ENV
from videos_core.logic.workflow import Finisher, store_assets
from videos_core.models.record import VideoRecord
from videos_core.ports import ConditionFailedError
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
class Videos:
    after_complete: VideoRecord | None
    gets: int = 0

    def get(self, owner: str, video_id: str) -> VideoRecord | None:
        self.gets += 1
        return RECORD if self.gets == 1 else self.after_complete

    def claim_finalisation(self, *args: Any) -> bool:
        return True

    def complete(self, record: VideoRecord, claimant: str) -> None:
        raise ConditionFailedError("lost the claim")

    def release_finalisation(self, *args: Any) -> None:
        pass


@dataclass
class Content:
    content_type: str = "video/mp4"
    length: int | None = 3

    def chunks(self) -> Iterator[bytes]:
        yield b"abc"


class Upstream:
    @contextmanager
    def open_content(self, *args: Any) -> Iterator[Content]:
        yield Content()


@dataclass
class Assets:
    deleted: list[str] = field(default_factory=list)

    def put_stream(self, key: str, chunks: Iterator[bytes], content_type: str) -> int:
        return sum(len(c) for c in chunks)

    def abort_uploads(self, prefix: str) -> int:
        return 0

    def delete(self, keys: list[str]) -> None:
        self.deleted += keys


class Quotas:
    def release(self, owner: str) -> None:
        raise AssertionError("a finaliser that did not complete frees no slot")

    def refund(self, owner: str, cost: Decimal, day_of: int) -> None:
        pass


@pytest.mark.parametrize(("record_after", "deletes"), [(None, True), (RECORD, False)])
def test_copies_are_taken_back_only_when_the_job_was_deleted(
    record_after: VideoRecord | None, deletes: bool
) -> None:
    assets = Assets()
    ports = Finisher(load_settings(BASE_ENV), Videos(record_after), Upstream(), assets, Quotas())  # type: ignore[arg-type]

    outcome = store_assets("alice", RECORD.video_id, "me", ports, now=10)

    assert outcome.finalised is False
    assert bool(assets.deleted) is deletes
