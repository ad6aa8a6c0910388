"""Per-owner limits in DynamoDB, taken atomically: the jobs an owner has running, and what they have
spent (estimated) in the current UTC day. Two racing creates cannot both take the last slot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from videos_core.adapters.dynamodb import to_item
from videos_core.errors import ServiceUnavailable, VideoQuotaExceeded

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RUNNING = "running"
# How soon to try again when every job slot is taken (jobs take minutes; slots free as they end).
SLOT_RETRY_AFTER = 30


@dataclass(frozen=True)
class Limits:
    max_running_jobs: int
    daily_budget_usd: Decimal


def _day(now: int) -> str:
    return "day#" + datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")


def _seconds_to_midnight(now: int) -> int:
    moment = datetime.fromtimestamp(now, UTC)
    midnight = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - moment).total_seconds()))


class DynamoQuotas:
    def __init__(self, client: DynamoDBClient, table: str, limits: Limits) -> None:
        self._client = client
        self._table = table
        self._limits = limits

    def _key(self, owner: str, period: str) -> dict[str, Any]:
        return to_item({"owner": owner, "period": period})

    def _update(
        self,
        owner: str,
        period: str,
        expression: str,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key(owner, period),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": to_item(values),
        }
        if names:
            update["ExpressionAttributeNames"] = names
        return {"Update": update}

    def take(self, owner: str, cost: Decimal, now: int) -> None:
        """Takes a job slot and adds `cost` to today's spend, both or neither; VideoQuotaExceeded if over."""
        budget = self._limits.daily_budget_usd
        if cost > budget:
            raise VideoQuotaExceeded(
                f"This video alone costs more than the daily budget of ${budget}.",
                retry_after=_seconds_to_midnight(now),
            )
        slot = self._update(
            owner,
            RUNNING,
            "SET jobs = if_not_exists(jobs, :zero) + :one",
            "attribute_not_exists(jobs) OR jobs < :limit",
            {":zero": 0, ":one": 1, ":limit": self._limits.max_running_jobs},
        )
        spend = self._update(
            owner,
            _day(now),
            "SET spent_usd = if_not_exists(spent_usd, :zero) + :cost, #ttl = :ttl",
            "attribute_not_exists(spent_usd) OR spent_usd <= :headroom",
            {":zero": 0, ":cost": cost, ":headroom": budget - cost, ":ttl": now + 3 * 86_400},
            {"#ttl": "ttl"},
        )
        try:
            self._client.transact_write_items(TransactItems=[slot, spend])  # type: ignore[list-item]
        except ClientError as e:
            raise self._refusal(e, now) from e

    def _refusal(self, error: ClientError, now: int) -> Exception:
        if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            return ServiceUnavailable("The quota store is busy; retry shortly.", retry_after=1)
        reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
        if reasons[:1] == ["ConditionalCheckFailed"]:
            return VideoQuotaExceeded(
                f"You have {self._limits.max_running_jobs} videos running, the most allowed at once.",
                retry_after=SLOT_RETRY_AFTER,
            )
        if "ConditionalCheckFailed" in reasons:
            return VideoQuotaExceeded(
                f"Today's budget of ${self._limits.daily_budget_usd} is spent (UTC day).",
                retry_after=_seconds_to_midnight(now),
            )
        return ServiceUnavailable("The quota store is busy; retry shortly.", retry_after=1)

    def release(self, owner: str) -> None:
        """Frees the job slot of a job that ended (called once per job, by whoever ended it)."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(owner, RUNNING),
                UpdateExpression="SET jobs = jobs - :one",
                ConditionExpression="jobs > :zero",
                ExpressionAttributeValues=to_item({":one": 1, ":zero": 0}),
            )
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def give_back(self, owner: str, cost: Decimal, now: int) -> None:
        """Undoes `take` for a job that never started (or is not charged): its slot and its spend."""
        self.release(owner)
        self.refund(owner, cost, now)

    def refund(self, owner: str, cost: Decimal, day_of: int) -> None:
        """Takes `cost` back off the spend of the UTC day `day_of` falls in (the job's creation day)."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(owner, _day(day_of)),
                UpdateExpression="SET spent_usd = spent_usd - :cost",
                ConditionExpression="spent_usd >= :cost",
                ExpressionAttributeValues=to_item({":cost": cost}),
            )
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
