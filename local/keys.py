"""API keys in the keys table: created here (shown once, stored as a SHA-256 hash), listed by a short
id, revoked; the layer resolves them to owners."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

OWNER = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
KEY_ID_CHARS = 12


def new_key() -> str:
    return "sk-" + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_id(hashed: str) -> str:
    """A key's public name: enough of its hash to tell it apart, nothing to use it with."""
    return "key_" + hashed[:KEY_ID_CHARS]


def store_key(dynamodb: Any, table: str, owner: str, key: str) -> str:
    if not OWNER.fullmatch(owner):
        raise ValueError("an owner is 1-64 letters, digits or _ . @ -")
    hashed = key_hash(key)
    dynamodb.put_item(
        TableName=table,
        Item={"key_hash": {"S": hashed}, "owner": {"S": owner}, "created_at": {"N": str(int(time.time()))}},
        ConditionExpression="attribute_not_exists(key_hash)",
    )
    return key_id(hashed)


def keep_key(dynamodb: Any, table: str, owner: str, key: str) -> None:
    """Stores `key` for `owner` unless it is stored for them already (a restart keeping its keys); a key
    stored for another owner, or revoked, is refused (ValueError)."""
    try:
        store_key(dynamodb, table, owner, key)
        return
    except dynamodb.exceptions.ConditionalCheckFailedException:
        item = dynamodb.get_item(TableName=table, Key={"key_hash": {"S": key_hash(key)}}, ConsistentRead=True)
    found = _info(item["Item"])
    if found.owner != owner:
        raise ValueError(f"the key {found.id} is another owner's")
    if found.revoked_at is not None:
        raise ValueError(f"the key {found.id} was revoked")


def create_key(dynamodb: Any, table: str, owner: str) -> str:
    key = new_key()
    store_key(dynamodb, table, owner, key)
    return key


@dataclass(frozen=True)
class KeyInfo:
    id: str
    owner: str
    created_at: int
    last_used_at: int | None
    revoked_at: int | None


def _info(item: dict[str, Any]) -> KeyInfo:
    def number(name: str) -> int | None:
        return int(item[name]["N"]) if name in item else None

    return KeyInfo(
        key_id(item["key_hash"]["S"]),
        item["owner"]["S"],
        int(item["created_at"]["N"]),
        number("last_used_at"),
        number("revoked_at"),
    )


def list_keys(dynamodb: Any, table: str) -> list[KeyInfo]:
    keys: list[KeyInfo] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        keys += [_info(item) for item in page["Items"]]
    return sorted(keys, key=lambda k: (k.owner, k.created_at))


def revoke_key(dynamodb: Any, table: str, key_or_id: str) -> KeyInfo:
    """Revokes a key given itself or its id (`key_…`, as `list` shows it)."""
    hashed = _full_hash(dynamodb, table, key_or_id) if key_or_id.startswith("key_") else key_hash(key_or_id)
    try:
        item = dynamodb.update_item(
            TableName=table,
            Key={"key_hash": {"S": hashed}},
            UpdateExpression="SET revoked_at = :now",
            ConditionExpression="attribute_exists(key_hash)",
            ExpressionAttributeValues={":now": {"N": str(int(time.time()))}},
            ReturnValues="ALL_NEW",
        )["Attributes"]
    except dynamodb.exceptions.ConditionalCheckFailedException as e:
        raise ValueError("no such key") from e
    return _info(item)


def _full_hash(dynamodb: Any, table: str, wanted: str) -> str:
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ProjectionExpression="key_hash"):
        for item in page["Items"]:
            if key_id(item["key_hash"]["S"]) == wanted:
                return str(item["key_hash"]["S"])
    raise ValueError(f"no key with id {wanted}")
