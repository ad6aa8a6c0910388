"""The local endpoints' connections: kept open between requests, answers sent whole and at once,
`100 Continue` sent before an upload's body."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from local.serve.aws_endpoint import FAST_PATH_SWITCH, LocalAws
from local.serve.whole_answers import AnswersSentAtOnce, _AnswerWriter
from tests.integration.local.conftest import running_endpoint


def test_an_answer_is_kept_until_it_is_flushed_then_sent_in_one_piece() -> None:
    server_side, client_side = socket.socketpair()
    with server_side, client_side:
        writer = _AnswerWriter(server_side)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n")
        writer.write(memoryview(b"body"))
        client_side.setblocking(False)
        with pytest.raises(BlockingIOError):
            client_side.recv(100)
        writer.flush()
        assert client_side.recv(100) == b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody"


def test_100_continue_leaves_at_once() -> None:
    server_side, client_side = socket.socketpair()
    with server_side, client_side:
        _AnswerWriter(server_side).write(b"HTTP/1.1 100 Continue\r\n\r\n")
        client_side.settimeout(5)
        assert client_side.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"


class _Probe(AnswersSentAtOnce, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = str(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def probe() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Probe)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_a_handlers_socket_sends_without_waiting_for_acknowledgements(probe: int) -> None:
    with socket.create_connection(("127.0.0.1", probe), timeout=5) as connection:
        for _ in range(2):  # the same connection, twice
            connection.sendall(b"GET / HTTP/1.1\r\nHost: probe\r\n\r\n")
            assert read_answer(connection).endswith(b"\r\n\r\n1")


def read_answer(connection: socket.socket) -> bytes:
    """One answer with a Content-Length, whole, after any interim (1xx) answers."""
    data = b""
    while True:
        while b"\r\n\r\n" not in data:
            data += connection.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 1"):
            break
        data = body
    length = int(
        next(
            line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        )
    )
    while len(body) < length:
        body += connection.recv(65536)
    return head + b"\r\n\r\n" + body


@pytest.fixture(scope="module")
def kept_open() -> Iterator[LocalAws]:
    """An endpoint with its fast path on (kept-open connections), whatever the tests' environment."""
    with running_endpoint(**{FAST_PATH_SWITCH: "on"}) as endpoint:
        yield endpoint


def test_the_aws_endpoint_asks_for_an_uploads_body_then_serves_the_next_request_on_its_connection(
    kept_open: LocalAws,
) -> None:
    aws = kept_open
    aws.client("s3").create_bucket(Bucket="continued")
    put = (
        b"PUT /continued/object HTTP/1.1\r\nHost: s3.amazonaws.com\r\nContent-Length: 5\r\n"
        b"Authorization: AWS4-HMAC-SHA256 Credential=observer/20261206/us-east-1/s3/aws4_request, "
        b"SignedHeaders=host, Signature=0\r\nExpect: 100-continue\r\n\r\n"
    )
    with socket.create_connection((aws.host, aws.port), timeout=5) as connection:
        for body in (b"first", b"again"):
            connection.sendall(put)
            assert connection.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n"), "no 100 Continue"
            connection.sendall(body)
            answer = read_answer(connection)
            assert answer.startswith(b"HTTP/1.1 200"), answer
    stored = aws.client("s3").get_object(Bucket="continued", Key="object")["Body"].read()
    assert stored == b"again"
