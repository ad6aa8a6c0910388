"""The engine's Vertex AI dialect driven by the google-genai SDK in Vertex AI mode (`vertexai=True`,
a project and location, `http_options.base_url` the engine's `/vertex`) with service account
credentials from google-auth, whose key (made here, its certificate uploaded to the engine as IAM takes
one) names the engine's token endpoint, so google-auth itself gets the token: an operation polled to
`done` with its video inline, Veo started from an image, refusals in Google's shape, `[fail]` and
`[moderation]`, the token endpoint's checks; then the service's adapter against the dialect."""

from __future__ import annotations

import base64
import datetime
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google import genai
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request as AuthRequest
from google.genai import errors as genai_errors
from google.genai import types as genai_types
from google.oauth2 import service_account

from tests.integration.engine.test_provider_adapters import ended, routed
from tests.media import png_bytes, probe_mp4
from tests.support import HTTP
from videos_core.errors import InvalidRequest
from videos_core.ports import Reference, UpstreamCreate
from videos_core.providers.vertex.service_account import SCOPE, ServiceAccount, assertion

PROJECT = "veo-tests"
ACCOUNT = f"videos@{PROJECT}.iam.gserviceaccount.com"
LOCATION = "us-central1"
VEO = "veo-3.1-generate-001"
PROMPT = "A lighthouse beam sweeping over a night sea"


def certificate(key: rsa.RSAPrivateKey) -> bytes:
    """A self-signed certificate of the key, as a service account's uploaded key is."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ACCOUNT)])
    now = datetime.datetime.now(datetime.UTC)
    built = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return built.public_bytes(serialization.Encoding.PEM)


def key_file(key: rsa.RSAPrivateKey, key_id: str, token_uri: str) -> dict[str, str]:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": key_id,
        "private_key": pem.decode(),
        "client_email": ACCOUNT,
        "client_id": "100000000000000000001",
        "token_uri": token_uri,
    }


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def key_info(engine_url: str, signing_key: rsa.RSAPrivateKey) -> dict[str, str]:
    """The service account's JSON key, its public half uploaded to the engine."""
    uploaded = HTTP.post(
        f"{engine_url}/vertex/iam/v1/projects/{PROJECT}/serviceAccounts/{ACCOUNT}/keys:upload",
        json={"publicKeyData": base64.b64encode(certificate(signing_key)).decode()},
    )
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["keyOrigin"] == "USER_PROVIDED"
    key_id = uploaded.json()["name"].rpartition("/keys/")[2]
    return key_file(signing_key, key_id, f"{engine_url}/vertex/token")


def credentials_of(key: dict[str, str]) -> service_account.Credentials:
    """google-auth's credentials of a key, for Vertex AI's scope (google-auth has no type hints)."""
    made: service_account.Credentials = service_account.Credentials.from_service_account_info(
        key, scopes=[SCOPE]
    )
    return made


@pytest.fixture(scope="module")
def credentials(key_info: dict[str, str]) -> service_account.Credentials:
    return credentials_of(key_info)


@pytest.fixture(scope="module")
def client(engine_url: str, credentials: service_account.Credentials) -> Iterator[genai.Client]:
    sdk = genai.Client(
        vertexai=True,
        project=PROJECT,
        location=LOCATION,
        credentials=credentials,
        http_options=genai_types.HttpOptions(base_url=f"{engine_url}/vertex"),
    )
    yield sdk
    sdk.close()


def videos(client: genai.Client, prompt: str, **config: Any) -> Any:
    source = genai_types.GenerateVideosSource(prompt=prompt, image=config.pop("image", None))
    return client.models.generate_videos(
        model=config.pop("model", VEO), source=source, config=genai_types.GenerateVideosConfig(**config)
    )


@pytest.fixture(scope="module")
def started(client: genai.Client) -> dict[str, Any]:
    """The operations the tests below look at, started at once so that their waits overlap."""
    blue = genai_types.Image(image_bytes=png_bytes(1280, 720, (20, 20, 220)), mime_type="image/png")
    return {
        "text": videos(
            client, PROMPT, duration_seconds=4, aspect_ratio="9:16", resolution="720p", generate_audio=True
        ),
        "image": videos(client, "The blue square comes alive", image=blue, duration_seconds=6),
        "failed": videos(client, f"{PROMPT} [fail]", duration_seconds=4),
        "filtered": videos(client, f"{PROMPT} [moderation]", duration_seconds=4),
    }


def done(client: genai.Client, operation: Any) -> tuple[Any, list[bool]]:
    """The operation polled until done (or 30 s), and whether each read found it done."""
    seen = [bool(operation.done)]
    deadline = time.monotonic() + 30
    while not operation.done and time.monotonic() < deadline:
        time.sleep(0.05)
        operation = client.operations.get(operation)
        seen.append(bool(operation.done))
    return operation, seen


def test_an_operation_runs_to_done_with_its_video_inline_and_google_auth_gets_the_token(
    client: genai.Client, credentials: service_account.Credentials, started: dict[str, Any]
) -> None:
    operation, seen = done(client, started["text"])

    assert str(started["text"].name).startswith(
        f"projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/{VEO}/operations/"
    )
    assert seen[0] is False
    assert seen[-1] is True
    assert operation.error is None
    assert str(credentials.token).startswith("ya29.")
    [generated] = operation.result.generated_videos
    assert generated.video.mime_type == "video/mp4"
    facts = probe_mp4(generated.video.video_bytes)
    assert (facts.width, facts.height) == (720, 1280)
    assert facts.duration == pytest.approx(4, abs=0.2)


def test_veo_starts_from_an_image(client: genai.Client, started: dict[str, Any]) -> None:
    operation, _ = done(client, started["image"])

    facts = probe_mp4(operation.result.generated_videos[0].video.video_bytes)
    assert (facts.width, facts.height) == (1280, 720)
    assert facts.duration == pytest.approx(6, abs=0.2)


@pytest.mark.parametrize(
    ("config", "status", "words"),
    [
        ({"duration_seconds": 5}, 400, "durationSeconds"),
        ({"aspect_ratio": "1:1"}, 400, "aspectRatio"),
        ({"resolution": "4k"}, 400, "resolution"),
        ({"number_of_videos": 2}, 400, "sampleCount"),
        ({"output_gcs_uri": "gs://bucket/out"}, 400, "storageUri"),
        ({"model": "veo-9.0-generate-001"}, 404, "Publisher Model"),
    ],
)
def test_what_veo_refuses_is_refused_in_googles_shape(
    client: genai.Client, config: dict[str, Any], status: int, words: str
) -> None:
    with pytest.raises(genai_errors.ClientError) as refused:
        videos(client, PROMPT, **config)

    assert refused.value.code == status
    assert refused.value.status == {400: "INVALID_ARGUMENT", 404: "NOT_FOUND"}[status]
    assert words in str(refused.value.message)


def test_a_call_without_a_token_of_the_projects_account_is_refused(
    engine_url: str, credentials: service_account.Credentials, started: dict[str, Any]
) -> None:
    path = f"locations/{LOCATION}/publishers/google/models/{VEO}:predictLongRunning"
    body = {"instances": [{"prompt": PROMPT}]}

    anonymous = HTTP.post(f"{engine_url}/vertex/v1/projects/{PROJECT}/{path}", json=body)
    unknown = HTTP.post(
        f"{engine_url}/vertex/v1/projects/{PROJECT}/{path}",
        json=body,
        headers={"Authorization": "Bearer ya29.not-a-token"},
    )
    elsewhere = HTTP.post(
        f"{engine_url}/vertex/v1/projects/another-project/{path}",
        json=body,
        headers={"Authorization": f"Bearer {credentials.token}"},
    )

    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["status"] == "UNAUTHENTICATED"
    assert set(anonymous.json()["error"]) == {"code", "message", "status"}
    assert (unknown.status_code, unknown.json()["error"]["status"]) == (401, "UNAUTHENTICATED")
    assert (elsewhere.status_code, elsewhere.json()["error"]["status"]) == (403, "PERMISSION_DENIED")


def test_failed_and_filtered_operations_carry_vertex_ais_reasons(
    client: genai.Client, started: dict[str, Any]
) -> None:
    failed, _ = done(client, started["failed"])
    filtered, _ = done(client, started["filtered"])

    assert failed.error == {"code": 13, "message": "Video generation failed."}
    assert filtered.error is None
    assert filtered.result.rai_media_filtered_count == 1
    assert not filtered.result.generated_videos
    [reason] = filtered.result.rai_media_filtered_reasons
    assert "usage guidelines" in reason


def test_the_token_endpoint_verifies_an_uploaded_keys_signature_and_the_assertions_claims(
    engine_url: str, key_info: dict[str, str]
) -> None:
    token_uri = key_info["token_uri"]
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = key_file(impostor, key_info["private_key_id"], token_uri)
    unknown = key_file(impostor, "0" * 40, token_uri)

    def exchange(key: dict[str, str], now: float | None = None) -> Any:
        signed = assertion(ServiceAccount.from_key(json.dumps(key)), int(time.time() if now is None else now))
        grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
        return HTTP.post(token_uri, data={"grant_type": grant, "assertion": signed})

    granted, refused, stale, taken = (
        exchange(key_info),
        exchange(forged),
        exchange(key_info, 1e9),
        exchange(unknown),
    )

    assert granted.status_code == 200
    assert (granted.json()["token_type"], granted.json()["expires_in"]) == ("Bearer", 3599)
    assert refused.json() == {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
    assert (stale.status_code, stale.json()["error"]) == (400, "invalid_grant")
    # A key the engine was not given is taken on its structure, as the other dialects take any key.
    assert taken.status_code == 200
    with pytest.raises(RefreshError, match="Invalid JWT Signature"):
        credentials_of(forged).refresh(AuthRequest())


def test_the_adapter_makes_downloads_and_fails_as_the_contract_says(
    engine_url: str, key_info: dict[str, str]
) -> None:
    base = f"{engine_url}/vertex"
    routes = {
        "veo": {"provider": "vertex", "upstream_model": VEO, "base_url": base},
        "veo-5s": {"provider": "vertex", "upstream_model": VEO, "base_url": base, "seconds": ["5"]},
    }
    red = Reference("red.png", png_bytes(1280, 720, (220, 20, 20)), "image/png")
    tokens_before = token_calls(engine_url)
    with routed(engine_url, routes, json.dumps(key_info)) as upstream:
        made = upstream.create(UpstreamCreate("A heron", "veo", "4", "1280x720", reference=red))
        moderated = upstream.create(UpstreamCreate("A heron [moderation]", "veo", "4", "720x1280"))
        failed = upstream.create(UpstreamCreate("A heron [fail]", "veo", "4", "1280x720"))
        with pytest.raises(InvalidRequest) as refused:
            upstream.create(UpstreamCreate("A heron", "veo-5s", "5", "1280x720"))

        assert ended(upstream, "veo", made).status == "completed"
        with upstream.open_content("veo", made.id, "video") as content:
            facts = probe_mp4(b"".join(content.chunks()))
        outcomes = [ended(upstream, "veo", job).error for job in (moderated, failed)]

    assert made.status == "queued"
    assert (facts.width, facts.height) == (1280, 720)
    assert refused.value.upstream is not None
    assert refused.value.upstream.code == "INVALID_ARGUMENT"
    assert [error.code if error else None for error in outcomes] == [
        "moderation_blocked",
        "video_generation_failed",
    ]
    assert outcomes[0] is not None
    assert "usage guidelines" in outcomes[0].message
    assert outcomes[1] is not None
    assert "Video generation failed" in outcomes[1].message
    # One token for every call: kept until shortly before it expires.
    assert token_calls(engine_url) - tokens_before == 1


def token_calls(engine_url: str) -> int:
    routes: dict[str, int] = HTTP.get(f"{engine_url}/_stats").json()["routes"]
    return sum(count for route, count in routes.items() if route.endswith("/vertex/token"))
