"""Video records and API keys in DynamoDB.

Videos are keyed by (owner, video_id): every read and write names the owner in its key, so one
owner's request can never reach another's record. Video ids are ULIDs, which sort by creation
time, so an owner's videos list in creation order straight from the table, paged by video id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from videos_core.adapters.aws import error_of
from videos_core.models.api import Order
from videos_core.models.record import VideoRecord
from videos_core.ports import ConditionFailedError, DeliveryState, KeyRecord, Page

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
T = TypeVar("T")
UPSTREAM_ID_INDEX = "by-upstream-id"
# The condition of every write to a job that has not ended yet.
RUNNING = "attribute_exists(video_id) AND NOT #status IN (:completed, :failed)"
TERMINAL_VALUES = {":completed": {"S": "completed"}, ":failed": {"S": "failed"}}


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in values.items() if value is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def query_page(
    client: Any, query: dict[str, Any], limit: int, start: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], bool]:
    """One page of a Query: at most `limit` items, after the item keyed `start` when given, and whether
    another page follows (one more item than asked is read to tell)."""
    asked = query | {"Limit": limit + 1} | ({"ExclusiveStartKey": start} if start is not None else {})
    try:
        items: list[dict[str, Any]] = client.query(**asked)["Items"]
    except (ClientError, BotoCoreError) as e:
        raise store_error(e) from e
    return items[:limit], len(items) > limit


def if_condition_holds(call: Callable[[], T]) -> T | None:
    """`call()`'s result; None when its condition did not hold (another writer got there first)."""
    try:
        return call()
    except (ClientError, BotoCoreError) as e:
        translated = store_error(e)
        if isinstance(translated, ConditionFailedError):
            return None
        raise translated from e


def store_error(error: ClientError | BotoCoreError) -> Exception:
    """The domain's error for a failed DynamoDB call (a failed condition: ConditionFailedError)."""
    if isinstance(error, ClientError) and error.response.get("Error", {}).get("Code") == (
        "ConditionalCheckFailedException"
    ):
        return ConditionFailedError(str(error))
    return error_of(error, "The job store")


def transact(client: DynamoDBClient, items: list[dict[str, Any]]) -> list[str | None]:
    """Writes `items` in one transaction: nothing when it was written, else why each item cancelled it
    (a condition that did not hold: "ConditionalCheckFailed")."""
    try:
        client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise store_error(e) from e
        return [reason.get("Code") for reason in e.response.get("CancellationReasons", [])]
    except BotoCoreError as e:
        raise store_error(e) from e
    return []


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
        except (ClientError, BotoCoreError) as e:
            raise store_error(e) from e

    def get(self, owner: str, video_id: str) -> VideoRecord | None:
        try:
            item = self._client.get_item(
                TableName=self._table, Key=self._key(owner, video_id), ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as e:
            raise store_error(e) from e
        return VideoRecord.model_validate(from_item(item["Item"])) if "Item" in item else None

    def list(self, owner: str, limit: int, order: Order, after: str | None) -> Page:
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#owner = :owner",
            "ExpressionAttributeNames": {"#owner": "owner"},
            "ExpressionAttributeValues": to_item({":owner": owner}),
            "ScanIndexForward": order == "asc",
        }
        start = self._key(owner, after) if after is not None else None
        items, has_more = query_page(self._client, query, limit, start)
        return Page([VideoRecord.model_validate(from_item(item)) for item in items], has_more)

    def delete_ended(self, owner: str, video_id: str) -> None:
        """Deletes the record of a job that has ended (a running one ends through JobEnds)."""
        if_condition_holds(
            lambda: self._client.delete_item(
                TableName=self._table,
                Key=self._key(owner, video_id),
                ConditionExpression="#status IN (:completed, :failed)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=TERMINAL_VALUES,
            )
        )

    def find_by_upstream_id(self, upstream_id: str) -> tuple[str, str] | None:
        """(owner, video_id) of the job the upstream knows as `upstream_id`."""
        try:
            items = self._client.query(
                TableName=self._table,
                IndexName=UPSTREAM_ID_INDEX,
                KeyConditionExpression="upstream_id = :id",
                ExpressionAttributeValues=to_item({":id": upstream_id}),
            )["Items"]
        except (ClientError, BotoCoreError) as e:
            raise store_error(e) from e
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
        returns: Literal["NONE", "UPDATED_NEW"] = "NONE",
    ) -> dict[str, Any] | None:
        """A conditional update, with the attributes `returns` asks for; None when the condition does
        not hold (another writer got there first)."""
        response = if_condition_holds(
            lambda: self._client.update_item(
                TableName=self._table,
                Key=self._key(owner, video_id),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ReturnValues=returns,
                ExpressionAttributeNames={
                    name: value
                    for name, value in {"#status": "status", "#error": "error", "#ttl": "ttl"}.items()
                    if name in expression or name in condition
                },
                ExpressionAttributeValues=to_item(values | {":completed": "completed", ":failed": "failed"}),
            )
        )
        return None if response is None else from_item(response.get("Attributes", {}))

    def update_progress(self, owner: str, video_id: str, status: str, progress: int) -> None:
        """Progress only rises, and never on a finished job."""
        self._update(
            owner,
            video_id,
            "SET #status = :status, progress = :progress",
            f"{RUNNING} AND progress <= :progress",
            {":status": status, ":progress": progress},
        )

    def claim_finalisation(
        self, owner: str, video_id: str, claimant: str, now: int, until: int
    ) -> int | None:
        """Takes the right to store a job's files and complete it until `until`, unless another
        holds it (a claim lapses at its `until`: a holder that died frees it by then). The claim's
        number among the job's claims (1: no attempt came before), or None when not taken."""
        claimed = self._update(
            owner,
            video_id,
            "SET finaliser = :me, finalise_until = :until ADD finalise_claims :one",
            f"{RUNNING} AND (attribute_not_exists(finaliser) OR finaliser = :me OR finalise_until < :now)",
            {":me": claimant, ":until": until, ":now": now, ":one": 1},
            returns="UPDATED_NEW",
        )
        return None if claimed is None else int(claimed["finalise_claims"])

    def release_finalisation(self, owner: str, video_id: str, claimant: str) -> None:
        """Gives up a claim after a failed attempt to store the files (a no-op if it was not ours)."""
        self._update(
            owner,
            video_id,
            "REMOVE finaliser, finalise_until",
            f"{RUNNING} AND finaliser = :me",
            {":me": claimant},
        )

    def renew_finalisation(self, owner: str, video_id: str, claimant: str, until: int) -> bool:
        """Extends a claim still held; False when it was lost (taken over, or the job ended)."""
        return (
            self._update(
                owner,
                video_id,
                "SET finalise_until = :until",
                f"{RUNNING} AND finaliser = :me",
                {":me": claimant, ":until": until},
            )
            is not None
        )


class DynamoKeyStore:
    """API keys, stored as SHA-256 hashes: `key_hash` -> owner, created, last used, revoked."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def find(self, key_hash: str) -> KeyRecord | None:
        try:
            item = self._client.get_item(TableName=self._table, Key=to_item({"key_hash": key_hash}))
        except (ClientError, BotoCoreError) as e:
            raise store_error(e) from e
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
                # Stated, not left to the default: the grant holds only for a request that says NONE
                # (IAM judges the parameter as sent, and an absent one matches no StringEquals).
                ReturnValues="NONE",
            )
        except (ClientError, BotoCoreError) as e:
            raise store_error(e) from e


class DynamoDeliveryLog:
    """Webhook deliveries, each `in_flight` while one invocation applies it (under a lease no longer
    than that invocation's own time) and `applied` after, kept (with a TTL) past the signature
    tolerance: a repeat of an applied one changes nothing, and one in flight is answered "later"."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def _key(self, delivery_id: str) -> dict[str, Any]:
        return to_item({"webhook_id": delivery_id})

    def begin(
        self, delivery_id: str, holder: str, now: int, until: int, remember_until: int
    ) -> DeliveryState:
        """ "new" when `holder` now applies the delivery (none had, or its holder's lease lapsed);
        otherwise the state another left it in."""
        taken = if_condition_holds(
            lambda: self._client.put_item(
                TableName=self._table,
                Item=to_item(
                    {
                        "webhook_id": delivery_id,
                        "state": "in_flight",
                        "holder": holder,
                        "lease_until": until,
                        "ttl": remember_until,
                    }
                ),
                ConditionExpression="attribute_not_exists(webhook_id) OR "
                "(#state = :in_flight AND lease_until < :now)",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=to_item({":in_flight": "in_flight", ":now": now}),
            )
        )
        if taken is not None:
            return "new"
        try:
            item = self._client.get_item(
                TableName=self._table, Key=self._key(delivery_id), ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as e:
            raise store_error(e) from e
        # Gone between the two calls (its holder gave it up): in flight for the sender's next try.
        return "applied" if from_item(item.get("Item", {})).get("state") == "applied" else "in_flight"

    def applied(self, delivery_id: str, holder: str) -> None:
        if_condition_holds(
            lambda: self._client.update_item(
                TableName=self._table,
                Key=self._key(delivery_id),
                UpdateExpression="SET #state = :applied REMOVE holder, lease_until",
                ConditionExpression="holder = :me",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=to_item({":me": holder, ":applied": "applied"}),
            )
        )

    def forget(self, delivery_id: str, holder: str) -> None:
        """Gives a delivery that was not applied back, so the sender's next try applies it."""
        if_condition_holds(
            lambda: self._client.delete_item(
                TableName=self._table,
                Key=self._key(delivery_id),
                ConditionExpression="holder = :me",
                ExpressionAttributeValues=to_item({":me": holder}),
            )
        )
