"""API keys in the keys table: created here (shown once, stored as a SHA-256 hash), resolved by the layer."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from typing import Any

OWNER = re.compile(r"[A-Za-z0-9_.@-]{1,64}")


def new_key() -> str:
    return "sk-" + secrets.token_urlsafe(32)


def store_key(dynamodb: Any, table: str, owner: str, key: str) -> None:
    if not OWNER.fullmatch(owner):
        raise ValueError("an owner is 1-64 letters, digits or _ . @ -")
    dynamodb.put_item(
        TableName=table,
        Item={
            "key_hash": {"S": hashlib.sha256(key.encode()).hexdigest()},
            "owner": {"S": owner},
            "created_at": {"N": str(int(time.time()))},
        },
        ConditionExpression="attribute_not_exists(key_hash)",
    )


def create_key(dynamodb: Any, table: str, owner: str) -> str:
    key = new_key()
    store_key(dynamodb, table, owner, key)
    return key
