"""The metrics of a job's start and of its end, emitted by whichever step did it (once per job)."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from videos_core.models.record import VideoRecord
from videos_core.observability import metrics


def record_created(record: VideoRecord) -> None:
    metrics.add_dimension("model", record.model)
    metrics.add_metric("VideosCreated", MetricUnit.Count, 1)


def record_ended(record: VideoRecord, bill_failed_jobs: bool) -> None:
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
    if bill_failed_jobs:
        metrics.add_metric("EstimatedCostUSD", MetricUnit.NoUnit, float(record.cost_estimate))
