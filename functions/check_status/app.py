"""State machine task: one look at the upstream; writes progress and says how long to wait next."""

import time
from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import wiring
from videos_core.deadline import bounded, seconds_left
from videos_core.logic.workflow import check_status
from videos_core.models.task import CheckStatusInput
from videos_core.observability import logger, metrics, traced


@logger.inject_lambda_context
@metrics.log_metrics
@traced
@bounded
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = CheckStatusInput.model_validate(event)
    ports = wiring.finisher(context.aws_request_id, seconds_left())
    ref, now = task.ref, int(time.time())
    check = check_status(ref.owner, ref.video_id, task.attempt, task.history, task.retries, ports, now)
    # The execution's clock: its forced end dates the job's end by the last check (statemachine/).
    elapsed = now - int(task.job.get("created_at", now))
    return {
        "job": task.job,
        "attempt": task.attempt + 1,
        "history": check.history,
        "elapsed": elapsed,
        "check": asdict(check),
    }
