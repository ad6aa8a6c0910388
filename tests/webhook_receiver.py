"""A webhook endpoint for tests: records every delivery; can be told to refuse the next N, and to echo
a field of a delivery back (a provider's challenge)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: bytes
    answered: int
    # When it came (time.monotonic()), for the deliveries' benchmark.
    came_at: float = field(default_factory=time.monotonic)


def _echo(body: bytes, field: str | None) -> bytes:
    """`{field: value}` for a JSON body carrying `field`; nothing otherwise."""
    try:
        event = json.loads(body)
    except ValueError:
        return b""
    found = isinstance(event, dict) and field is not None and field in event
    return json.dumps({field: event[field]}).encode() if found else b""


class WebhookReceiver:
    def __init__(self, echo: str | None = None) -> None:
        """`echo`: a field of a delivery's body answered back as `{echo: value}`."""
        self.deliveries: list[Delivery] = []
        self.refuse_next = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver._lock:
                    status = 503 if receiver.refuse_next > 0 else 200
                    receiver.refuse_next = max(0, receiver.refuse_next - 1)
                    receiver.deliveries.append(
                        Delivery({k.lower(): v for k, v in self.headers.items()}, body, status)
                    )
                answer = _echo(body, echo) if status == 200 else b""
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def for_video(self, video_id: str, timeout: float = 30.0, count: int = 1) -> list[Delivery]:
        """Waits for `count` deliveries about `video_id` that were answered 2xx."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = [d for d in self.deliveries if video_id.encode() in d.body]
            if sum(d.answered == 200 for d in found) >= count:
                return found
            time.sleep(0.05)
        raise TimeoutError(f"no webhook for {video_id} within {timeout}s")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
