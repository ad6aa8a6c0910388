"""The outbox: each ended job's event, written in the same transaction that ends the job, and removed
once it is on the bus. Whoever ended the job publishes it at once, holding a short lease; if that
fails, the lease lapses and the state machine's next step or the reconciler publishes it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from videos_core.adapters.dynamodb import from_item, if_condition_holds, store_error, to_item
from videos_core.ports import PendingEvent

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoOutbox:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self.table = table

    def _key(self, video_id: str) -> dict[str, Any]:
        return to_item({"video_id": video_id})

    def put_item(self, event: PendingEvent, holder: str, now: int, until: int) -> dict[str, Any]:
        """The transaction item that puts a job's event (one per job: a second cancels the transaction)."""
        return {
            "Put": {
                "TableName": self.table,
                "Item": to_item(
                    {
                        "video_id": event.video_id,
                        "detail_type": event.detail_type,
                        "detail": json.dumps(event.detail),
                        "holder": holder,
                        "lease_until": until,
                        "created_at": now,
                    }
                ),
                "ConditionExpression": "attribute_not_exists(video_id)",
            }
        }

    def claim(self, video_id: str, holder: str, now: int, until: int) -> PendingEvent | None:
        """The job's pending event, now `holder`'s to publish; None when there is none, or another
        holds it (and publishes it, or lets its lease lapse)."""
        claimed = if_condition_holds(
            lambda: self._client.update_item(
                TableName=self.table,
                Key=self._key(video_id),
                UpdateExpression="SET holder = :me, lease_until = :until",
                ConditionExpression="attribute_exists(video_id) AND (holder = :me OR lease_until < :now)",
                ExpressionAttributeValues=to_item({":me": holder, ":until": until, ":now": now}),
                ReturnValues="ALL_NEW",
            )
        )
        if claimed is None:
            return None
        values = from_item(claimed["Attributes"])
        return PendingEvent(video_id, str(values["detail_type"]), json.loads(str(values["detail"])))

    def release(self, video_id: str, holder: str) -> None:
        """Lets the next one publish at once, after this holder could not."""
        if_condition_holds(
            lambda: self._client.update_item(
                TableName=self.table,
                Key=self._key(video_id),
                UpdateExpression="SET lease_until = :zero",
                ConditionExpression="holder = :me",
                ExpressionAttributeValues=to_item({":me": holder, ":zero": 0}),
            )
        )

    def done(self, video_id: str) -> None:
        """The event is on the bus."""
        try:
            self._client.delete_item(TableName=self.table, Key=self._key(video_id))
        except (ClientError, BotoCoreError) as e:
            raise store_error(e) from e

    def lapsed(self, now: int) -> list[str]:
        """The jobs whose event waits with no live holder."""
        found: list[str] = []
        try:
            for page in self._client.get_paginator("scan").paginate(
                TableName=self.table,
                FilterExpression="lease_until < :now",
                ExpressionAttributeValues=to_item({":now": now}),
                ProjectionExpression="video_id",
                ConsistentRead=True,
            ):
                found.extend(str(from_item(item)["video_id"]) for item in page["Items"])
        except (ClientError, BotoCoreError) as e:
            raise store_error(e) from e
        return found
