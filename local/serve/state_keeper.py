"""Keeps the local AWS endpoint's state on disk while it serves (`local.serve.aws_state` says what and
how): a WSGI middleware in front of moto and the local AppConfig that notes which kept services each
call changes, and a thread that writes a snapshot at most once a second while they change, plus a last
one when the endpoint stops. A snapshot is taken between requests: new requests wait while it is
captured in memory (tens of milliseconds for a thousand videos), and it is written to disk after they
go on. A crash therefore loses at most the last second or so of writes, never what was written before.

`POST /_state` puts the kept state into the resources the endpoint was just given (the parent calls it
once provisioning is done) and only then starts the snapshots, so that the freshly made, empty
resources are never written over what was kept."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from local.serve.appconfig import AppConfig
from local.serve.aws_calls import WsgiApp
from local.serve.aws_faults import identify
from local.serve.aws_state import KEPT_SERVICES, AwsState, UnreadableStateError

# At most one snapshot in this many seconds while calls change the state.
SNAPSHOT_INTERVAL_SECONDS = 1.0
# How long a snapshot waits for the requests in flight to end before it tries again later: a request
# that waits on another (an AppConfig validator's function calling AWS) must not hold every other one.
PAUSE_WAIT_SECONDS = 0.25
# A stop waits longer: it is the last chance to keep what the last second changed.
FINAL_PAUSE_WAIT_SECONDS = 2.0
# Operations by these verbs read; every other call to a kept service changes it.
_READS = ("Get", "Head", "List", "Describe", "Query", "Scan", "BatchGet")

log = logging.getLogger(__name__)


class _Gate:
    """Requests pass in any number; a pause lets no new one in and waits for those inside to leave."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._inside = 0
        self._paused = False

    @contextlib.contextmanager
    def passing(self) -> Iterator[None]:
        with self._changed:
            while self._paused:
                self._changed.wait()
            self._inside += 1
        try:
            yield
        finally:
            with self._changed:
                self._inside -= 1
                self._changed.notify_all()

    @contextlib.contextmanager
    def paused(self, wait: float) -> Iterator[bool]:
        """Yields whether every request left within `wait` seconds (the pause holds only then)."""
        with self._changed:
            self._paused = True
            quiet = self._changed.wait_for(lambda: self._inside == 0, timeout=wait)
            if not quiet:
                self._paused = False
                self._changed.notify_all()
        try:
            yield quiet
        finally:
            if quiet:
                with self._changed:
                    self._paused = False
                    self._changed.notify_all()


class StateKeeper:
    def __init__(self, app: WsgiApp, state: AwsState, appconfig: AppConfig) -> None:
        self._app = app
        self._state = state
        self._appconfig = appconfig
        self._gate = _Gate()
        self._lock = threading.Lock()
        self._changed: set[str] = set()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/_state":
            return self._restore(environ, start_response)
        # The body is read before the request goes in, so that a slow upload holds no snapshot up.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        with self._gate.passing():
            answer = self._app(environ, start_response)
        changed = _changes(environ, body)
        if changed is not None:
            with self._lock:
                self._changed.add(changed)
            self._wake.set()
        return answer

    def stop(self) -> None:
        """Writes what changed since the last snapshot, once the requests in flight end."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()

    def _restore(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] != "POST" or self._thread is not None:
            start_response("409 Conflict", [("Content-Type", "application/json")])
            return [b'{"message": "The state is restored once, by POST, when the endpoint starts."}']
        started = time.monotonic()
        try:
            restored = self._state.restore(self._appconfig)
        except UnreadableStateError as e:
            start_response("500 Internal Server Error", [("Content-Type", "application/json")])
            return [json.dumps({"message": str(e)}).encode()]
        self._thread = threading.Thread(target=self._keep, name="aws-state", daemon=True)
        self._thread.start()
        answer = json.dumps({"restored": restored, "seconds": round(time.monotonic() - started, 3)})
        start_response("200 OK", [("Content-Type", "application/json")])
        return [answer.encode()]

    def _keep(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait()
            if self._stopping.wait(SNAPSHOT_INTERVAL_SECONDS):
                break
            self._snapshot(PAUSE_WAIT_SECONDS)
        self._snapshot(FINAL_PAUSE_WAIT_SECONDS)

    def _snapshot(self, wait: float) -> None:
        with self._lock:
            self._wake.clear()
            changed, self._changed = frozenset(self._changed), set()
        if not changed:
            return
        with self._gate.paused(wait) as quiet:
            captured = self._state.capture(self._appconfig, changed) if quiet else None
        if captured is None:
            with self._lock:  # tried again on the next round
                self._changed |= changed
            self._wake.set()
            return
        try:
            self._state.write(captured)
        except OSError:
            log.exception("the local AWS state could not be written to %s", self._state.directory)
            with self._lock:
                self._changed |= KEPT_SERVICES
            self._wake.set()


def _changes(environ: dict[str, Any], body: bytes) -> str | None:
    """The kept service a call changes, if it may change one."""
    identified = identify(environ, body if environ.get("HTTP_X_AMZ_TARGET") else None)
    if identified is None:
        return None
    call = identified[1]
    if call.service not in KEPT_SERVICES or call.operation.startswith(_READS):
        return None
    return call.service
