"""Per-owner limits in DynamoDB, taken atomically: the jobs an owner has running, and what they have
spent (estimated) in the current UTC day. Two racing creates cannot both take the last slot.

An owner's running jobs are a string set of their video ids, not a counter: freeing a job's slot is
idempotent (a second free of the same job changes nothing), so a job's end can free it inside the
same transaction as the record without a condition that could cancel it, and the reconciler can see
which job holds each slot."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from videos_core.adapters.dynamodb import from_item, store_error, to_item
from videos_core.errors import ServiceUnavailable, VideoQuotaExceeded

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RUNNING = "running"
SLOTS = "video_ids"
# How soon to try again when every job slot is taken (jobs take minutes; slots free as they end).
SLOT_RETRY_AFTER = 30
# How long a day's spend is kept: past any job's end, so a refund always finds its day.
SPEND_KEPT_SECONDS = 3 * 86_400


@dataclass(frozen=True)
class Limits:
    max_running_jobs: int
    daily_budget_usd: Decimal


def spend_period(day_of: int) -> str:
    """The spend item of the UTC day `day_of` (epoch seconds) falls in."""
    return "day#" + datetime.fromtimestamp(day_of, UTC).strftime("%Y-%m-%d")


def _seconds_to_midnight(now: int) -> int:
    moment = datetime.fromtimestamp(now, UTC)
    midnight = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - moment).total_seconds()))


class QuotaItems:
    """The transaction items of the quotas table: each other adapter that ends a job puts these in its
    own transaction."""

    def __init__(self, table: str) -> None:
        self.table = table

    def key(self, owner: str, period: str) -> dict[str, Any]:
        return to_item({"owner": owner, "period": period})

    def free_slot(self, owner: str, video_id: str) -> dict[str, Any]:
        """Frees `video_id`'s slot (nothing if it holds none): no condition, so it never cancels."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": self.key(owner, RUNNING),
                "UpdateExpression": f"DELETE {SLOTS} :id",
                "ExpressionAttributeValues": {":id": {"SS": [video_id]}},
            }
        }

    def charge(self, owner: str, cost: Decimal, day_of: int, budget: Decimal, now: int) -> dict[str, Any]:
        """Adds `cost` to the spend of the day `day_of` falls in, on condition the budget takes it."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": self.key(owner, spend_period(day_of)),
                "UpdateExpression": "SET spent_usd = if_not_exists(spent_usd, :zero) + :cost, #ttl = :ttl",
                "ConditionExpression": "attribute_not_exists(spent_usd) OR spent_usd <= :headroom",
                "ExpressionAttributeNames": {"#ttl": "ttl"},
                "ExpressionAttributeValues": to_item(
                    {":zero": 0, ":cost": cost, ":headroom": budget - cost, ":ttl": now + SPEND_KEPT_SECONDS}
                ),
            }
        }

    def refund(self, owner: str, cost: Decimal, day_of: int) -> dict[str, Any]:
        """Takes `cost` back off the spend of the day `day_of` falls in (the job's creation day)."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": self.key(owner, spend_period(day_of)),
                "UpdateExpression": "ADD spent_usd :refund",
                "ExpressionAttributeValues": to_item({":refund": -cost}),
            }
        }


class DynamoQuotas:
    def __init__(self, client: DynamoDBClient, table: str, limits: Limits) -> None:
        self._client = client
        self._items = QuotaItems(table)
        self._limits = limits

    @property
    def items(self) -> QuotaItems:
        return self._items

    def take(self, owner: str, video_id: str, cost: Decimal, now: int) -> None:
        """Takes a job slot for `video_id` and adds `cost` to today's spend, both or neither;
        VideoQuotaExceeded if over a limit."""
        budget = self._limits.daily_budget_usd
        if cost > budget:
            raise VideoQuotaExceeded(
                f"This video alone costs more than the daily budget of ${budget}.",
                retry_after=_seconds_to_midnight(now),
            )
        slot = {
            "Update": {
                "TableName": self._items.table,
                "Key": self._items.key(owner, RUNNING),
                "UpdateExpression": f"ADD {SLOTS} :id",
                "ConditionExpression": f"attribute_not_exists({SLOTS}) OR size({SLOTS}) < :limit",
                "ExpressionAttributeValues": {
                    ":id": {"SS": [video_id]},
                    ":limit": {"N": str(self._limits.max_running_jobs)},
                },
            }
        }
        spend = self._items.charge(owner, cost, now, budget, now)
        try:
            self._client.transact_write_items(TransactItems=[slot, spend])  # type: ignore[list-item]
        except ClientError as e:
            raise self._refusal(e, now) from e
        except BotoCoreError as e:
            raise store_error(e) from e

    def budget_refusal(self, now: int) -> VideoQuotaExceeded:
        return VideoQuotaExceeded(
            f"Today's budget of ${self._limits.daily_budget_usd} is spent (UTC day).",
            retry_after=_seconds_to_midnight(now),
        )

    def _refusal(self, error: ClientError, now: int) -> Exception:
        if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            return store_error(error)
        reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
        if reasons[:1] == ["ConditionalCheckFailed"]:
            return VideoQuotaExceeded(
                f"You have {self._limits.max_running_jobs} videos running, the most allowed at once.",
                retry_after=SLOT_RETRY_AFTER,
            )
        if "ConditionalCheckFailed" in reasons:
            return self.budget_refusal(now)
        return ServiceUnavailable("The quota store is busy; retry shortly.", retry_after=1)

    def give_back(self, owner: str, video_id: str, cost: Decimal, now: int) -> None:
        """Undoes `take` for a job that never started: its slot and its spend, together."""
        self._transact([self._items.free_slot(owner, video_id), self._items.refund(owner, cost, now)])

    def free(self, owner: str, video_id: str) -> None:
        """Frees a slot no running job holds (the reconciler's; a job's end frees its own)."""
        self._transact([self._items.free_slot(owner, video_id)])

    def _transact(self, items: list[dict[str, Any]]) -> None:
        try:
            if len(items) == 1:
                self._client.update_item(**items[0]["Update"])
            else:
                self._client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except (ClientError, BotoCoreError) as e:
            raise store_error(e) from e

    def slots(self) -> Iterator[tuple[str, str]]:
        """(owner, video id) of every slot taken, across owners (the reconciler's walk)."""
        paginator = self._client.get_paginator("scan")
        try:
            for page in paginator.paginate(
                TableName=self._items.table,
                FilterExpression="#period = :running",
                ExpressionAttributeNames={"#period": "period"},
                ExpressionAttributeValues=to_item({":running": RUNNING}),
                ConsistentRead=True,
            ):
                for item in page["Items"]:
                    values = from_item(item)
                    for video_id in sorted(values.get(SLOTS, ())):
                        yield str(values["owner"]), str(video_id)
        except (ClientError, BotoCoreError) as e:
            raise store_error(e) from e
