from __future__ import annotations

import time

import pytest
from standardwebhooks import Webhook

from local.engine.webhooks import new_secret, secret_key, sign


def test_a_signature_verifies_with_the_standard_webhooks_package() -> None:
    secret = new_secret()
    body = b'{"type":"video.completed","data":{"id":"video_1"}}'

    signature = sign(secret_key(secret), "evt_1", 1_700_000_000, body)

    headers = {"webhook-id": "evt_1", "webhook-timestamp": "1700000000", "webhook-signature": signature}
    with pytest.raises(Exception, match="too old"):  # the package checks freshness after the signature
        Webhook(secret).verify(body, headers)


def test_a_fresh_signature_verifies() -> None:
    secret = new_secret()
    body = b"{}"
    now = int(time.time())
    headers = {
        "webhook-id": "evt_2",
        "webhook-timestamp": str(now),
        "webhook-signature": sign(secret_key(secret), "evt_2", now, body),
    }

    assert Webhook(secret).verify(body, headers) == {}


@pytest.mark.parametrize("secret", ["abc", "whsec_", "whsec_not base64!"])
def test_a_malformed_secret_is_refused(secret: str) -> None:
    with pytest.raises(ValueError, match="webhook secret"):
        secret_key(secret)
