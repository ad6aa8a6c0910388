"""Serves the playground's static files at `/` and `/playground/…`, and its configuration: the
development key. Everything else the page knows (models, lengths, sizes, limits, prices) it reads from
the API, `GET /v1/videos/models`, so that it has no copy of its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

STATIC = Path(__file__).parent / "static"
PREFIX = "/playground/"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


def playground_config(api_key: str) -> dict[str, Any]:
    """What the page needs beyond the API: the key to start with."""
    return {"apiKey": api_key}


class Playground:
    def __init__(self, config: dict[str, Any], media_origin: str) -> None:
        self._config = json.dumps(config).encode()
        self._files = {path.name: path for path in STATIC.iterdir() if path.suffix in CONTENT_TYPES}
        # Scripts and API calls from this origin only; media also from the bucket's endpoint.
        self._headers = {
            "Content-Security-Policy": (
                f"default-src 'self'; img-src 'self' data: {media_origin}; media-src 'self' {media_origin}; "
                "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
            ),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-cache",
            "Referrer-Policy": "no-referrer",
        }

    def answer(self, request: Request) -> Response | None:
        """The playground's response to a request, or None when the request is for the API."""
        path = request.url.path
        if request.method not in ("GET", "HEAD") or not (path == "/" or path.startswith(PREFIX)):
            return None
        name = "index.html" if path == "/" else path.removeprefix(PREFIX)
        if name == "config.json":
            return Response(self._config, media_type="application/json", headers=self._headers)
        file = self._files.get(name)
        if file is None:
            return None
        return Response(file.read_bytes(), media_type=CONTENT_TYPES[file.suffix], headers=self._headers)
