"""The Vertex AI adapter's pieces: a service account's key read, its assertion (as google-auth's own
verification reads it), its access token kept until shortly before it expires, and an operation's
inline video decoded as the operation streams, in chunks cut anywhere."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt

from videos_core.errors import UpstreamRetryableError, VideoGenerationFailed
from videos_core.providers.vertex.inline import InlineVideo
from videos_core.providers.vertex.service_account import (
    AUDIENCE,
    REFRESH_MARGIN_SECONDS,
    SCOPE,
    AccessTokens,
    ServiceAccount,
    assertion,
)

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ACCOUNT = ServiceAccount(
    project_id="veo-tests",
    client_email="videos@veo-tests.iam.gserviceaccount.com",
    private_key_id="0123abcd",
    private_key=KEY.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode(),
    token_uri="https://oauth2.googleapis.com/token",
)
VIDEO = bytes(range(256)) * 40 + b"\xff\xfe"


def key_json(**changes: object) -> str:
    fields = {name: getattr(ACCOUNT, name) for name in ACCOUNT.__dataclass_fields__}
    return json.dumps({"type": "service_account", **fields, **changes})


def test_a_service_account_key_is_read_and_anything_else_refused() -> None:
    assert ServiceAccount.from_key(key_json()) == ACCOUNT
    for refused, why in [
        ("sk-not-json", "not a service account"),
        (key_json(type="authorized_user"), "not a service account"),
        (key_json(private_key_id=""), "no private_key_id"),
        (key_json(token_uri="http://tokens.example.com/token"), "token_uri is not https"),
    ]:
        with pytest.raises(VideoGenerationFailed, match=why):
            ServiceAccount.from_key(refused)


def test_the_assertion_is_the_jwt_google_auth_verifies_with_the_keys_certificate() -> None:
    public_pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())

    signed = assertion(ACCOUNT, now)

    header = jwt.decode_header(signed)
    claims = jwt.decode(signed, certs={"0123abcd": public_pem}, audience=AUDIENCE)
    assert header == {"alg": "RS256", "typ": "JWT", "kid": "0123abcd"}
    assert claims == {
        "iat": now,
        "exp": now + 3600,
        "iss": ACCOUNT.client_email,
        "aud": AUDIENCE,
        "scope": SCOPE,
    }


def test_a_token_is_kept_until_shortly_before_it_expires_and_forgotten_on_request() -> None:
    clock = [1_800_000_000.0]
    asked: list[str] = []

    def ask(signed: str) -> tuple[str, int]:
        asked.append(signed)
        return f"ya29.token-{len(asked)}", 3599

    tokens = AccessTokens(lambda: clock[0])
    first = tokens.token(ACCOUNT, ask)
    clock[0] += 3599 - REFRESH_MARGIN_SECONDS - 1
    kept = tokens.token(ACCOUNT, ask)
    clock[0] += 1
    renewed = tokens.token(ACCOUNT, ask)
    tokens.forget()
    after_forgetting = tokens.token(ACCOUNT, ask)

    assert (first, kept, renewed, after_forgetting) == (
        "ya29.token-1",
        "ya29.token-1",
        "ya29.token-2",
        "ya29.token-3",
    )
    assert len(asked) == 3


def operation(video: bytes | None, escape_slashes: bool = False) -> bytes:
    response: dict[str, object] = {"@type": "GenerateVideoResponse", "raiMediaFilteredCount": 0}
    if video is not None:
        response["videos"] = [
            {"bytesBase64Encoded": base64.b64encode(video).decode(), "mimeType": "video/mp4"}
        ]
    text = json.dumps({"name": "projects/p/operations/1", "done": True, "response": response}, indent=1)
    return text.replace("/", "\\/").encode() if escape_slashes else text.encode()


def cut(data: bytes, size: int) -> Iterator[bytes]:
    return iter([data[n : n + size] for n in range(0, len(data), size)])


@pytest.mark.parametrize("size", [1, 3, 7, 64, 1000, 1 << 20])
@pytest.mark.parametrize("escape_slashes", [False, True])
def test_the_inline_video_is_decoded_as_it_streams_in_chunks_cut_anywhere(
    size: int, escape_slashes: bool
) -> None:
    inline = InlineVideo(cut(operation(VIDEO, escape_slashes), size))

    decoded = list(inline.chunks())
    document = inline.document()

    assert b"".join(decoded) == VIDEO
    assert inline.found
    assert inline.decoded_bytes == len(VIDEO)
    assert document["response"]["videos"] == [{"bytesBase64Encoded": "", "mimeType": "video/mp4"}]
    assert document["done"] is True


def test_an_operation_without_an_inline_video_reads_whole_and_decodes_nothing() -> None:
    inline = InlineVideo(cut(operation(None), 5))

    assert list(inline.chunks()) == []
    assert inline.document()["response"] == {"@type": "GenerateVideoResponse", "raiMediaFilteredCount": 0}
    assert not inline.found


def test_an_inline_video_cut_short_or_not_base64_is_worth_asking_again() -> None:
    whole = operation(VIDEO)
    with pytest.raises(UpstreamRetryableError, match="ended inside"):
        list(InlineVideo(cut(whole[: len(whole) // 2], 100)).chunks())
    with pytest.raises(UpstreamRetryableError, match="not base64"):
        list(InlineVideo(iter([b'{"videos": [{"bytesBase64Encoded": "AAA*AAAA"}]}'])).chunks())
