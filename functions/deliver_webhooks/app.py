"""Delivers the jobs' ends on the delivery queue (the bus's `Video Completed` / `Video Failed`, put there
by an EventBridge rule) to their owners' webhook endpoints. A message whose delivery failed is reported
back (`batchItemFailures`) after its visibility timeout is set to its backoff, so SQS shows it again then,
and moves it to the dead-letter queue after maxReceiveCount receives."""

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import wiring
from videos_core.adapters import aws
from videos_core.deadline import bounded
from videos_core.logic.deliveries import deliver_batch
from videos_core.observability import logger, metrics, traced
from videos_core.settings import get_settings


def _hide(receipt_handle: str, seconds: int) -> None:
    queue = get_settings().webhook_delivery_queue_url
    aws.sqs().change_message_visibility(
        QueueUrl=queue, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
    )


@logger.inject_lambda_context
@metrics.log_metrics
@traced
@bounded
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    again = deliver_batch(
        event["Records"], wiring.deliverer(), _hide, settings.webhook_retry_scale, int(time.time())
    )
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in again]}
