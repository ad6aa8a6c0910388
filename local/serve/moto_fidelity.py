"""What DynamoDB guarantees and moto's server does not: a conditional write is atomic, and a
transaction is isolated from other writes. moto checks a condition and then writes, with no lock in
between, and restores a failed transaction's tables from a copy taken before it; on its threaded
server two racing writers can therefore both pass one condition, or a restore can undo another
request's write. The service relies on those guarantees (a job is finalised once, a quota slot is
taken once), so the local endpoint gives its DynamoDB writes one lock."""

from __future__ import annotations

import functools
import threading
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")


def make_dynamodb_writes_atomic() -> None:
    if getattr(DynamoDBBackend, "_atomic_writes", False):
        return
    lock = threading.RLock()
    for name in _WRITES:
        write = getattr(DynamoDBBackend, name)

        @functools.wraps(write)
        def atomic(self: DynamoDBBackend, *args: Any, _write: Any = write, **kwargs: Any) -> Any:
            with lock:
                return _write(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, atomic)
    DynamoDBBackend._atomic_writes = True  # type: ignore[attr-defined]
