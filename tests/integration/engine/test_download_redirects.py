"""A download's redirects, against two tiny local servers on two origins (the provider's, and where it
keeps its files): followed at most MAX_REDIRECTS hops, each https (or http to this machine), the key
sent to the provider's own origin alone; through the REST adapters' own following (Gemini's) and the
openai SDK's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from tests.integration.engine.test_provider_adapters import routed
from tests.stub_server import StubHandler, stub_server
from videos_core.adapters.upstream_calls import MAX_REDIRECTS
from videos_core.errors import UpstreamFileUnusable

KEY = "sk-test"
FILE = b"the file's bytes"


class _Server(StubHandler):
    """`/v1beta/models/m/operations/{start}` is a done Veo operation whose video is at `/{start}`;
    `/v1/videos/{start}/content` redirects to `/{start}` (an OpenAI-shaped download). Then:
    `/to-other/{path}` redirects to the other server's `/{path}`, `/hops/{n}` to `/hops/{n-1}` (and
    `/hops/0` to `/file`), `/loop` to itself, `/to-http` to an http address off this machine, and
    `/file` serves the file. Every request's path and key headers are kept in `seen`."""

    other: ClassVar[str] = ""
    seen: ClassVar[list[tuple[str, str | None, str | None]]] = []

    def do_GET(self) -> None:
        path = self.path
        self.seen.append((path, self.headers.get("x-goog-api-key"), self.headers.get("authorization")))
        if path.startswith("/v1beta/models/m/operations/"):
            start = path.rsplit("/", 1)[1].replace("~", "/")
            uri = f"http://{self.headers['host']}/{start}"
            body = {
                "done": True,
                "response": {"generateVideoResponse": {"generatedSamples": [{"video": {"uri": uri}}]}},
            }
            self.answer(200, body)
        elif path.startswith("/v1/videos/"):
            self._redirect("/" + path.split("/")[3].replace("~", "/"))
        elif path.startswith("/to-other/"):
            self._redirect(self.other + path.removeprefix("/to-other"))
        elif path.startswith("/hops/"):
            left = int(path.rsplit("/", 1)[1])
            self._redirect(f"/hops/{left - 1}" if left else "/file")
        elif path == "/loop":
            self._redirect("/loop")
        elif path == "/to-http":
            self._redirect("http://files.example.com/file")
        else:
            self.answer(200, FILE, "video/mp4")

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("location", location)
        self.send_header("content-length", "0")
        self.end_headers()


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[str, str]]:
    """The provider's origin and another (another port: another origin)."""
    with stub_server(_Server) as provider, stub_server(_Server) as other:
        _Server.other = other
        yield provider, other


@pytest.fixture
def upstream(servers: tuple[str, str]) -> Iterator[Any]:
    provider, _ = servers
    routes = {
        "veo": {"provider": "gemini", "upstream_model": "veo-3.1-generate-preview", "base_url": provider},
        "sora-2": {"base_url": f"{provider}/v1"},
    }
    _Server.seen.clear()
    with routed(provider, routes) as upstream:
        yield upstream


def download(upstream: Any, model: str, start: str) -> bytes:
    upstream_id = (
        f"models/m/operations/{start.replace('/', '~')}" if model == "veo" else start.replace("/", "~")
    )
    with upstream.open_content(model, upstream_id, "video") as content:
        return b"".join(content.chunks())


def keys_sent(path_start: str) -> list[tuple[str | None, str | None]]:
    return [(key, auth) for path, key, auth in _Server.seen if path.startswith(path_start)]


@pytest.mark.parametrize("model", ["veo", "sora-2"])
def test_the_key_goes_to_the_providers_origin_and_never_where_a_redirect_leads(
    upstream: Any, model: str
) -> None:
    assert download(upstream, model, "to-other/file") == FILE
    assert download(upstream, model, "hops/1") == FILE

    at_provider = keys_sent("/hops/0") + keys_sent("/to-other/")
    assert at_provider == ([(KEY, None)] * 2 if model == "veo" else [(None, f"Bearer {KEY}")] * 2)
    assert keys_sent("/file") == [(None, None), (KEY, None) if model == "veo" else (None, f"Bearer {KEY}")]


@pytest.mark.parametrize("model", ["veo", "sora-2"])
def test_at_most_five_hops_are_followed(upstream: Any, model: str) -> None:
    # The download itself is one hop before /hops/{n} on the SDK's path (its /v1/videos/… redirects).
    sdk = model == "sora-2"
    assert download(upstream, model, f"hops/{MAX_REDIRECTS - 1 - sdk}") == FILE
    with pytest.raises(UpstreamFileUnusable, match=f"redirects more than {MAX_REDIRECTS} times"):
        download(upstream, model, f"hops/{MAX_REDIRECTS - sdk}")


def test_a_redirect_loop_and_a_hop_off_https_are_refused(upstream: Any) -> None:
    with pytest.raises(UpstreamFileUnusable, match="redirects in a loop"):
        download(upstream, "veo", "loop")
    with pytest.raises(
        UpstreamFileUnusable, match=r"leads to http://files\.example\.com, which is not https"
    ):
        download(upstream, "veo", "to-http")
    assert not keys_sent("/file")
