"""Deliveries to tenants' webhook endpoints in DynamoDB, one item per delivery keyed by its webhook_id:
its event, its status and its attempts (a list each attempt grows), kept a week after the last (TTL).
The index BY_ENDPOINT lists an endpoint's deliveries newest first (its sort key, `listed`, is the first
attempt's time and the delivery's id)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from videos_core.adapters.dynamodb import from_item, if_condition_holds, query_page, store_error, to_item
from videos_core.logic.deliveries import (
    Delivery,
    DeliveryStatus,
    LoggedAttempt,
    LoggedDelivery,
    VideoEvent,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BY_ENDPOINT = "by-endpoint"


def _listed(created_at: int, webhook_id: str) -> str:
    return f"{created_at:012d}#{webhook_id}"


def _logged(item: dict[str, Any]) -> LoggedDelivery:
    values = from_item(item)
    event = VideoEvent(
        values["owner"], values["video_id"], values["event_type"], int(values["event_created_at"])
    )
    attempts = tuple(
        LoggedAttempt(
            int(a["attempted_at"]),
            int(a["status_code"]) if a.get("status_code") is not None else None,
            int(a["duration_ms"]),
            a.get("failure"),
        )
        for a in values.get("attempts", [])
    )
    delivery = Delivery(values["webhook_id"], values["owner"], values["endpoint_id"], event)
    return LoggedDelivery(delivery, values["status"], int(values["created_at"]), attempts)


class DynamoEndpointDeliveryLog:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def delivered(self, webhook_id: str) -> bool:
        found = self.get(webhook_id)
        return found is not None and found.status == "delivered"

    def get(self, webhook_id: str) -> LoggedDelivery | None:
        try:
            found = self._client.get_item(
                TableName=self._table, Key=to_item({"webhook_id": webhook_id}), ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as e:
            raise store_error(e) from e
        return _logged(found["Item"]) if "Item" in found else None

    def record(
        self, delivery: Delivery, attempt: LoggedAttempt, status: DeliveryStatus, keep_until: int
    ) -> None:
        event = delivery.event
        made = {
            "attempted_at": attempt.attempted_at,
            "status_code": attempt.status_code,
            "duration_ms": attempt.duration_ms,
            "failure": attempt.failure,
        }
        # Set on the first attempt, kept after.
        first = {
            "owner": delivery.owner,
            "endpoint_id": delivery.endpoint_id,
            "event_id": event.event_id,
            "event_type": event.event_type,
            "video_id": event.video_id,
            "event_created_at": event.created_at,
            "created_at": attempt.attempted_at,
            "listed": _listed(attempt.attempted_at, delivery.webhook_id),
        }
        every = {"status": status, "ttl": keep_until}
        kept = [f"#{name} = if_not_exists(#{name}, :{name})" for name in first]
        replaced = [f"#{name} = :{name}" for name in every]
        grown = "attempts = list_append(if_not_exists(attempts, :none), :attempt)"
        values = first | every | {"attempt": [{k: v for k, v in made.items() if v is not None}], "none": []}
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_item({"webhook_id": delivery.webhook_id}),
                UpdateExpression="SET " + ", ".join([*kept, *replaced, grown]),
                ExpressionAttributeNames={f"#{name}": name for name in first | every},
                ExpressionAttributeValues=to_item({f":{name}": value for name, value in values.items()}),
            )
        except (ClientError, BotoCoreError) as e:
            raise store_error(e) from e

    def list(self, endpoint_id: str, limit: int, after: str | None) -> tuple[list[LoggedDelivery], bool]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": BY_ENDPOINT,
            "KeyConditionExpression": "endpoint_id = :endpoint",
            "ExpressionAttributeValues": to_item({":endpoint": endpoint_id}),
            "ScanIndexForward": False,
        }
        start = None
        if after is not None:
            last = self.get(after)
            if last is None or last.delivery.endpoint_id != endpoint_id:
                return [], False
            start = to_item(
                {"webhook_id": after, "endpoint_id": endpoint_id, "listed": _listed(last.created_at, after)}
            )
        items, has_more = query_page(self._client, query, limit, start)
        return [_logged(item) for item in items], has_more


class DynamoEndpointHealth:
    """The endpoints' failing streaks and disabling, written to their items in the endpoints' table (an
    endpoint deleted meanwhile is left deleted)."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def _update(self, owner: str, endpoint_id: str, expression: str, values: dict[str, Any]) -> Any:
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": to_item({"owner": owner, "endpoint_id": endpoint_id}),
            "UpdateExpression": expression,
            "ConditionExpression": "attribute_exists(endpoint_id)",
            "ReturnValues": "ALL_NEW",
        }
        if "#status" in expression:
            request["ExpressionAttributeNames"] = {"#status": "status"}
        if values:
            request["ExpressionAttributeValues"] = to_item(values)

        def call() -> Any:
            return self._client.update_item(**request)

        return if_condition_holds(call)

    def failing(self, owner: str, endpoint_id: str, now: int) -> int:
        found = self._update(
            owner, endpoint_id, "SET failing_since = if_not_exists(failing_since, :now)", {":now": now}
        )
        return now if found is None else int(from_item(found["Attributes"])["failing_since"])

    def recovered(self, owner: str, endpoint_id: str) -> None:
        self._update(owner, endpoint_id, "REMOVE failing_since", {})

    def disable(self, owner: str, endpoint_id: str, reason: str) -> None:
        self._update(
            owner,
            endpoint_id,
            "SET #status = :disabled, disabled_reason = :reason",
            {":disabled": "disabled", ":reason": reason},
        )
