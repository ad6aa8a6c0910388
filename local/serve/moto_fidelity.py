"""What DynamoDB guarantees and moto's server does not: a conditional write is atomic, and a
transaction is isolated from other writes. moto checks a condition and then writes, with no lock in
between, and restores a failed transaction's tables from a copy taken before it; on its threaded
server two racing writers can therefore both pass one condition, or a restore can undo another
request's write. An update also sets its attributes one by one, so a read in the middle saw half of it
(a job `failed` with no `error` yet), where DynamoDB's reads see an item whole. The service relies on
those guarantees (a job is finalised once, a quota slot is taken once, a terminal record has its
error), so the local endpoint runs its DynamoDB writes, and the reads with their answers' rendering,
under one lock."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
# Handlers, not the backend's methods: an answer is rendered from the live items after the backend
# returns them.
_READS = ("get_item", "batch_get_item", "query", "scan", "transact_get_items")


def make_dynamodb_atomic() -> None:
    if getattr(DynamoDBBackend, "_atomic_writes", False):
        return
    lock = _WriteLock()
    for owner, names in ((DynamoDBBackend, _WRITES), (DynamoHandler, _READS)):
        for name in names:
            setattr(owner, name, _under(lock, getattr(owner, name)))
    DynamoDBBackend._atomic_writes = True  # type: ignore[attr-defined]


def _under(lock: _WriteLock, method: Any) -> Any:
    @functools.wraps(method)
    def atomic(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock.held():
            return method(self, *args, **kwargs)

    return atomic


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
