"""A service account's JSON key and the OAuth access tokens it is exchanged for, as Google's "OAuth 2.0
for Server to Server Applications" has it and google-auth's `service_account.Credentials` makes them:
a JWT signed RS256 with the key's private key (`kid` its id) claiming the account (`iss`), the
cloud-platform scope, Google's token endpoint as audience and an hour from now, posted to the key's
`token_uri` as `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=…`; the answer's
`access_token` is kept until a few minutes before its `expires_in` runs out."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from videos_core.catalog import safe_base_url
from videos_core.errors import VideoGenerationFailed

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
# Every assertion's audience: Google's token endpoint, whatever the key's `token_uri` (the documented
# value, and what google-auth sends).
AUDIENCE = "https://oauth2.googleapis.com/token"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_SECONDS = 3600
# How long before its expiry a token is asked for again: google-auth's refresh threshold.
REFRESH_MARGIN_SECONDS = 225
_FIELDS = ("project_id", "client_email", "private_key_id", "private_key", "token_uri")


@dataclass(frozen=True)
class ServiceAccount:
    """What a call needs of a service account's key."""

    project_id: str
    client_email: str
    private_key_id: str
    private_key: str
    token_uri: str

    @classmethod
    def from_key(cls, key: str) -> ServiceAccount:
        """The account of a JSON key; VideoGenerationFailed saying what the key lacks."""
        try:
            parsed = json.loads(key)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or parsed.get("type") != "service_account":
            raise _unusable("it is not a service account's JSON key")
        missing = [name for name in _FIELDS if not isinstance(parsed.get(name), str) or not parsed[name]]
        if missing:
            raise _unusable(f"it has no {', '.join(missing)}")
        try:
            safe_base_url(parsed["token_uri"])
        except ValueError as e:
            raise _unusable(f"its token_uri is not https ({e})") from e
        return cls(*(str(parsed[name]) for name in _FIELDS))

    @property
    def cache_key(self) -> tuple[str, str, str]:
        return self.client_email, self.private_key_id, self.token_uri


def assertion(account: ServiceAccount, now: int) -> str:
    """The signed JWT that asks the token endpoint for an access token of the account."""
    header = {"alg": "RS256", "typ": "JWT", "kid": account.private_key_id}
    claims = {
        "iat": now,
        "exp": now + ASSERTION_SECONDS,
        "iss": account.client_email,
        "aud": AUDIENCE,
        "scope": SCOPE,
    }
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    signature = _private_key(account).sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64url(signature)}"


class AccessTokens:
    """Access tokens by the key they were asked for with, each kept until REFRESH_MARGIN_SECONDS before
    it expires: one token an hour per key and process, as google-auth keeps one per credentials."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._tokens: dict[tuple[str, str, str], tuple[str, float]] = {}

    def token(self, account: ServiceAccount, ask: Callable[[str], tuple[str, int]]) -> str:
        """The account's token: the one kept, or one `ask` gets for an assertion (the token and the
        seconds it lasts)."""
        now = self._clock()
        kept = self._tokens.get(account.cache_key)
        if kept is not None and now < kept[1]:
            return kept[0]
        token, lasts = ask(assertion(account, int(now)))
        self._tokens[account.cache_key] = (token, now + lasts - REFRESH_MARGIN_SECONDS)
        return token

    def forget(self) -> None:
        """Drops every token kept: the next call asks for a new one."""
        self._tokens.clear()


def _private_key(account: ServiceAccount) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(account.private_key.encode(), password=None)
    except ValueError as e:
        raise _unusable("its private_key is not a PEM private key") from e
    if not isinstance(key, rsa.RSAPrivateKey):
        raise _unusable("its private_key is not an RSA key")
    return key


def _segment(part: dict[str, Any]) -> str:
    return _b64url(json.dumps(part, separators=(",", ":")).encode())


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unusable(why: str) -> VideoGenerationFailed:
    return VideoGenerationFailed(f"The route's key is not one Vertex AI takes: {why}.")
