"""Lambda's SQS event source mappings, offline: a poller per mapping receives up to BatchSize messages
(long polling, as Lambda's pollers do), invokes the function with them as Lambda shapes an SQS event,
and deletes what the invocation handled. An invocation that fails leaves its whole batch, which SQS shows
again once the visibility timeout passes; with `ReportBatchItemFailures` the messages the function names
in `batchItemFailures` are left and the rest deleted (an answer naming no valid message id fails the
whole batch, as Lambda treats it). After maxReceiveCount receives SQS itself moves a message to the
dead-letter queue of its redrive policy. The poller receives and deletes as the function's role."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local.serve.application import ACCOUNT, PARTITION, REGION, SqsSource
from local.serve.workers import Invocation

# How long one receive waits for a message (Lambda's pollers long-poll; a short wait keeps a stop quick).
WAIT_SECONDS = 1


def sqs_event(messages: list[dict[str, Any]], queue: str) -> dict[str, Any]:
    """The event Lambda invokes a function with for a batch of SQS messages."""
    arn = f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{queue}"
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": message.get("MessageAttributes", {}),
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": REGION,
            }
            for message in messages
        ]
    }


def handled(
    messages: list[dict[str, Any]], invocation: Invocation, report_failures: bool
) -> list[dict[str, Any]]:
    """The messages of a batch the invocation handled (to delete)."""
    if invocation.error is not None:
        return []
    if not report_failures:
        return messages
    result = invocation.result
    if result is None:
        return messages
    ids = {message["MessageId"] for message in messages}
    try:
        failed = {str(item["itemIdentifier"]) for item in result.get("batchItemFailures") or []}
    except (AttributeError, KeyError, TypeError):
        return []
    if not failed <= ids:
        return []  # Lambda fails the whole batch when an identifier is missing or not of the batch
    return [message for message in messages if message["MessageId"] not in failed]


class SqsPoller:
    def __init__(self, source: SqsSource, sqs: Any, invoke: Callable[[str, Any], Invocation]) -> None:
        """`sqs`: a client acting as the function's role."""
        self.source = source
        self._sqs = sqs
        self._invoke = invoke
        self._url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{source.queue}"

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_once()
            except (ClientError, BotoCoreError):
                stop.wait(1)  # the endpoint going away, or a fault: Lambda's poller backs off and goes on

    def poll_once(self) -> int:
        """One receive and the invocation for what came; how many messages came."""
        messages = self._sqs.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=min(self.source.batch_size, 10),
            WaitTimeSeconds=WAIT_SECONDS,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        invocation = self._invoke(self.source.function, sqs_event(messages, self.source.queue))
        done = handled(messages, invocation, self.source.report_failures)
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return len(messages)
