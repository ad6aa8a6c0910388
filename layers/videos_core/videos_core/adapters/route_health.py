"""The routes' breakers in DynamoDB: one item per model and route in a table of their own.

An attempt is one unconditional `UpdateItem` that adds to the counters of the current window
(`a_<window>`, `f_<window>`), drops those of the window before the previous one, and returns the item
as it is after: so the counters need no read first and no retry, whoever writes beside it. Opening,
probing and closing are conditional writes: one function opens a closed breaker, one claims the
probe of a cooled-down one. The item expires (TTL) when its route has been idle past a cool-down and
two windows, and a read treats an expired item left behind by TTL's lazy deletion as absent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from videos_core.adapters.dynamodb import from_item, store_error, to_item
from videos_core.ports import RouteState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def route_key(model: str, route: str) -> dict[str, Any]:
    return to_item({"route": f"{model}/{route}"})


class DynamoRouteHealth:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def state(self, model: str, route: str, window: int, now: int) -> RouteState:
        try:
            item = self._client.get_item(TableName=self._table, Key=route_key(model, route)).get("Item")
        except (ClientError, BotoCoreError) as e:
            raise store_error(e) from e
        values = from_item(item) if item else {}
        if int(values.get("ttl", now + 1)) <= now:
            values = {}
        return _state(values, window)

    def count(self, model: str, route: str, failed: bool, window: int, keep_until: int) -> RouteState:
        values = {":one": 1, ":failed": 1 if failed else 0, ":ttl": keep_until}
        streak = "streak = if_not_exists(streak, :zero) + :one" if failed else "streak = :zero"
        try:
            item = self._client.update_item(
                TableName=self._table,
                Key=route_key(model, route),
                UpdateExpression=(
                    f"SET {streak}, #ttl = :ttl ADD a_{window} :one, f_{window} :failed"
                    f" REMOVE a_{window - 2}, f_{window - 2}"
                ),
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues=to_item(values | {":zero": 0}),
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except (ClientError, BotoCoreError) as e:
            raise store_error(e) from e
        return _state(from_item(item), window)

    def trip(self, model: str, route: str, until: int) -> bool:
        return self._conditional(
            model,
            route,
            "SET open_until = :until REMOVE probe_until",
            "attribute_not_exists(open_until)",
            {":until": until},
        )

    def claim_probe(self, model: str, route: str, now: int, until: int) -> bool:
        return self._conditional(
            model,
            route,
            "SET probe_until = :until",
            "open_until <= :now AND (attribute_not_exists(probe_until) OR probe_until <= :now)",
            {":until": until, ":now": now},
        )

    def reopen(self, model: str, route: str, until: int) -> None:
        self._conditional(
            model,
            route,
            "SET open_until = :until REMOVE probe_until",
            "attribute_exists(open_until)",
            {":until": until},
        )

    def close(self, model: str, route: str, window: int) -> None:
        # A closed breaker starts afresh: the failures that opened it are not held against the route.
        counters = ", ".join(f"{kind}_{w}" for w in (window, window - 1) for kind in ("a", "f"))
        self._conditional(
            model,
            route,
            f"SET streak = :zero REMOVE open_until, probe_until, {counters}",
            "attribute_exists(open_until)",
            {":zero": 0},
        )

    def _conditional(
        self, model: str, route: str, update: str, condition: str, values: dict[str, Any]
    ) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=route_key(model, route),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=to_item(values),
            )
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise store_error(e) from e
        except BotoCoreError as e:
            raise store_error(e) from e
        return True


def _state(values: dict[str, Any], window: int) -> RouteState:
    def number(name: str) -> int:
        return int(values.get(name, 0))

    return RouteState(
        open_until=int(values["open_until"]) if "open_until" in values else None,
        probe_until=int(values["probe_until"]) if "probe_until" in values else None,
        streak=number("streak"),
        attempts=number(f"a_{window}") + number(f"a_{window - 1}"),
        failures=number(f"f_{window}") + number(f"f_{window - 1}"),
    )
