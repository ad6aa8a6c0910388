"""The metrics of a job's end, emitted by whichever step ended it (once per job)."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from videos_core.logic.workflow import COMPLETED, FAILED, Outcome
from videos_core.models.record import VideoRecord
from videos_core.observability import metrics
from videos_core.ports import EventPublisher
from videos_core.settings import Settings


def record_created(record: VideoRecord) -> None:
    metrics.add_dimension("model", record.model)
    metrics.add_metric("VideosCreated", MetricUnit.Count, 1)


def record_outcome(outcome: Outcome, settings: Settings) -> None:
    record = outcome.record
    if not outcome.finalised or record is None:
        return
    if record.status == "completed":
        metrics.add_dimension("model", record.model)
        metrics.add_metric("VideosCompleted", MetricUnit.Count, 1)
        metrics.add_metric("EstimatedCostUSD", MetricUnit.NoUnit, float(record.cost_estimate))
        if record.completed_at is not None:
            metrics.add_metric(
                "GenerationSeconds", MetricUnit.Seconds, record.completed_at - record.created_at
            )
        return
    metrics.add_dimension("error_code", record.error.code if record.error else "unknown")
    metrics.add_metric("VideosFailed", MetricUnit.Count, 1)
    if settings.bill_failed_jobs:
        metrics.add_metric("EstimatedCostUSD", MetricUnit.NoUnit, float(record.cost_estimate))


def announce(outcome: Outcome, events: EventPublisher) -> None:
    """Publishes the event of a job this step ended; one it could not publish is counted
    (EventsNotPublished, which the template's alarm watches) before the failure goes on up."""
    if not outcome.finalised or outcome.event is None or outcome.record is None:
        return
    try:
        events.publish(COMPLETED if outcome.record.status == "completed" else FAILED, outcome.event)
    except Exception:
        metrics.add_metric("EventsNotPublished", MetricUnit.Count, 1)
        raise
