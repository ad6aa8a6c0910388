"""The local endpoint's lock on DynamoDB writes: one writer at a time, reentrant for a transaction's
own writes, and every waiting writer gets its turn."""

from __future__ import annotations

import threading
import time

from local.serve.moto_fidelity import _WriteLock

WRITERS = 8
ROUNDS = 200


def test_one_writer_at_a_time_and_every_writer_gets_its_turn() -> None:
    lock, inside, most_inside, done = _WriteLock(), [0], [0], []

    def write(n: int) -> None:
        for _ in range(ROUNDS):
            with lock.held():
                inside[0] += 1
                most_inside[0] = max(most_inside[0], inside[0])
                time.sleep(0)  # another thread runs here, and must not get in
                inside[0] -= 1
        done.append(n)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(done) == list(range(WRITERS)), "a writer never got the lock back"
    assert most_inside[0] == 1


def test_a_writer_holding_the_lock_takes_it_again_and_keeps_it_until_its_outermost_release() -> None:
    lock, got_in = _WriteLock(), threading.Event()

    def other() -> None:
        with lock.held():
            got_in.set()

    with lock.held():
        with lock.held():
            pass
        waiting = threading.Thread(target=other)
        waiting.start()
        assert not got_in.wait(0.2), "the lock was free while its holder still held it"
    assert got_in.wait(5)
    waiting.join()
