"""Replicate's webhook signatures: Standard Webhooks under the account's secret, which is read from
`GET /v1/webhooks/default/secret` with the route's own key, kept, and read again (at most once in
`REFRESH_SECONDS`) when a call does not verify, so a rotated secret is taken."""

from __future__ import annotations

import base64
import secrets
import time
from datetime import UTC, datetime

import httpx2
import pytest
from standardwebhooks.webhooks import Webhook

from videos_core.adapters.jwks import REFRESH_SECONDS, KeySets
from videos_core.callbacks import verify_signature
from videos_core.catalog import Entry
from videos_core.errors import InvalidRequest, Unauthorized
from videos_core.providers import provider
from videos_core.providers.replicate import PROFILES
from videos_core.providers.replicate.signatures import signing_secret, verify

BODY = b'{"id": "ufawqhfynnddngldkgtslldrkq", "status": "succeeded"}'
SECRET_URL = "https://api.replicate.com/v1/webhooks/default/secret"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def key_of(secret: str) -> bytes:
    return signing_secret({"key": secret})[0]


def signed(secret: str, body: bytes = BODY, timestamp: int | None = None) -> dict[str, str]:
    stamp = int(time.time()) if timestamp is None else timestamp
    message_id = "msg_2x6Lp1"
    signature = Webhook(secret).sign(message_id, datetime.fromtimestamp(stamp, UTC), body.decode())
    return {"webhook-id": message_id, "webhook-timestamp": str(stamp), "webhook-signature": signature}


def entry() -> Entry:
    family = "google/veo-3.1"
    capabilities = PROFILES[family]
    return Entry(
        "replicate-veo",
        "replicate",
        "replicate",
        "https://api.replicate.com",
        family,
        "/videos-api/upstream-keys/replicate",
        family,
        capabilities,
        {"*": capabilities.price_per_second},
        webhook_keys_url=provider("replicate").callbacks.keys_url,  # type: ignore[union-attr]
    )


class Account:
    """Replicate's secret endpoint: the account's secret, to its token alone; counts its reads."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, secret: str) -> None:
        self.secret, self.reads = secret, 0
        monkeypatch.setattr(httpx2, "get", self.get)

    def get(self, url: str, headers: dict[str, str], timeout: float) -> httpx2.Response:
        self.reads += 1
        request = httpx2.Request("GET", url)
        if headers.get("Authorization") != "Bearer r8_route":
            return httpx2.Response(401, json={"detail": "Unauthenticated"}, request=request)
        return httpx2.Response(200, json={"key": self.secret}, request=request)


def test_the_accounts_secret_is_its_key_after_whsec() -> None:
    raw = secrets.token_bytes(32)

    assert signing_secret({"key": "whsec_" + base64.b64encode(raw).decode()}) == [raw]
    assert signing_secret({"key": "sk_other"}) == []
    assert signing_secret({"key": "whsec_not base64!"}) == []
    assert signing_secret(["whsec_"]) == []


def test_a_call_signed_with_the_accounts_secret_verifies() -> None:
    secret = new_secret()

    verify(signed(secret), BODY, [key_of(new_secret()), key_of(secret)], int(time.time()))


def test_a_forged_tampered_stale_or_unsigned_call_is_refused() -> None:
    secret, now = new_secret(), int(time.time())
    keys = [key_of(secret)]

    with pytest.raises(Unauthorized):
        verify(signed(new_secret()), BODY, keys, now)
    with pytest.raises(Unauthorized):
        verify(signed(secret), BODY.replace(b"succeeded", b"failed"), keys, now)
    with pytest.raises(InvalidRequest):
        verify(signed(secret, timestamp=now - 301), BODY, keys, now)
    with pytest.raises(Unauthorized, match="signature"):
        verify({}, BODY, keys, now)
    other_version = signed(secret)["webhook-signature"].replace("v1,", "v2,")
    with pytest.raises(Unauthorized):
        verify(signed(secret) | {"webhook-signature": other_version}, BODY, keys, now)


def test_the_secret_is_read_with_the_routes_key_and_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    account = Account(monkeypatch, new_secret())
    keys = KeySets(lambda _: {"Authorization": "Bearer r8_route"})

    assert keys(entry()) == [key_of(account.secret)]
    assert keys(entry()) == [key_of(account.secret)]
    assert account.reads == 1


def test_a_rotated_secret_is_read_again_at_most_once_per_refresh_period(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = Account(monkeypatch, new_secret())
    clock = [1000.0]
    keys = KeySets(lambda _: {"Authorization": "Bearer r8_route"}, clock=lambda: clock[0])
    route, now = entry(), int(time.time())
    keys(route)
    account.secret = new_secret()
    clock[0] += 10

    with pytest.raises(Unauthorized):
        verify_signature(route, (signed(account.secret), BODY), keys, now)
    clock[0] += REFRESH_SECONDS
    verify_signature(route, (signed(account.secret), BODY), keys, now)

    assert account.reads == 2
