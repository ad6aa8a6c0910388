"""What DynamoDB guarantees and moto's server does not: a conditional write is atomic, and a
transaction is isolated from other writes. moto checks a condition and then writes, with no lock in
between, and restores a failed transaction's tables from a copy taken before it; on its threaded
server two racing writers can therefore both pass one condition, or a restore can undo another
request's write. The service relies on those guarantees (a job is finalised once, a quota slot is
taken once), so the local endpoint gives its DynamoDB writes one lock."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")


def make_dynamodb_writes_atomic() -> None:
    if getattr(DynamoDBBackend, "_atomic_writes", False):
        return
    lock = _WriteLock()
    for name in _WRITES:
        write = getattr(DynamoDBBackend, name)

        @functools.wraps(write)
        def atomic(self: DynamoDBBackend, *args: Any, _write: Any = write, **kwargs: Any) -> Any:
            with lock.held():
                return _write(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, atomic)
    DynamoDBBackend._atomic_writes = True  # type: ignore[attr-defined]


class _WriteLock:
    """A reentrant lock that a thread takes only while it runs. A thread blocked on a plain lock owns it
    as soon as it is released, and then waits for the GIL before it can write anything: under load
    every handoff held all DynamoDB writes up for a switch interval (5 ms), and the writes queued for
    ~65 ms each behind ~1 ms of work. Here a released lock is taken by whichever thread asks next
    while running; a waiting thread is woken to try again, owning nothing while it waits for the GIL."""

    def __init__(self) -> None:
        self._owned = threading.Lock()
        self._freed = threading.Condition()
        self._depth = threading.local()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        depth = getattr(self._depth, "n", 0)
        if depth == 0:
            self._acquire()
        self._depth.n = depth + 1
        try:
            yield
        finally:
            self._depth.n = depth
            if depth == 0:
                self._release()

    def _acquire(self) -> None:
        if self._owned.acquire(blocking=False):
            return
        with self._freed:
            while not self._owned.acquire(blocking=False):
                self._freed.wait()

    def _release(self) -> None:
        self._owned.release()
        with self._freed:
            self._freed.notify()
