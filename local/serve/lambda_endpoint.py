"""The Lambda service's Invoke API for the state machine's tasks: the local AWS endpoint runs in a
process of its own, and its Lambda tasks come back here, to the function workers."""

from __future__ import annotations

import json
import re
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from local.serve.limits import PayloadTooLargeError
from local.serve.whole_answers import AnswersSentAtOnce
from local.serve.workers import Invocation

LambdaDispatcher = Callable[[str, Any], Invocation]

_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A caller gone before its answer (the AWS endpoint stopped first, at a stop) is no error here."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LambdaEndpoint:
    """`POST /2015-03-31/functions/{name}/invocations` (RequestResponse), answered by `dispatch`: the
    function's result as the payload, or its error with `X-Amz-Function-Error: Unhandled`."""

    def __init__(self, host: str, dispatch: LambdaDispatcher) -> None:
        self._server = _Server((host, 0), _handler(dispatch))
        self.url = f"http://{host}:{self._server.server_address[1]}"
        # A short poll: a stop waits for the loop to notice it.
        threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name="lambda-endpoint", daemon=True
        ).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(dispatch: LambdaDispatcher) -> type[BaseHTTPRequestHandler]:
    class Invoke(AnswersSentAtOnce, BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            found = _INVOKE_PATH.match(self.path.split("?", 1)[0])
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if found is None:
                self._answer(404, {"Type": "User", "message": f"no route for {self.path}"})
                return
            try:
                event = json.loads(body) if body else {}
            except ValueError:
                self._answer(400, {"Type": "User", "message": "the payload is not JSON"})
                return
            name = unquote(found["name"])
            try:
                invocation = dispatch(name, event)
            except PayloadTooLargeError as e:
                refused = {"X-Amzn-ErrorType": "RequestEntityTooLargeException"}
                self._answer(413, {"Type": "User", "message": str(e)}, refused)
                return
            except KeyError:
                self._answer(
                    404,
                    {"Type": "User", "message": f"Function not found: {name}"},
                    {"X-Amzn-ErrorType": "ResourceNotFoundException"},
                )
                return
            if invocation.error is not None:
                self._answer(200, invocation.error, {"X-Amz-Function-Error": "Unhandled"})
            else:
                self._answer(200, invocation.result)

        def _answer(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Invoke
