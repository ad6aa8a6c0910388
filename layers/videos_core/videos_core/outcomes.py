"""The metrics of a job's start and of its end, emitted by whichever step did it (once per job)."""

from __future__ import annotations

from decimal import Decimal

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from videos_core.catalog import Entry
from videos_core.models.record import AttemptRecord, VideoRecord
from videos_core.observability import metrics


def record_created(record: VideoRecord) -> None:
    metrics.add_dimension("model", record.model)
    metrics.add_metric("VideosCreated", MetricUnit.Count, 1)


def record_ended(record: VideoRecord, bill_failed_jobs: bool) -> None:
    if record.status == "completed":
        metrics.add_dimension("model", record.model)
        metrics.add_metric("VideosCompleted", MetricUnit.Count, 1)
        metrics.add_metric("EstimatedCostUSD", MetricUnit.NoUnit, float(spent(record, bill_failed_jobs)))
        if record.completed_at is not None:
            metrics.add_metric(
                "GenerationSeconds", MetricUnit.Seconds, record.completed_at - record.created_at
            )
            holder = record.holder
            if holder is not None:
                # From the route's own start (a job moved there started on it later than it was made).
                seconds = record.completed_at - holder.started_at
                route_metric(
                    "RouteGenerationSeconds", MetricUnit.Seconds, seconds, record.model, holder.route
                )
        return
    metrics.add_dimension("error_code", record.error.code if record.error else "unknown")
    metrics.add_metric("VideosFailed", MetricUnit.Count, 1)
    if spent(record, bill_failed_jobs):
        metrics.add_metric("EstimatedCostUSD", MetricUnit.NoUnit, float(spent(record, bill_failed_jobs)))


def spent(record: VideoRecord, bill_failed_jobs: bool) -> Decimal:
    """What an ended job took from its owner's budget: its charged attempts (its price, for a job made
    before attempts were kept, when completed or billed)."""
    if record.attempts:
        return sum((attempt.cost for attempt in record.attempts if attempt.charged), Decimal(0))
    return record.cost_estimate if record.status == "completed" or bill_failed_jobs else Decimal(0)


def record_accepted(entry: Entry, seconds: float) -> None:
    """How long the route's provider took to accept a job (p50/p95 from CloudWatch's statistics)."""
    route_metric("RouteAcceptSeconds", MetricUnit.Seconds, seconds, entry.model, entry.route)


def route_metric(
    name: str, unit: MetricUnit, value: float, model: str, route: str, **dimensions: str
) -> None:
    """One figure of a model's route, in a metric of its own (its dimensions are not the invocation's)."""
    with single_metric(name=name, unit=unit, value=value, namespace=metrics.namespace) as metric:
        metric.add_dimension("model", model)
        metric.add_dimension("route", route)
        for key, value_of in dimensions.items():
            metric.add_dimension(key, value_of)


def record_attempt(model: str, attempt: AttemptRecord) -> None:
    """An attempt's outcome on its route (refused, failed, abandoned, cancelled, completed) and what it
    left charged, in metrics of their own: per model, route, provider and outcome."""
    figures = [("RouteAttempts", MetricUnit.Count, 1.0)]
    if attempt.charged:
        figures.append(("RouteCostUSD", MetricUnit.NoUnit, float(attempt.cost)))
    for name, unit, value in figures:
        route_metric(
            name, unit, value, model, attempt.route, provider=attempt.provider, outcome=attempt.outcome
        )


def record_webhook_attempt(event_type: str, outcome: str, seconds: float) -> None:
    """A delivery attempt to a tenant's endpoint: its outcome (delivered, or why not) and how long it
    took, per event type, in metrics of their own."""
    figures = [
        ("WebhookAttempts", MetricUnit.Count, 1.0),
        ("WebhookAttemptSeconds", MetricUnit.Seconds, seconds),
    ]
    for name, unit, value in figures:
        with single_metric(name=name, unit=unit, value=value, namespace=metrics.namespace) as metric:
            metric.add_dimension("event_type", event_type)
            metric.add_dimension("outcome", outcome)
