"""Kling's API tokens: a JSON Web Token (RFC 7519) signed with HMAC-SHA256, as Kling's "API
Authentication" makes one from an access key and a secret key: header `{"alg": "HS256", "typ":
"JWT"}`, claims `iss` (the access key), `exp` (30 minutes on) and `nbf` (5 seconds back, for clocks
a little ahead), sent as `Authorization: Bearer <token>`. Made here with the standard library."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping

# How long a token is good for, and how far back it starts (Kling's own example's values).
LIFETIME_SECONDS = 1800
SKEW_SECONDS = 5
_HEADER = {"alg": "HS256", "typ": "JWT"}


def _encoded(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(value: Mapping[str, object]) -> str:
    return _encoded(json.dumps(value, separators=(",", ":")).encode())


def api_token(api_key: str, now: int) -> str:
    """A token for a route's key, `ACCESS_KEY:SECRET_KEY`, good from `now`. A key without its secret
    signs with an empty one, which Kling refuses as it does any wrong secret."""
    access_key, _, secret_key = api_key.partition(":")
    claims = {"iss": access_key.strip(), "exp": now + LIFETIME_SECONDS, "nbf": now - SKEW_SECONDS}
    signed = f"{_segment(_HEADER)}.{_segment(claims)}"
    signature = hmac.new(secret_key.strip().encode(), signed.encode(), hashlib.sha256).digest()
    return f"{signed}.{_encoded(signature)}"
