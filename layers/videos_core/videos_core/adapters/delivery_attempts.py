"""Webhook deliveries' attempts in DynamoDB, keyed (webhook_id, attempt): one item per attempt, each kept
a week (TTL), and under attempt 0 the mark that the delivery went through, which a message received
again for another endpoint's sake reads so as not to send it twice."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from videos_core.adapters.dynamodb import store_error, to_item
from videos_core.logic.deliveries import DeliveryAttempt

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DELIVERED = 0


class DynamoAttemptLog:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def delivered(self, webhook_id: str) -> bool:
        key = to_item({"webhook_id": webhook_id, "attempt": DELIVERED})
        try:
            found = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True)
        except (ClientError, BotoCoreError) as e:
            raise store_error(e) from e
        return "Item" in found

    def record(self, attempt: DeliveryAttempt, keep_until: int) -> None:
        values: dict[str, Any] = {
            "webhook_id": attempt.webhook_id,
            "attempt": attempt.number,
            "owner": attempt.owner,
            "endpoint_id": attempt.endpoint_id,
            "event_id": attempt.event.event_id,
            "event_type": attempt.event.event_type,
            "video_id": attempt.event.video_id,
            "attempted_at": attempt.at,
            "status_code": attempt.attempt.status,
            "milliseconds": round(attempt.attempt.seconds * 1000),
            "failure": attempt.attempt.failure,
            "ttl": keep_until,
        }
        items = [values]
        if attempt.attempt.delivered:
            items.append(values | {"attempt": DELIVERED, "delivered_in": attempt.number})
        try:
            for item in items:
                self._client.put_item(TableName=self._table, Item=to_item(item))
        except (ClientError, BotoCoreError) as e:
            raise store_error(e) from e
