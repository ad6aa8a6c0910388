"""Video records and API keys in DynamoDB.

Videos are keyed by (owner, video_id): every read and write names the owner in its key, so one
owner's request can never reach another's record. Video ids are ULIDs, which sort by creation
time, so an owner's videos list in creation order straight from the table, paged by video id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from videos_core.errors import ServiceUnavailable
from videos_core.models.api import Order, VideoError
from videos_core.models.record import VideoRecord
from videos_core.ports import ConditionFailedError, KeyRecord, Page

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
_THROTTLED = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
UPSTREAM_ID_INDEX = "by-upstream-id"


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in values.items() if value is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def _translate(error: ClientError) -> Exception:
    code = error.response.get("Error", {}).get("Code", "")
    if code == "ConditionalCheckFailedException":
        return ConditionFailedError(str(error))
    if code in _THROTTLED:
        return ServiceUnavailable("The job store is busy; retry shortly.", retry_after=1)
    return error


class DynamoVideoRepository:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def _key(self, owner: str, video_id: str) -> dict[str, Any]:
        return to_item({"owner": owner, "video_id": video_id})

    def put_new(self, record: VideoRecord) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(record.model_dump(mode="python", exclude={"object"})),
                ConditionExpression="attribute_not_exists(video_id)",
            )
        except ClientError as e:
            raise _translate(e) from e

    def get(self, owner: str, video_id: str) -> VideoRecord | None:
        try:
            item = self._client.get_item(
                TableName=self._table, Key=self._key(owner, video_id), ConsistentRead=True
            )
        except ClientError as e:
            raise _translate(e) from e
        return VideoRecord.model_validate(from_item(item["Item"])) if "Item" in item else None

    def list(self, owner: str, limit: int, order: Order, after: str | None) -> Page:
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#owner = :owner",
            "ExpressionAttributeNames": {"#owner": "owner"},
            "ExpressionAttributeValues": to_item({":owner": owner}),
            "ScanIndexForward": order == "asc",
            # One more than asked tells whether another page follows.
            "Limit": limit + 1,
        }
        if after is not None:
            query["ExclusiveStartKey"] = self._key(owner, after)
        try:
            items = self._client.query(**query)["Items"]
        except ClientError as e:
            raise _translate(e) from e
        records = [VideoRecord.model_validate(from_item(item)) for item in items]
        return Page(records[:limit], len(records) > limit)

    def delete(self, owner: str, video_id: str) -> None:
        try:
            self._client.delete_item(TableName=self._table, Key=self._key(owner, video_id))
        except ClientError as e:
            raise _translate(e) from e

    def mark_failed(self, owner: str, video_id: str, error: VideoError, now: int) -> None:
        """Ends a job that could not be started; a no-op once it is terminal."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(owner, video_id),
                UpdateExpression="SET #status = :failed, #error = :error, completed_at = :now",
                ConditionExpression="attribute_exists(video_id) AND NOT #status IN (:completed, :failed)",
                ExpressionAttributeNames={"#status": "status", "#error": "error"},
                ExpressionAttributeValues=to_item(
                    {
                        ":failed": "failed",
                        ":completed": "completed",
                        ":error": error.model_dump(),
                        ":now": now,
                    }
                ),
            )
        except ClientError as e:
            translated = _translate(e)
            if not isinstance(translated, ConditionFailedError):
                raise translated from e


class DynamoKeyStore:
    """API keys, stored as SHA-256 hashes: `key_hash` -> owner, created, last used, revoked."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def find(self, key_hash: str) -> KeyRecord | None:
        try:
            item = self._client.get_item(TableName=self._table, Key=to_item({"key_hash": key_hash}))
        except ClientError as e:
            raise _translate(e) from e
        if "Item" not in item:
            return None
        values = from_item(item["Item"])
        return KeyRecord(owner=str(values["owner"]), revoked="revoked_at" in values)
