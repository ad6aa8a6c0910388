"""The Content Credentials StoreAssets signs into each file, with the KMS key in the local endpoint's
moto (corrected to sign a digest as KMS does) and serve's development CA: read back by c2pa-python's
Reader against that CA alone."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from moto import mock_aws

from local.credentials_check import Credentials, read_credentials
from local.engine.render import RenderSpec, render
from local.serve.development_certificate import CA_FILE, development_chain, issue, new_authority, pem
from local.serve.kms_keys import make_key
from local.serve.moto_fidelity import make_kms_sign_digests
from tests.media import gray_frames
from videos_core.adapters.kms_signer import KmsSigner, raw_signature
from videos_core.content_credentials import TRAINED_ALGORITHMIC_MEDIA, ContentCredentials, Provenance

KEY_ID = "5f0c6b1e-0c1d-4d38-9f7a-1c0b2a3d4e5f"
PROVENANCE = Provenance("video_c2pa", "openai", "sora-2", "video.mp4", 1_790_000_000)


@pytest.fixture(scope="module")
def kms() -> Iterator[object]:
    make_kms_sign_digests()
    with mock_aws():
        make_key("123456789012", "us-east-1", KEY_ID, "content credentials", ("ECC_NIST_P256", "SIGN_VERIFY"))
        yield boto3.client("kms", region_name="us-east-1")


@pytest.fixture(scope="module")
def credentials(kms: object, tmp_path_factory: pytest.TempPathFactory) -> tuple[ContentCredentials, str]:
    directory = tmp_path_factory.mktemp("content-credentials")
    chain = development_chain(directory, bytes(kms.get_public_key(KeyId=KEY_ID)["PublicKey"]))  # type: ignore[attr-defined]
    signer = KmsSigner(kms, KEY_ID)
    return ContentCredentials(signer.sign, lambda: chain), (directory / CA_FILE).read_text()


@pytest.fixture(scope="module")
def rendered(render_cache: Path) -> Path:
    return render(RenderSpec("A paper boat on a pond", 480, 854, 4), render_cache).directory


def signed(credentials: ContentCredentials, data: bytes, kind: str, parent: bytes | None = None) -> bytes:
    into = io.BytesIO()
    credentials.sign_into(
        io.BytesIO(data), into, kind, PROVENANCE, io.BytesIO(parent) if parent is not None else None
    )
    return into.getvalue()


def read(data: bytes, kind: str, anchor: str) -> Credentials:
    found = read_credentials(io.BytesIO(data), kind, anchor)
    assert found is not None
    return found


def test_kms_signs_a_digest_as_given_and_the_public_key_verifies_it(kms: object) -> None:
    digest = hashlib.sha256(b"what C2PA signs").digest()
    der = kms.sign(KeyId=KEY_ID, Message=digest, MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")  # type: ignore[attr-defined]
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=KEY_ID)["PublicKey"])  # type: ignore[attr-defined]
    assert isinstance(public, ec.EllipticCurvePublicKey)

    public.verify(der["Signature"], digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    # The KmsSigner's r || s is the same signature's form COSE wants.
    raw = KmsSigner(kms, KEY_ID).sign(b"what C2PA signs")
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    public.verify(encode_dss_signature(r, s), b"what C2PA signs", ec.ECDSA(hashes.SHA256()))
    assert len(raw_signature(der["Signature"])) == 64


def test_a_digest_of_the_wrong_length_is_refused_as_kms_refuses_it(kms: object) -> None:
    with pytest.raises(ClientError, match="ValidationException"):
        kms.sign(KeyId=KEY_ID, Message=b"short", MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")  # type: ignore[attr-defined]


def test_a_signed_video_is_trusted_says_what_made_it_and_decodes_to_the_same_frames(
    credentials: tuple[ContentCredentials, str], rendered: Path
) -> None:
    signer, anchor = credentials
    original = (rendered / "video.mp4").read_bytes()

    video = signed(signer, original, "video/mp4")

    found = read(video, "video/mp4", anchor)
    assert found.state == "Trusted", found.failures
    assert found.actions == ["c2pa.created"]
    assert (found.source_type, found.model, found.provider, found.job) == (
        TRAINED_ALGORITHMIC_MEDIA,
        "sora-2",
        "openai",
        "video_c2pa",
    )
    assert found.generator.startswith("videos-api ")
    assert found.signer == "videos-api content credentials"
    before, after = gray_frames(original), gray_frames(video)
    assert len(before) == len(after)
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def test_a_changed_byte_fails_validation(credentials: tuple[ContentCredentials, str], rendered: Path) -> None:
    signer, anchor = credentials
    video = bytearray(signed(signer, (rendered / "video.mp4").read_bytes(), "video/mp4"))
    video[len(video) // 2] ^= 0x01

    assert read(bytes(video), "video/mp4", anchor).state == "Invalid"


def test_stills_are_signed_and_another_ca_does_not_trust_them(
    credentials: tuple[ContentCredentials, str], rendered: Path
) -> None:
    signer, anchor = credentials
    thumbnail = signed(signer, (rendered / "thumbnail.jpg").read_bytes(), "image/jpeg")

    assert read(thumbnail, "image/jpeg", anchor).state == "Trusted"
    assert read(thumbnail, "image/jpeg", pem(new_authority().certificate)).state == "Valid"


def test_an_upstream_manifest_is_kept_as_the_parent_and_a_remix_names_its_source(
    credentials: tuple[ContentCredentials, str], rendered: Path
) -> None:
    signer, anchor = credentials
    # The provider's own Content Credentials, under a CA of its own.
    provider_ca = new_authority("a provider's CA")
    provider_key = ec.generate_private_key(ec.SECP256R1())
    chain = pem(issue(provider_ca, provider_key.public_key(), "a provider")) + pem(provider_ca.certificate)

    def provider_sign(data: bytes) -> bytes:
        return raw_signature(provider_key.sign(data, ec.ECDSA(hashes.SHA256())))

    provider = ContentCredentials(provider_sign, lambda: chain)
    original = (rendered / "video.mp4").read_bytes()
    upstream = signed(provider, original, "video/mp4")

    video = signed(signer, upstream, "video/mp4")
    remix = signed(signer, signed(provider, original, "video/mp4"), "video/mp4", parent=video)

    found = read(video, "video/mp4", anchor)
    assert found.state == "Trusted", found.failures
    assert found.actions == ["c2pa.opened", "c2pa.edited"]
    assert [(i["relationship"], bool(i["manifest"])) for i in found.ingredients] == [("parentOf", True)]
    remixed = read(remix, "video/mp4", anchor)
    assert remixed.state == "Trusted", remixed.failures
    assert [i["relationship"] for i in remixed.ingredients] == ["parentOf", "componentOf"]
    assert remixed.ingredients[0]["title"] == "source video"
    assert replace(remixed, ingredients=[], failures=[]).job == "video_c2pa"
