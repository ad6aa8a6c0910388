"""State machine task: streams the finished video, thumbnail and spritesheet into S3, then completes
the job (unless the webhook already has)."""

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import wiring
from videos_core.logic.workflow import store_assets
from videos_core.models.task import StoreAssetsInput
from videos_core.observability import logger, metrics, traced
from videos_core.outcomes import record_outcome


@logger.inject_lambda_context
@metrics.log_metrics
@traced
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = StoreAssetsInput.model_validate(event)
    ports = wiring.finisher()
    outcome = store_assets(task.ref.owner, task.ref.video_id, task.claimant, ports, int(time.time()))
    record_outcome(outcome, ports.settings)
    return {"finalised": outcome.finalised, "event": outcome.event}
