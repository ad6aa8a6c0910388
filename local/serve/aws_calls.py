"""The local AWS endpoint's count of the API calls it serves, by caller (the access key: each function
signs with its own) and by service and operation: what a job costs in requests (and, on AWS, in
money and latency). `GET /_calls` shows the counts, `DELETE /_calls` starts them again. Calls signed
with the observer's key (the tests' and the provisioning's own) are not the service's, and are not
counted: the fault middleware, which tells it the calls, leaves them out."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from local.serve.aws_faults import AwsCall

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class AwsCallCount:
    """Told each call by the fault middleware (`count`), which knows them; answers `/_calls` in front
    of the endpoint (`serving`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def count(self, key: str, call: AwsCall) -> None:
        with self._lock:
            self._counts[(key, f"{call.service}:{call.operation}")] += 1

    def serving(self, app: WsgiApp) -> WsgiApp:
        def with_calls(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if environ.get("PATH_INFO") != "/_calls":
                return app(environ, start_response)
            status, answer = "200 OK", b""
            if environ["REQUEST_METHOD"] == "GET":
                by_caller: dict[str, dict[str, int]] = {}
                with self._lock:
                    for (caller, call), count in sorted(self._counts.items()):
                        by_caller.setdefault(caller, {})[call] = count
                answer = json.dumps({"calls": by_caller}).encode()
            elif environ["REQUEST_METHOD"] == "DELETE":
                with self._lock:
                    self._counts.clear()
                status = "204 No Content"
            else:
                status = "405 Method Not Allowed"
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))]
            start_response(status, headers)
            return [answer]

        return with_calls
