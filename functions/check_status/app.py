"""State machine task: one look at the upstream; writes progress and says how long to wait next."""

import time
from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import wiring
from videos_core.logic.workflow import check_status
from videos_core.models.task import CheckStatusInput
from videos_core.observability import logger, metrics, traced


@logger.inject_lambda_context
@metrics.log_metrics
@traced
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = CheckStatusInput.model_validate(event)
    check = check_status(task.ref.owner, task.ref.video_id, task.attempt, wiring.finisher(), int(time.time()))
    return {"job": task.job, "attempt": task.attempt + 1, "check": asdict(check)}
