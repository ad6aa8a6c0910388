"""Tenants' webhook endpoints in DynamoDB, keyed by (owner, endpoint_id): every read and write names
the owner, so another owner's endpoint id finds nothing. Endpoint ids are ULIDs and list newest first
straight from the table. Each owner's endpoints are also a string set in one item of the table (as the
quotas keep running jobs), so that adding one past the limit fails in the same transaction that writes
it, and removing one frees its place idempotently."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from videos_core.adapters.dynamodb import from_item, query_page, store_error, to_item, transact
from videos_core.errors import ServiceUnavailable
from videos_core.ports import ConditionFailedError, StoredEndpoint

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ENDPOINT_PREFIX = "we_"
# The item holding an owner's endpoint ids (a key no endpoint id can take).
REGISTER = "#register"
IDS = "endpoint_ids"


def to_stored(item: dict[str, Any]) -> StoredEndpoint:
    values = from_item(item)
    return StoredEndpoint(
        id=values["endpoint_id"],
        name=values["name"],
        url=values["url"],
        event_types=tuple(sorted(values["event_types"])),
        created_at=int(values["created_at"]),
        updated_at=int(values["updated_at"]),
        secret_hint=values["secret_hint"],
        sealed_secret=bytes(values["sealed_secret"]),
        sealed_previous_secret=bytes(values["sealed_previous_secret"])
        if "sealed_previous_secret" in values
        else None,
        previous_secret_until=int(values["previous_secret_until"])
        if "previous_secret_until" in values
        else None,
        status=values.get("status", "enabled"),
        disabled_reason=values.get("disabled_reason"),
        failing_since=int(values["failing_since"]) if "failing_since" in values else None,
    )


def _item(owner: str, endpoint: StoredEndpoint) -> dict[str, Any]:
    values = {
        "owner": owner,
        "endpoint_id": endpoint.id,
        "name": endpoint.name,
        "url": endpoint.url,
        "event_types": set(endpoint.event_types),
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
        "secret_hint": endpoint.secret_hint,
        "sealed_secret": endpoint.sealed_secret,
        "sealed_previous_secret": endpoint.sealed_previous_secret,
        "previous_secret_until": endpoint.previous_secret_until,
        "status": endpoint.status,
        "disabled_reason": endpoint.disabled_reason,
        "failing_since": endpoint.failing_since,
    }
    return to_item(values)


class DynamoEndpointStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def _key(self, owner: str, endpoint_id: str) -> dict[str, Any]:
        return to_item({"owner": owner, "endpoint_id": endpoint_id})

    def add(self, owner: str, endpoint: StoredEndpoint, limit: int) -> bool:
        register = {
            "Update": {
                "TableName": self._table,
                "Key": self._key(owner, REGISTER),
                "UpdateExpression": f"ADD {IDS} :id",
                "ConditionExpression": f"attribute_not_exists({IDS}) OR size({IDS}) < :limit",
                "ExpressionAttributeValues": {":id": {"SS": [endpoint.id]}, ":limit": {"N": str(limit)}},
            }
        }
        put = {
            "Put": {
                "TableName": self._table,
                "Item": _item(owner, endpoint),
                "ConditionExpression": "attribute_not_exists(endpoint_id)",
            }
        }
        return _written(transact(self._client, [register, put]))

    def get(self, owner: str, endpoint_id: str) -> StoredEndpoint | None:
        try:
            found = self._client.get_item(
                TableName=self._table, Key=self._key(owner, endpoint_id), ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as e:
            raise store_error(e) from e
        return to_stored(found["Item"]) if "Item" in found else None

    def list(self, owner: str, limit: int, after: str | None) -> tuple[list[StoredEndpoint], bool]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#owner = :owner AND begins_with(endpoint_id, :prefix)",
            "ExpressionAttributeNames": {"#owner": "owner"},
            "ExpressionAttributeValues": to_item({":owner": owner, ":prefix": ENDPOINT_PREFIX}),
            "ScanIndexForward": False,
        }
        start = self._key(owner, after) if after is not None else None
        items, has_more = query_page(self._client, query, limit, start)
        return [to_stored(item) for item in items], has_more

    def replace(self, owner: str, endpoint: StoredEndpoint) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=_item(owner, endpoint),
                ConditionExpression="attribute_exists(endpoint_id)",
            )
        except (ClientError, BotoCoreError) as e:
            translated = store_error(e)
            if isinstance(translated, ConditionFailedError):
                return False
            raise translated from e
        return True

    def remove(self, owner: str, endpoint_id: str) -> bool:
        delete = {
            "Delete": {
                "TableName": self._table,
                "Key": self._key(owner, endpoint_id),
                "ConditionExpression": "attribute_exists(endpoint_id)",
            }
        }
        free = {
            "Update": {
                "TableName": self._table,
                "Key": self._key(owner, REGISTER),
                "UpdateExpression": f"DELETE {IDS} :id",
                "ExpressionAttributeValues": {":id": {"SS": [endpoint_id]}},
            }
        }
        return _written(transact(self._client, [delete, free]))


def _written(reasons: list[str | None]) -> bool:
    """Whether a transaction was written; False when its first item's condition did not hold."""
    if reasons[:1] == ["ConditionalCheckFailed"]:
        return False
    if reasons:
        raise ServiceUnavailable(f"The webhook endpoints were not written ({reasons}); retry.", retry_after=1)
    return True
