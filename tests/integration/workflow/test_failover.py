"""A job survives its provider: a model with two routes (OpenAI's dialect, then Gemini's) on the
offline stack, each provider's failure made by the engine for that route's model alone
(`[fail:sora-2]`) or by a fault on its path. After each: where the job ended, its attempts, the
spend equal to what the attempts left charged, the slot freed, one event."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import jsonschema

from tests.integration.workflow.harness import Workflow
from tests.support import ROOT
from videos_core.adapters.dynamodb import from_item
from videos_core.adapters.route_health import route_key

EVENT_SCHEMA = json.loads((ROOT / "events" / "video-event.schema.json").read_text())

MODEL = "two-routes"
# 4 s at 1280x720: sora-2 at $0.125/s, Veo 3.1 at $0.40/s.
FIRST, SECOND = Decimal("0.5"), Decimal("1.6")


def create(workflow: Workflow, prompt: str) -> dict[str, Any]:
    return workflow.create(prompt, model=MODEL, seconds="4", size="1280x720")


def outcomes(record: dict[str, Any]) -> list[tuple[str, str, bool]]:
    return [(a["route"], a["outcome"], a["charged"]) for a in record["attempts"]]


def ended(workflow: Workflow, video_id: str) -> dict[str, Any]:
    record = workflow.wait_terminal(video_id, timeout=90)
    assert video_id not in workflow.slots()
    [event] = workflow.events_for(video_id)
    jsonschema.validate(event["detail"], EVENT_SCHEMA)
    assert event["detail"]["video"]["attempts"] == [
        {k: v for k, v in a.items() if k not in ("cost", "started_at")}
        | {"cost_usd": str(Decimal(a["cost"]).normalize())}
        for a in record["attempts"]
    ]
    return record


def test_a_route_down_at_create_sends_the_job_to_the_next(workflow: Workflow) -> None:
    workflow.arm_upstream(kind="status", method="POST", path="/v1/videos", status=503, times=1)

    video = create(workflow, "A harbour at dawn, route one down")

    assert [(a["route"], a["outcome"]) for a in video["attempts"]] == [
        ("first", "refused"),
        ("second", "running"),
    ]
    assert video["provider"] == "gemini"
    assert video["estimated_cost_usd"] == "1.6"
    record = ended(workflow, video["id"])
    assert record["status"] == "completed"
    assert outcomes(record) == [("first", "refused", False), ("second", "completed", True)]
    assert workflow.spent() == SECOND


def test_a_job_its_first_provider_fails_completes_on_the_next(workflow: Workflow) -> None:
    video = create(workflow, "A harbour at dusk [fail:sora-2]")
    first_upstream = video["attempts"][0]["upstream_id"]

    record = ended(workflow, video["id"])

    assert record["status"] == "completed"
    assert outcomes(record) == [("first", "failed", False), ("second", "completed", True)]
    assert record["upstream_id"] != first_upstream
    assert set(workflow.objects(video["id"])) == {"video.mp4", "thumbnail.jpg", "spritesheet.jpg"}
    assert workflow.spent() == SECOND


def test_a_job_past_its_routes_deadline_moves_and_the_first_is_cancelled(workflow: Workflow) -> None:
    video = create(workflow, "A harbour in fog [stall:sora-2]")

    record = ended(workflow, video["id"])

    assert record["status"] == "completed"
    assert outcomes(record) == [("first", "cancelled", False), ("second", "completed", True)]
    assert workflow.spent() == SECOND


def test_a_content_refusal_never_fails_over(workflow: Workflow) -> None:
    video = create(workflow, "A harbour at night [moderation:sora-2]")

    record = ended(workflow, video["id"])

    assert (record["status"], record["error"]["code"]) == ("failed", "invalid_video_prompt")
    assert outcomes(record) == [("first", "failed", False)]
    assert workflow.spent() == 0


def test_a_job_every_route_fails_ends_failed_with_nothing_spent(workflow: Workflow) -> None:
    video = create(workflow, "A harbour underwater [fail]")

    record = ended(workflow, video["id"])

    assert record["status"] == "failed"
    assert outcomes(record) == [("first", "failed", False), ("second", "failed", False)]
    assert workflow.spent() == 0


def breaker(workflow: Workflow, route: str) -> dict[str, Any]:
    table = workflow.stack.application.tables["RouteHealthTable"]
    item = workflow.client("dynamodb").get_item(
        TableName=table, Key=route_key(MODEL, route), ConsistentRead=True
    )
    return from_item(item.get("Item", {}))


def test_a_burst_of_refusals_opens_a_routes_breaker_and_an_accepted_probe_closes_it(
    workflow: Workflow,
) -> None:
    # Accepted, the first route starts the burst with no failure in a row (the tests before left some).
    assert routes(create(workflow, "A lighthouse before the storm")) == [("first", "running")]
    workflow.arm_upstream(kind="status", method="POST", path="/v1/videos", status=503, times=3)
    burst = [create(workflow, f"A lighthouse in a storm, wave {n}") for n in range(3)]
    assert [routes(video) for video in burst] == [[("first", "refused"), ("second", "running")]] * 3
    opened = breaker(workflow, "first")
    assert opened["streak"] == 3
    assert "open_until" in opened

    skipped = create(workflow, "A lighthouse in a storm, the first route skipped")

    assert routes(skipped) == [("second", "running")]
    time.sleep(max(0.0, int(opened["open_until"]) - time.time() + 1))
    probe = create(workflow, "A lighthouse in a storm, the probe")
    assert routes(probe) == [("first", "running")]
    assert "open_until" not in breaker(workflow, "first")
    after = create(workflow, "A lighthouse in a calm")
    assert routes(after) == [("first", "running")]


def routes(video: dict[str, Any]) -> list[tuple[str, str]]:
    return [(a["route"], a["outcome"]) for a in video["attempts"]]
