"""Delivers the jobs' ends on the delivery queue (the bus's `Video Completed` / `Video Failed`, put there
by an EventBridge rule) to their owners' webhook endpoints. A message whose delivery failed is reported
back (`batchItemFailures`) after its visibility timeout is set to its backoff, so SQS shows it again then;
one whose retry window has passed is put on the dead-letter queue instead."""

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import wiring
from videos_core.adapters import aws
from videos_core.deadline import bounded
from videos_core.logic.deliveries import Queue, deliver_batch
from videos_core.observability import logger, metrics, traced
from videos_core.settings import get_settings


def _hide(receipt_handle: str, seconds: int) -> None:
    queue = get_settings().webhook_delivery_queue_url
    aws.sqs().change_message_visibility(
        QueueUrl=queue, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
    )


def _give_up(body: str) -> None:
    aws.sqs().send_message(QueueUrl=get_settings().webhook_dead_letter_queue_url, MessageBody=body)


@logger.inject_lambda_context
@metrics.log_metrics
@traced
@bounded
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    again = deliver_batch(event["Records"], wiring.deliverer(), Queue(_hide, _give_up), int(time.time()))
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in again]}
