"""A job's end as one DynamoDB transaction: the record made terminal (or removed, for a delete), the
owner's slot freed, the spend refunded unless billed, and the event put in the outbox. All of it
happens or none does; a second end of the same job finds the record ended and changes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from videos_core.adapters.dynamodb import RUNNING, TERMINAL_VALUES, to_item, transact
from videos_core.adapters.outbox import DynamoOutbox
from videos_core.adapters.quotas import QuotaItems
from videos_core.errors import ServiceUnavailable
from videos_core.models.record import VideoRecord
from videos_core.ports import JobEnd, PendingEvent

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoJobEnds:
    def __init__(
        self, client: DynamoDBClient, videos_table: str, quotas: QuotaItems, outbox: DynamoOutbox
    ) -> None:
        self._client = client
        self._videos = videos_table
        self._quotas = quotas
        self._outbox = outbox

    def end(self, end: JobEnd, now: int) -> bool:
        """Ends the job; False when it had already ended (or is gone)."""
        record = end.record
        items = [
            self._record_item(record, claimant=end.claimant, removed=end.removed),
            self._quotas.free_slot(record.owner, record.video_id),
            self._outbox.put_item(
                PendingEvent(record.video_id, end.detail_type, end.detail), end.holder, now, end.lease_until
            ),
        ]
        if end.refund:
            items.append(self._quotas.refund(record.owner, record.cost_estimate, record.created_at))
        return self._transact(items)

    def withdraw(self, record: VideoRecord) -> bool:
        """Takes back a job that never started (its execution could not be): the record, its slot and
        its spend go together, with no event (the client was answered an error, not a video)."""
        items = [
            self._record_item(record, claimant=None, removed=True),
            self._quotas.free_slot(record.owner, record.video_id),
            self._quotas.refund(record.owner, record.cost_estimate, record.created_at),
        ]
        return self._transact(items)

    def _transact(self, items: list[dict[str, Any]]) -> bool:
        reasons = transact(self._client, items)
        if reasons[:1] == ["ConditionalCheckFailed"]:
            return False
        if reasons:
            raise ServiceUnavailable(f"The job's end was not written ({reasons}); retry.", retry_after=1)
        return True

    def _record_item(self, record: VideoRecord, *, claimant: str | None, removed: bool) -> dict[str, Any]:
        key = to_item({"owner": record.owner, "video_id": record.video_id})
        if removed:
            return {
                "Delete": {
                    "TableName": self._videos,
                    "Key": key,
                    "ConditionExpression": RUNNING,
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": TERMINAL_VALUES,
                }
            }
        values: dict[str, Any] = {
            ":status": record.status,
            ":completed_at": record.completed_at,
            ":ttl": record.ttl,
        }
        expression = "SET #status = :status, completed_at = :completed_at, #ttl = :ttl"
        if record.attempts:
            expression += ", attempts = :attempts"
            values[":attempts"] = [attempt.model_dump() for attempt in record.attempts]
        condition = RUNNING
        names = {"#status": "status", "#ttl": "ttl"}
        if record.status == "completed":
            expression += (
                ", progress = :progress, expires_at = :expires_at, assets = :assets"
                " REMOVE finaliser, finalise_until, finalise_claims"
            )
            condition += " AND finaliser = :me"
            values |= {
                ":progress": record.progress,
                ":expires_at": record.expires_at,
                ":assets": {k: v.model_dump() for k, v in record.assets.items()},
                ":me": claimant,
            }
        else:
            expression += ", #error = :error"
            values[":error"] = record.error.model_dump() if record.error else None
            names["#error"] = "error"
        return {
            "Update": {
                "TableName": self._videos,
                "Key": key,
                "UpdateExpression": expression,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": to_item(values) | TERMINAL_VALUES,
            }
        }
