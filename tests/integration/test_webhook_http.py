"""One delivery of a tenant's webhook over real HTTP to receivers on this machine: signed as the openai
SDK's `client.webhooks.unwrap()` accepts (under each secret a rotation keeps); refused before any
connection when the host resolves to an address it may not reach; no redirect followed; a slow answer
cut at the time limit and a huge one read no further than 64 KiB."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from openai import OpenAI

from tests.webhook_receiver import WebhookReceiver
from videos_core.adapters.webhook_http import MAX_ANSWER_BYTES, post
from videos_core.signing import delivery_headers, event_body, new_secret


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    made = WebhookReceiver()
    yield made
    made.close()


# The huge answer's 16 KiB chunks: 64 MiB, more than the loopback sockets' buffers hold.
HUGE_CHUNKS = 4096


class _Misbehaving:
    """A receiver that answers every POST with a redirect, slowly, or with far too much."""

    def __init__(self, behaviour: str) -> None:
        self.sent = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", "0")))
                if behaviour == "redirect":
                    self.send_response(307)
                    self.send_header("location", "http://169.254.169.254/latest/meta-data")
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.end_headers()
                size = 1024 if behaviour == "slow" else 16_384  # the slow one: 20 KiB over 2 s
                for _ in range(HUGE_CHUNKS if behaviour == "huge" else 20):
                    try:
                        self.wfile.write(b"x" * size)
                        self.wfile.flush()
                    except OSError:
                        return
                    outer.sent += size
                    if behaviour == "slow":
                        time.sleep(0.1)

            def log_message(self, *args: object) -> None:
                pass

        outer = self
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_delivery_verifies_with_the_openai_sdk_under_each_kept_secret(receiver: WebhookReceiver) -> None:
    old, new = new_secret(), new_secret()
    body = event_body("evt_1", "video.completed", "vid_01", int(time.time()))

    attempt = post(
        receiver.url, body, delivery_headers([new, old], "wh_1", int(time.time()), body), allow_loopback=True
    )

    assert (attempt.delivered, attempt.status) == (True, 200)
    (delivery,) = receiver.deliveries
    with OpenAI(api_key="unused") as sdk:
        for secret in (new, old):
            event = sdk.webhooks.unwrap(delivery.body, delivery.headers, secret=secret)
            seen = event.model_dump()  # this SDK's event union has no video type: read as sent
            assert (seen["type"], seen["id"], seen["data"]["id"]) == ("video.completed", "evt_1", "vid_01")


def test_loopback_is_refused_unless_allowed_literally_and_through_a_name(receiver: WebhookReceiver) -> None:
    body = b"{}"

    literal = post(receiver.url, body, {}, allow_loopback=False)
    named = post(
        receiver.url.replace("127.0.0.1", "hooks.example.com").replace("http:", "https:"),
        body,
        {},
        allow_loopback=False,
        resolver=lambda _host, _port: [ipaddress.ip_address("127.0.0.1")],
    )

    assert literal.failure is not None
    assert "https" in literal.failure
    assert named.failure is not None
    assert "hooks.example.com resolves to 127.0.0.1" in named.failure
    assert receiver.deliveries == []


@pytest.mark.parametrize(
    "address", ["10.0.0.7", "169.254.169.254", "100.64.1.1", "::ffff:192.168.0.1", "fd00::7", "224.0.0.9"]
)
def test_a_name_resolving_to_an_address_it_may_not_reach_is_refused(address: str) -> None:
    attempt = post(
        "https://hooks.example.com/hook",
        b"{}",
        {},
        allow_loopback=False,
        resolver=lambda _host, _port: [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address(address)],
    )

    assert attempt.failure is not None
    assert f"resolves to {ipaddress.ip_address(address)}," in attempt.failure


def test_a_redirect_is_not_followed() -> None:
    redirecting = _Misbehaving("redirect")
    try:
        attempt = post(redirecting.url, b"{}", {}, allow_loopback=True)
    finally:
        redirecting.close()

    assert (attempt.delivered, attempt.status) == (False, 307)
    assert attempt.failure is not None
    assert "not followed" in attempt.failure


def test_a_slow_answer_is_cut_at_the_time_limit() -> None:
    slow = _Misbehaving("slow")
    try:
        attempt = post(slow.url, b"{}", {}, allow_loopback=True, timeout=0.5)
    finally:
        slow.close()

    assert attempt.failure is not None
    assert "within 0.5 s" in attempt.failure
    assert attempt.seconds < 1.5


def test_a_huge_answer_is_read_no_further_than_its_first_64_kib() -> None:
    huge = _Misbehaving("huge")
    try:
        attempt = post(huge.url, b"{}", {}, allow_loopback=True)
    finally:
        huge.close()

    assert (attempt.delivered, attempt.status) == (True, 200)
    # 64 MiB offered: the rest, beyond what the sockets' buffers took, was never read (the connection closed).
    assert huge.sent < HUGE_CHUNKS * 16_384
    assert MAX_ANSWER_BYTES == 64 * 1024
