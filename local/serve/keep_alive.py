"""HTTP/1.1 keep-alive for the local AWS endpoint. werkzeug's development server closes every
connection after one request, so each AWS call of a function (or of the state machine) paid for a
new TCP connection, a new server thread and a new request parser. AWS's endpoints keep connections
open, and botocore reuses them: so does this handler.

werkzeug closes them because http.server cannot tell where an unread request body ends. Here every
request's body is read to its Content-Length before the next request is parsed; a request whose
length is not known up front (chunked) still closes its connection."""

from __future__ import annotations

import selectors
import threading
from collections.abc import Callable
from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug import serving

from local.serve.whole_answers import AnswersSentAtOnce


class _CountedInput:
    """The request body as the application reads it, within its Content-Length."""

    def __init__(self, stream: Any, length: int) -> None:
        self._stream = stream
        self.left = length

    def read(self, size: int = -1) -> bytes:
        return self._take(self._stream.read, size)

    def readline(self, size: int = -1) -> bytes:
        return self._take(self._stream.readline, size)

    def _take(self, reader: Callable[[int], bytes], size: int | None) -> bytes:
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = reader(size) if size else b""
        self.left -= len(data)
        return data

    def __iter__(self) -> Any:
        return iter(self.readline, b"")

    def drain(self) -> None:
        while self.left > 0 and self.read(min(self.left, 1 << 16)):
            pass


# Whether this thread's request has a body of known length, read to its end by the application.
_counted = threading.local()


class _NothingToDrain:
    """What werkzeug's drain of a request's unread body finds when the body was read to its end: it
    would otherwise wait up to 10 ms on the connection after every answer (a selector made, a wait,
    and one more turn for the GIL), to read nothing."""

    def register(self, *_: Any) -> None:
        pass

    def select(self, timeout: float | None = None) -> list[Any]:  # noqa: ARG002 - werkzeug names it
        return []

    def close(self) -> None:
        pass


class _DrainSelectors:
    """The `selectors` werkzeug's server sees."""

    EVENT_READ = selectors.EVENT_READ

    @staticmethod
    def DefaultSelector() -> Any:  # noqa: N802 - selectors' own name
        return _NothingToDrain() if getattr(_counted, "body", False) else selectors.DefaultSelector()


serving.selectors = _DrainSelectors  # type: ignore[assignment,attr-defined]


class KeepAliveRequestHandler(AnswersSentAtOnce, MotoRequestHandler):
    """moto's request handler, with connections kept open between requests."""

    _body: _CountedInput | None = None

    def run_wsgi(self) -> None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self._body = None
            super().run_wsgi()
            self.close_connection = True
            return
        # The application reads the body through this, and so does werkzeug's drain of "whatever the
        # client sent past the response": it stops at the body's end, not in the next request.
        connection_file = self.rfile
        self._body = _CountedInput(connection_file, int(self.headers.get("Content-Length") or 0))
        self.rfile = self._body  # type: ignore[assignment]
        _counted.body = True
        try:
            super().run_wsgi()
        finally:
            _counted.body = False
            self.rfile = connection_file
        self._body.drain()

    def send_header(self, keyword: str, value: str) -> None:
        # werkzeug asks for every connection to close; one whose body is known to end stays open.
        if keyword.lower() == "connection" and value.lower() == "close" and self._body is not None:
            return
        super().send_header(keyword, value)
