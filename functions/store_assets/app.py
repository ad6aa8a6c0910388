"""State machine task: streams the finished video, thumbnail and spritesheet into S3, then completes
the job (unless the webhook already has)."""

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import wiring
from videos_core.deadline import bounded, seconds_left
from videos_core.logic.workflow import store_assets
from videos_core.models.task import StoreAssetsInput
from videos_core.observability import logger, metrics, traced


@logger.inject_lambda_context
@metrics.log_metrics
@traced
@bounded
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = StoreAssetsInput.model_validate(event)
    ports = wiring.finisher(context.aws_request_id, seconds_left())
    outcome = store_assets(task.ref.owner, task.ref.video_id, ports, int(time.time()))
    return {"finalised": outcome.finalised}
