"""Announcing a job's end: an event the bus refuses is counted for its alarm, and the failure goes on up."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from videos_core.errors import ServiceUnavailable
from videos_core.logic.workflow import Outcome
from videos_core.models.record import VideoRecord
from videos_core.observability import metrics
from videos_core.outcomes import announce

RECORD = VideoRecord(
    owner="o",
    video_id="vid_01JDQ2X8Y3K4M5N6P7Q8R9S0TV",
    upstream_id="video_1",
    status="completed",
    model="sora-2",
    seconds="4",
    size="720x1280",
    prompt="p",
    created_at=1,
    cost_estimate=Decimal("0.5"),
)


class Bus:
    def __init__(self, refuse: bool) -> None:
        self.refuse = refuse
        self.published: list[tuple[str, dict[str, Any]]] = []

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        if self.refuse:
            raise ServiceUnavailable("The event bus could not take the event; try again.", retry_after=1)
        self.published.append((detail_type, detail))


@pytest.fixture(autouse=True)
def _no_metrics() -> Iterator[None]:
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


def test_the_end_of_a_job_is_announced_once() -> None:
    bus = Bus(refuse=False)

    announce(Outcome(True, {"video": {"id": RECORD.video_id}}, RECORD), bus)
    announce(Outcome(False), bus)

    assert bus.published == [("Video Completed", {"video": {"id": RECORD.video_id}})]
    assert "EventsNotPublished" not in metrics.metric_set


def test_an_event_the_bus_refuses_is_counted_and_the_failure_raised() -> None:
    with pytest.raises(ServiceUnavailable):
        announce(
            Outcome(True, {"video": {}}, RECORD.model_copy(update={"status": "failed"})), Bus(refuse=True)
        )

    assert metrics.metric_set["EventsNotPublished"]["Value"] == [1.0]
