"""State machine task: ends a job as failed (upstream failure, timeout, or a step that kept failing)."""

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import wiring
from videos_core.deadline import bounded, seconds_left
from videos_core.logic.workflow import end_failed
from videos_core.models.task import EndFailedInput
from videos_core.observability import logger, metrics, traced


@logger.inject_lambda_context
@metrics.log_metrics
@traced
@bounded
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = EndFailedInput.model_validate(event)
    ports = wiring.finisher(context.aws_request_id, seconds_left())
    outcome = end_failed(task.ref.owner, task.ref.video_id, task.error, ports, int(time.time()))
    return {"finalised": outcome.finalised}
