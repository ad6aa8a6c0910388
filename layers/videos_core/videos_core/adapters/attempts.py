"""A job moved to another attempt as one DynamoDB transaction: the record's route, upstream id and
attempts, and the attempt's price on the spend of the job's day (less what the attempt it leaves is
refunded), both or neither. Only a job still running as the mover read it moves: a job another
ended, or moved first, is left as it is."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from videos_core.adapters.dynamodb import RUNNING, TERMINAL_VALUES, to_item, transact
from videos_core.adapters.quotas import Limits, QuotaItems
from videos_core.errors import ServiceUnavailable, VideoQuotaExceeded
from videos_core.models.record import VideoRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoAttempts:
    def __init__(self, client: DynamoDBClient, videos_table: str, quotas: QuotaItems, limits: Limits) -> None:
        self._client = client
        self._videos = videos_table
        self._quotas = quotas
        self._limits = limits

    def switch(self, before: VideoRecord, after: VideoRecord, charge: Decimal) -> bool:
        items = [self._record_item(before, after)]
        if charge > 0:
            now = int(time.time())
            items.append(self._quotas.charge(before.owner, charge, before.created_at, self._budget, now))
        elif charge < 0:
            items.append(self._quotas.refund(before.owner, -charge, before.created_at))
        reasons = transact(self._client, items)
        if reasons[:1] == ["ConditionalCheckFailed"]:
            return False
        if "ConditionalCheckFailed" in reasons:
            raise VideoQuotaExceeded(
                f"Today's budget of ${self._budget} cannot take another attempt at this video."
            )
        if reasons:
            raise ServiceUnavailable(f"The job's next attempt was not written ({reasons}); retry.")
        return True

    @property
    def _budget(self) -> Decimal:
        return self._limits.daily_budget_usd

    def _record_item(self, before: VideoRecord, after: VideoRecord) -> dict[str, Any]:
        values = {
            ":upstream_id": after.upstream_id,
            ":route": after.route,
            ":attempts": [attempt.model_dump() for attempt in after.attempts],
            ":cost": after.cost_estimate,
            ":status": after.status,
            ":progress": after.progress,
            ":was": before.upstream_id,
            ":tried": len(before.attempts),
        }
        return {
            "Update": {
                "TableName": self._videos,
                "Key": to_item({"owner": before.owner, "video_id": before.video_id}),
                "UpdateExpression": (
                    "SET upstream_id = :upstream_id, #route = :route, attempts = :attempts,"
                    " cost_estimate = :cost, #status = :status, progress = :progress"
                ),
                "ConditionExpression": f"{RUNNING} AND upstream_id = :was AND size(attempts) = :tried",
                "ExpressionAttributeNames": {"#status": "status", "#route": "route"},
                "ExpressionAttributeValues": to_item(values) | TERMINAL_VALUES,
            }
        }
