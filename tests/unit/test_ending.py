"""A job's end with in-memory ports: record, slot, spend and event move together, once; an event the
bus refuses waits in the outbox and is published exactly once by whoever comes next."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest

from tests.unit.fakes import IMAGE, RECORD, Assets, Bus, Content, Store, Upstream, ender, finisher
from videos_core.errors import ServiceUnavailable
from videos_core.logic.ending import end_job, failed, publish, publish_pending
from videos_core.logic.workflow import (
    FINALISE_LEASE_SECONDS,
    UNUSABLE_FILE_ATTEMPTS,
    end_failed,
    store_assets,
)
from videos_core.models.api import VideoError
from videos_core.observability import metrics

ERROR = VideoError(code="video_generation_failed", message="no")


@pytest.fixture(autouse=True)
def _no_metrics() -> Iterator[None]:
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


def test_a_failed_end_frees_the_slot_refunds_and_announces_once() -> None:
    store, bus = Store(), Bus()
    store.running(RECORD)

    first = end_failed("alice", RECORD.video_id, ERROR, finisher(store, bus), now=10)
    second = end_failed("alice", RECORD.video_id, ERROR, finisher(store, bus, "other"), now=11)

    assert (first.finalised, second.finalised) == (True, False)
    assert store.records[RECORD.video_id].status == "failed"
    assert store.slots == set()
    assert store.spent == 0
    assert [kind for kind, _ in bus.published] == ["Video Failed"]
    assert store.outbox == {}
    assert metrics.metric_set["VideosFailed"]["Value"] == [1.0]


def test_a_billed_failure_keeps_its_spend() -> None:
    store, bus = Store(), Bus()
    store.running(RECORD)

    pending = end_job(failed(RECORD, ERROR, 10, 86_400), ender(store, bus, bill_failed_jobs=True), 10)

    assert pending is not None
    assert store.spent == RECORD.cost_estimate
    assert store.slots == set()


def test_an_event_the_bus_refuses_waits_and_is_published_once_by_the_next_step() -> None:
    store, bus = Store(), Bus(refusals=1)
    store.running(RECORD)

    with pytest.raises(ServiceUnavailable):
        end_failed("alice", RECORD.video_id, ERROR, finisher(store, bus, "first"), now=10)

    # The end itself is written; only the event waits, its lease given up at once.
    assert store.records[RECORD.video_id].status == "failed"
    assert store.slots == set()
    assert bus.published == []
    assert metrics.metric_set["EventsDeferred"]["Value"] == [1.0]
    assert store.lapsed(11) == [RECORD.video_id]

    again = end_failed("alice", RECORD.video_id, ERROR, finisher(store, bus, "retry"), now=12)
    publish_pending(RECORD.video_id, ender(store, bus, "reconciler"), now=13)

    assert again.finalised is False
    assert [kind for kind, _ in bus.published] == ["Video Failed"]
    assert store.outbox == {}


def test_an_event_held_by_a_live_holder_is_left_to_it() -> None:
    store, bus = Store(), Bus()
    store.running(RECORD)
    pending = end_job(failed(RECORD, ERROR, 10, 86_400), ender(store, bus, "ender"), 10)
    assert pending is not None

    publish_pending(RECORD.video_id, ender(store, bus, "other"), now=11)
    assert bus.published == []

    publish(pending, ender(store, bus, "ender"))
    assert len(bus.published) == 1


def test_a_completion_stores_the_files_then_ends_the_job_with_its_event() -> None:
    store, bus, assets = Store(), Bus(), Assets()
    store.running(RECORD)

    outcome = store_assets("alice", RECORD.video_id, finisher(store, bus, assets=assets), now=10)

    assert outcome.finalised is True
    record = store.records[RECORD.video_id]
    assert (record.status, set(record.assets)) == ("completed", {"video", "thumbnail", "spritesheet"})
    assert store.spent == RECORD.cost_estimate  # a completed job is billed
    assert store.slots == set()
    assert [kind for kind, _ in bus.published] == ["Video Completed"]


class _ServesAPage(Upstream):
    """An upstream whose video download is an HTML page (its stills are fine), counting downloads."""

    def __init__(self) -> None:
        self.videos = 0

    @contextmanager
    def open_content(self, model: str, upstream_id: str, variant: str) -> Iterator[Content]:
        if variant != "video":
            yield Content(IMAGE, "image/jpeg")
            return
        self.videos += 1
        yield Content(b"<html><body>Not found</body></html>", "text/html")


def test_a_file_that_is_not_a_video_twice_ends_the_job_failed_with_nothing_kept() -> None:
    store, bus, assets, upstream = Store(), Bus(), Assets(), _ServesAPage()
    store.running(RECORD)
    ports = replace(finisher(store, bus, assets=assets), upstream=upstream)  # type: ignore[arg-type]

    outcome = store_assets("alice", RECORD.video_id, ports, now=10)

    assert outcome.finalised is True
    record = store.records[RECORD.video_id]
    assert record.status == "failed"
    assert record.error == VideoError(
        code="video_generation_failed", message="The provider's file is not a video: it is HTML."
    )
    assert upstream.videos == UNUSABLE_FILE_ATTEMPTS
    # The stills stored before the video was found bad are taken back.
    assert sorted(key.rsplit("/", 1)[1] for key in assets.deleted) == ["spritesheet.jpg", "thumbnail.jpg"]
    assert store.spent == 0  # a failed job is refunded
    assert store.slots == set()
    assert [kind for kind, _ in bus.published] == ["Video Failed"]


def test_a_second_finaliser_cannot_claim_the_job_while_the_first_holds_it() -> None:
    """A retried StoreAssets (a new invocation, so a new name) never runs beside the attempt it
    replaces: the claim is the first one's until it lapses."""
    store, bus = Store(), Bus()
    store.running(RECORD)
    assert store.claim_finalisation("alice", RECORD.video_id, "first", now=10, until=40)

    blocked = store_assets("alice", RECORD.video_id, finisher(store, bus, "second"), now=20)
    assert blocked.finalised is False
    assert store.records[RECORD.video_id].status == "in_progress"

    after_lapse = store_assets("alice", RECORD.video_id, finisher(store, bus, "second"), now=41)
    assert after_lapse.finalised is True


@pytest.mark.parametrize(("deleted", "deletes"), [(True, True), (False, False)])
def test_copies_are_taken_back_only_when_the_job_was_deleted(deleted: bool, deletes: bool) -> None:
    """A finaliser that loses the job mid-copy: to a delete (its copies go), or to another finaliser
    that took over its claim and writes the same keys (they stay)."""
    store, bus = Store(), Bus()
    store.running(RECORD)

    class Losing(Assets):
        def put_stream(
            self, key: str, chunks: Iterator[bytes], content_type: str, on_part: object = None
        ) -> int:
            if deleted:
                store.records.pop(RECORD.video_id, None)
            else:
                store.claims[RECORD.video_id] = ("thief", 10**9)
            return super().put_stream(key, chunks, content_type)

    losing = Losing()
    outcome = store_assets("alice", RECORD.video_id, finisher(store, bus, assets=losing), now=10)

    assert outcome.finalised is False
    assert bool(losing.deleted) is deletes
    assert bus.published == []


def test_a_claim_never_outlasts_the_invocation_that_holds_it() -> None:
    """A webhook cut off at its time limit frees the job by then, not after a fixed 15 minutes."""
    store, bus = Store(), Bus()
    flow = replace(finisher(store, bus), time_limit=time.monotonic() + 5)

    assert flow.lease_until(100) <= 105
    assert replace(flow, time_limit=time.monotonic() + 600).lease_until(100) == 100 + FINALISE_LEASE_SECONDS
