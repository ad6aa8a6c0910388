"""The polling loop ends a job before Step Functions' history limit would end its execution, and
every status the upstream reports that is not an end counts against the time cap."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from tests.unit.fakes import RECORD, Bus, Store, finisher
from videos_core.logic.history import (
    EVENTS_PER_CHECK,
    EVENTS_PER_RETRY,
    HISTORY_LIMIT,
    LOOP_BUDGET,
    budget_spent,
    floor_wait_seconds,
)
from videos_core.logic.workflow import Finisher, check_status
from videos_core.ports import UpstreamJob

# The template's MaxGenerationSeconds allows up to a day.
LONGEST_JOB_SECONDS = 86_400


@dataclass
class Reporting:
    status: str
    progress: int = 30

    def via(self, route: str | None) -> Reporting:
        return self

    def retrieve(self, model: str, upstream_id: str) -> UpstreamJob:
        return UpstreamJob(id=upstream_id, status=self.status, progress=self.progress)


def test_the_longest_job_fits_the_history_at_the_floor_wait() -> None:
    """At the floor wait, a job allowed a day is checked few enough times that its loops and the
    end's reserve stay under 25,000 events."""
    floor = floor_wait_seconds(LONGEST_JOB_SECONDS)
    checks = LONGEST_JOB_SECONDS / floor

    assert checks * EVENTS_PER_CHECK <= LOOP_BUDGET < HISTORY_LIMIT
    # The floor does not slow the usual jobs: under 30 minutes, the backoff's own 20 s steps govern.
    assert floor_wait_seconds(1800) == 1
    assert floor == 33


def test_retries_count_against_the_history() -> None:
    assert budget_spent(0, 0).events == EVENTS_PER_CHECK
    assert budget_spent(100, 4).events == 100 + EVENTS_PER_CHECK + 4 * EVENTS_PER_RETRY
    assert not budget_spent(LOOP_BUDGET - 2 * EVENTS_PER_CHECK, 0).exhausted
    assert budget_spent(LOOP_BUDGET - EVENTS_PER_CHECK, 0).exhausted


def ports(store: Store, upstream: Reporting, **env: str) -> Finisher:
    return replace(finisher(store, Bus(), "me", None, **env), upstream=upstream)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", ["queued", "in_progress", "processing", "pending"])
def test_every_status_short_of_an_end_counts_against_the_time_cap(status: str) -> None:
    store = Store()
    store.running(RECORD)
    flow = ports(store, Reporting(status), MAX_GENERATION_SECONDS="60")

    young = check_status("alice", RECORD.video_id, 0, 0, 0, flow, now=RECORD.created_at + 10)
    old = check_status("alice", RECORD.video_id, 0, 0, 0, flow, now=RECORD.created_at + 60)

    assert (young.status, young.timed_out) == (status, False)
    assert (old.status, old.timed_out) == (status, True)


def test_a_job_out_of_history_is_timed_out_however_young() -> None:
    store = Store()
    store.running(RECORD)
    flow = ports(store, Reporting("in_progress"))

    check = check_status("alice", RECORD.video_id, 3, LOOP_BUDGET - 10, 2, flow, now=RECORD.created_at + 5)

    assert check.timed_out is True
    assert check.history == LOOP_BUDGET - 10 + EVENTS_PER_CHECK + 2 * EVENTS_PER_RETRY


def test_progress_is_written_only_when_it_changes() -> None:
    store = Store()
    store.running(RECORD.model_copy(update={"progress": 30}))
    writes: list[int] = []
    update = store.update_progress

    def counted(owner: str, video_id: str, status: str, progress: int) -> None:
        writes.append(progress)
        update(owner, video_id, status, progress)

    store.update_progress = counted  # type: ignore[method-assign]

    for _ in range(3):
        check_status("alice", RECORD.video_id, 0, 0, 0, ports(store, Reporting("in_progress", 30)), now=5)
    assert writes == []

    check_status("alice", RECORD.video_id, 0, 0, 0, ports(store, Reporting("in_progress", 55)), now=5)
    assert writes == [55]


def test_a_completed_job_another_is_storing_waits_instead_of_storing_beside_it() -> None:
    """The webhook holds the job's claim: the poller waits and looks again (the Choice's default)
    instead of starting StoreAssets; once the claim lapses (its holder died), it stores."""
    store = Store()
    store.running(RECORD)
    assert store.claim_finalisation("alice", RECORD.video_id, "webhook", now=100, until=130) == 1
    flow = ports(store, Reporting("completed", 100))

    held = check_status("alice", RECORD.video_id, 2, 0, 0, flow, now=120)
    lapsed = check_status("alice", RECORD.video_id, 2, 0, 0, flow, now=131)

    assert (held.status, held.wait_seconds) == ("finalising", 15)
    assert lapsed.status == "completed"
    assert lapsed.history > held.history  # the StoreAssets visit is counted in advance


def test_the_wait_follows_the_upstreams_progress_once_it_reports_some() -> None:
    store = Store()
    store.running(RECORD)

    def check(attempt: int, status: str, progress: int, now: int) -> int:
        flow = ports(store, Reporting(status, progress))
        return check_status("alice", RECORD.video_id, attempt, 0, 0, flow, now).wait_seconds

    assert check(0, "queued", 0, now=6) == 5  # the schedule's first wait
    assert check(1, "in_progress", 50, now=9) == 8  # 8 s in, half done
    assert check(1, "in_progress", 5, now=9) == 20  # the cap
