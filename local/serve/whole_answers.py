"""Answers that leave a kept-open connection whole and at once, for the local endpoints built on
http.server (the AWS endpoint's and the Lambda endpoint's request handlers)."""

from __future__ import annotations

import socket
from socketserver import StreamRequestHandler


class _AnswerWriter:
    """A connection's writes, kept until a flush sends them in one piece (http.server flushes after
    each request; werkzeug after each answer). `100 Continue`, which werkzeug writes to a request
    that expects it (S3's uploads) and does not flush, is sent at once: the client waits for it."""

    def __init__(self, connection: socket.socket) -> None:
        self._connection = connection
        self._kept: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | memoryview) -> int:
        data = bytes(data)
        self._kept.append(data)
        if data.startswith(b"HTTP/1.1 100 "):
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._kept:
            data, self._kept = b"".join(self._kept), []
            self._connection.sendall(data)

    def close(self) -> None:
        self._kept.clear()
        self.closed = True


class AnswersSentAtOnce(StreamRequestHandler):
    """A request handler whose answers leave whole, as soon as they are complete. http.server writes
    an answer's headers, then its body: on a connection kept open, Nagle's algorithm held the body
    back until the client acknowledged the headers, which Linux delays by 40 ms, so every AWS call
    and every Lambda invocation of the state machine waited 40 ms. Here an answer is sent in one
    write (one system call, one wait for the GIL after it), on a socket that sends without delay."""

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.wfile = _AnswerWriter(self.connection)  # type: ignore[assignment]
