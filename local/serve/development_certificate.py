"""The development certificate `serve` signs Content Credentials under: a CA of its own, made on the
first start and kept in the data directory (`content-credentials/ca.pem`, its key beside it), and a
signing certificate it issues for the public key of the stack's KMS key (made again when the key is
not the one it certified). The chain (signing certificate, then the CA) goes into the SSM parameter the
functions read, as an operator's CA's chain does when deployed. `videos-api verify` trusts `ca.pem`.

The signing certificate has C2PA's profile (C2PA 2.1, "X.509 certificates"): an end entity (not a CA),
key usage digitalSignature, an extended key usage C2PA accepts (emailProtection and documentSigning),
and a validity period."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from local.engine.stored_files import write_whole

# Under serve's data directory.
CREDENTIALS_DIR = "content-credentials"
CA_FILE, CA_KEY_FILE, SIGNING_FILE, CHAIN_FILE = "ca.pem", "ca-key.pem", "signing.pem", "chain.pem"
# id-kp-documentSigning (RFC 9336).
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
ORGANISATION = "videos-api (development)"
CA_DAYS, SIGNING_DAYS = 3650, 825


@dataclass(frozen=True)
class Authority:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
        ]
    )


def new_authority(common_name: str = "videos-api development CA") -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signs_certificates=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Authority(certificate, key)


def issue(
    authority: Authority,
    public_key: ec.EllipticCurvePublicKey,
    common_name: str = "videos-api content credentials",
) -> x509.Certificate:
    """A C2PA signing certificate for `public_key`."""
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(authority.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=SIGNING_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signs_certificates=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()), critical=False
        )
        .sign(authority.key, hashes.SHA256())
    )


def _key_usage(*, signs_certificates: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not signs_certificates,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def development_chain(directory: Path, public_key_der: bytes) -> str:
    """The chain for the key whose public key (SubjectPublicKeyInfo, DER, as KMS's GetPublicKey answers
    it) is given: the kept CA's, issuing a signing certificate again when the kept one is for another key."""
    directory.mkdir(parents=True, exist_ok=True)
    authority = _kept_authority(directory)
    public_key = serialization.load_der_public_key(public_key_der)
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise ValueError("the content credentials key is not an elliptic-curve key")
    signing_file = directory / SIGNING_FILE
    signing = x509.load_pem_x509_certificate(signing_file.read_bytes()) if signing_file.exists() else None
    if signing is None or signing.public_key() != public_key:
        signing = issue(authority, public_key)
        write_whole(signing_file, pem(signing).encode())
    chain = pem(signing) + pem(authority.certificate)
    write_whole(directory / CHAIN_FILE, chain.encode())
    return chain


def _kept_authority(directory: Path) -> Authority:
    ca_file, key_file = directory / CA_FILE, directory / CA_KEY_FILE
    if ca_file.exists() and key_file.exists():
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return Authority(x509.load_pem_x509_certificate(ca_file.read_bytes()), key)
    authority = new_authority()
    key_pem = authority.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_whole(key_file, key_pem)
    key_file.chmod(0o600)
    write_whole(ca_file, pem(authority.certificate).encode())
    return authority


def install(kms: Any, ssm: Any, key_id: str, parameter: str, directory: Path) -> None:
    """Certifies the KMS key `key_id` with the development CA in `directory`, and stores the chain in
    the SSM parameter the finalisers read it from."""
    public_key = bytes(kms.get_public_key(KeyId=key_id)["PublicKey"])
    chain = development_chain(directory, public_key)
    ssm.put_parameter(Name=parameter, Value=chain, Type="String", Overwrite=True)
