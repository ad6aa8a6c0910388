"""Scheduled: ends the jobs whose execution is no longer running, frees the slots no running job
holds, and publishes the events still waiting in the outbox."""

import time
from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import wiring
from videos_core.deadline import bounded
from videos_core.logic.reconcile import Reconciler, reconcile
from videos_core.observability import logger, metrics, traced
from videos_core.settings import get_settings


@logger.inject_lambda_context
@metrics.log_metrics
@traced
@bounded
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    ports = Reconciler(
        wiring.quotas(),
        wiring.videos(),
        wiring.workflow(),
        wiring.outbox(),
        wiring.ender(context.aws_request_id),
        settings.retention_seconds,
        settings.reconcile_after_seconds,
    )
    done = reconcile(ports, int(time.time()))
    metrics.add_metric("JobsReconciled", MetricUnit.Count, done.ended)
    metrics.add_metric("SlotsFreed", MetricUnit.Count, done.freed)
    metrics.add_metric("EventsRepublished", MetricUnit.Count, done.published)
    metrics.add_metric("EventsStillPending", MetricUnit.Count, done.still_pending)
    metrics.add_metric("ReconcileFailures", MetricUnit.Count, done.failures)
    logger.info("reconciled", extra=asdict(done))
    return asdict(done)
