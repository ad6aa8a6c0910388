from __future__ import annotations

import time

from local.engine.jobs import STALL_PROGRESS, Job, Scenario, scenarios_in
from local.engine.render import RenderSpec


def job(latency: float, started_ago: float, scenarios: frozenset[Scenario] = frozenset()) -> Job:
    return Job(
        id="video_x",
        seq=0,
        model="sora-2",
        seconds="4",
        size="720x1280",
        prompt="p",
        spec=RenderSpec("p", 720, 1280, 4),
        latency=latency,
        scenarios=scenarios,
        started=time.monotonic() - started_ago,
    )


def test_a_job_is_queued_first_then_progress_rises_with_time() -> None:
    assert job(10, 0.5).live_status() == ("queued", 0)
    status, early = job(10, 3).live_status()
    _, late = job(10, 8).live_status()
    assert status == "in_progress"
    assert 0 < early < late < 100


def test_progress_waits_at_99_until_the_job_is_finished() -> None:
    assert job(10, 60).live_status() == ("in_progress", 99)


def test_a_stalled_job_never_passes_its_stall_point() -> None:
    assert job(10, 600, frozenset({Scenario.STALL})).live_status() == ("in_progress", STALL_PROGRESS)


def test_a_failed_job_keeps_the_progress_it_reached() -> None:
    failing = job(10, 5)
    failing.fail("video_generation_failed", "boom")

    view = failing.view()
    assert view["status"] == "failed"
    assert 0 < view["progress"] < 100
    assert view["error"] == {"code": "video_generation_failed", "message": "boom"}


def test_scenarios_are_read_from_bracketed_tags_in_any_case() -> None:
    assert scenarios_in("a [FAIL] b [flaky]") == {Scenario.FAIL, Scenario.FLAKY}
    assert scenarios_in("fail without brackets [unknown]") == frozenset()
    assert scenarios_in("[fail:sora-2] [stall]", "sora-2") == {Scenario.FAIL, Scenario.STALL}
    assert scenarios_in("[fail:sora-2] [stall]", "sora-2-pro") == {Scenario.STALL}
