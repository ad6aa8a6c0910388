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
# The condition of every write to a job that has not ended yet.
_RUNNING = "attribute_exists(video_id) AND NOT #status IN (:completed, :failed)"


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

    def delete(self, owner: str, video_id: str) -> VideoRecord | None:
        try:
            old = self._client.delete_item(
                TableName=self._table, Key=self._key(owner, video_id), ReturnValues="ALL_OLD"
            ).get("Attributes")
        except ClientError as e:
            raise _translate(e) from e
        return VideoRecord.model_validate(from_item(old)) if old else None

    def find_by_upstream_id(self, upstream_id: str) -> tuple[str, str] | None:
        """(owner, video_id) of the job the upstream knows as `upstream_id`."""
        try:
            items = self._client.query(
                TableName=self._table,
                IndexName=UPSTREAM_ID_INDEX,
                KeyConditionExpression="upstream_id = :id",
                ExpressionAttributeValues=to_item({":id": upstream_id}),
            )["Items"]
        except ClientError as e:
            raise _translate(e) from e
        if not items:
            return None
        values = from_item(items[0])
        return str(values["owner"]), str(values["video_id"])

    def _update(
        self,
        owner: str,
        video_id: str,
        expression: str,
        condition: str,
        values: dict[str, Any],
        *,
        return_new: bool = False,
    ) -> dict[str, Any] | None:
        """A conditional update; None when the condition does not hold (another writer got there first)."""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=self._key(owner, video_id),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames={
                    name: value
                    for name, value in {"#status": "status", "#error": "error", "#ttl": "ttl"}.items()
                    if name in expression or name in condition
                },
                ExpressionAttributeValues=to_item(values | {":completed": "completed", ":failed": "failed"}),
                ReturnValues="ALL_NEW" if return_new else "NONE",
            )
        except ClientError as e:
            translated = _translate(e)
            if isinstance(translated, ConditionFailedError):
                return None
            raise translated from e
        return from_item(response.get("Attributes", {}))

    def update_progress(self, owner: str, video_id: str, status: str, progress: int) -> None:
        """Progress only rises, and never on a finished job."""
        self._update(
            owner,
            video_id,
            "SET #status = :status, progress = :progress",
            f"{_RUNNING} AND progress <= :progress",
            {":status": status, ":progress": progress},
        )

    def claim_finalisation(
        self, owner: str, video_id: str, claimant: str, now: int, lease_seconds: int
    ) -> bool:
        """Takes the right to store a job's files and complete it, unless someone else holds it."""
        return (
            self._update(
                owner,
                video_id,
                "SET finaliser = :me, finalise_until = :until",
                f"{_RUNNING} AND (attribute_not_exists(finaliser) OR finaliser = :me "
                "OR finalise_until < :now)",
                {":me": claimant, ":until": now + lease_seconds, ":now": now},
            )
            is not None
        )

    def release_finalisation(self, owner: str, video_id: str, claimant: str) -> None:
        """Gives up a claim after a failed attempt to store the files (a no-op if it was not ours)."""
        self._update(
            owner,
            video_id,
            "REMOVE finaliser, finalise_until",
            f"{_RUNNING} AND finaliser = :me",
            {":me": claimant},
        )

    def complete(self, record: VideoRecord, claimant: str) -> None:
        """Marks a claimed job completed with its files; ConditionFailedError if it was deleted meanwhile."""
        updated = self._update(
            record.owner,
            record.video_id,
            "SET #status = :completed, progress = :hundred, completed_at = :completed_at, "
            "expires_at = :expires_at, assets = :assets, #ttl = :ttl REMOVE finaliser, finalise_until",
            f"{_RUNNING} AND finaliser = :me",
            {
                ":hundred": 100,
                ":completed_at": record.completed_at,
                ":expires_at": record.expires_at,
                ":assets": {k: v.model_dump() for k, v in record.assets.items()},
                ":ttl": record.ttl,
                ":me": claimant,
            },
        )
        if updated is None:
            raise ConditionFailedError(f"{record.video_id} is no longer this finaliser's to complete")

    def fail(self, owner: str, video_id: str, error: VideoError, now: int, ttl: int) -> VideoRecord | None:
        """Ends a running job as failed; None when it had already ended (or is gone)."""
        values = self._update(
            owner,
            video_id,
            "SET #status = :failed, #error = :error, completed_at = :now, #ttl = :ttl",
            _RUNNING,
            {":error": error.model_dump(), ":now": now, ":ttl": ttl},
            return_new=True,
        )
        return VideoRecord.model_validate(values) if values is not None else None


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

    def touch(self, key_hash: str, now: int) -> None:
        """Records when a key was last used (at most once per key cache period, by the resolver)."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_item({"key_hash": key_hash}),
                UpdateExpression="SET last_used_at = :now",
                ConditionExpression="attribute_exists(key_hash)",
                ExpressionAttributeValues=to_item({":now": now}),
            )
        except ClientError as e:
            raise _translate(e) from e


class DynamoDeliveryLog:
    """Webhook ids received, kept (with a TTL) past the signature tolerance, so replays are refused."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def remember(self, delivery_id: str, until: int) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item({"webhook_id": delivery_id, "ttl": until}),
                ConditionExpression="attribute_not_exists(webhook_id)",
            )
        except ClientError as e:
            translated = _translate(e)
            if isinstance(translated, ConditionFailedError):
                return False
            raise translated from e
        return True

    def forget(self, delivery_id: str) -> None:
        try:
            self._client.delete_item(TableName=self._table, Key=to_item({"webhook_id": delivery_id}))
        except ClientError as e:
            raise _translate(e) from e
