"""The engine's signed storage URLs: a signature grants its path alone, until it expires."""

from __future__ import annotations

from urllib.parse import parse_qs

from local.engine.signed_urls import TTL_SECONDS, SignedUrls


def test_a_signed_url_grants_its_path_until_it_expires() -> None:
    now = [1_000_000.0]
    urls = SignedUrls(clock=lambda: now[0])
    query = {k: v[0] for k, v in parse_qs(urls.query("/files/a")).items()}
    expires, signature = query["expires"], query["signature"]

    assert urls.valid("/files/a", expires, signature)
    assert not urls.valid("/files/b", expires, signature)
    assert not urls.valid("/files/a", str(int(expires) + 1), signature)
    assert not urls.valid("/files/a", expires, None)
    assert not urls.valid("/files/a", "soon", signature)
    now[0] += TTL_SECONDS
    assert not urls.valid("/files/a", expires, signature)
    assert not SignedUrls(clock=lambda: 1_000_000.0).valid("/files/a", expires, signature)
