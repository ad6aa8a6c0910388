"""Where moto's server does not do what AWS does, corrected.

KMS: Sign and Verify with `MessageType=DIGEST` take the message as the digest itself (AWS KMS API
Reference, Sign: "the length of the Message value must match the length of hashed messages for the
specified signing algorithm"); moto 5.2 ignores MessageType and hashes the digest again, in Sign and
in Verify alike, so it agrees with itself and with nothing else. Here a digest is signed as given, and
one of the wrong length is refused as KMS refuses it.

DynamoDB: a conditional write is atomic, and a
transaction is isolated from other writes. moto checks a condition and then writes, with no lock in
between, and restores a failed transaction's tables from a copy taken before it; on its threaded
server two racing writers can therefore both pass one condition, or a restore can undo another
request's write. An update also sets its attributes one by one, so a read in the middle saw half of it
(a job `failed` with no `error` yet), where DynamoDB's reads see an item whole. The service relies on
those guarantees (a job is finalised once, a quota slot is taken once, a terminal record has its
error), so the local endpoint runs its DynamoDB writes, and the reads with their answers' rendering,
under one lock."""

from __future__ import annotations

import base64
import contextlib
import contextvars
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler
from moto.kms.exceptions import ValidationException
from moto.kms.responses import KmsResponse
from moto.kms.utils import ECDSAPrivateKey, RSAPrivateKey

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
# Handlers, not the backend's methods: an answer is rendered from the live items after the backend
# returns them.
_READS = ("get_item", "batch_get_item", "query", "scan", "transact_get_items")


# The KMS operations whose MessageType moto ignores, and the key classes whose sign and verify hash.
KMS_DIGEST_OPERATIONS = ("sign", "verify")
KMS_KEY_METHODS = (
    (ECDSAPrivateKey, "_ECDSAPrivateKey__hash_algorithm"),
    (RSAPrivateKey, "_RSAPrivateKey__padding_and_hash_algorithm"),
)
_DIGEST_BYTES = {"SHA_256": 32, "SHA_384": 48, "SHA_512": 64}
_given_digest = contextvars.ContextVar("given_digest", default=False)


def make_kms_sign_digests() -> None:
    if getattr(KmsResponse, "_signs_digests", False):
        return
    for name in KMS_DIGEST_OPERATIONS:
        setattr(KmsResponse, name, _digest_aware(getattr(KmsResponse, name)))
    ECDSAPrivateKey.sign = _ecdsa_sign(ECDSAPrivateKey.sign)  # type: ignore[method-assign]
    ECDSAPrivateKey.verify = _ecdsa_verify(ECDSAPrivateKey.verify)  # type: ignore[method-assign]
    RSAPrivateKey.sign = _rsa_sign(RSAPrivateKey.sign)  # type: ignore[method-assign]
    RSAPrivateKey.verify = _rsa_verify(RSAPrivateKey.verify)  # type: ignore[method-assign]
    KmsResponse._signs_digests = True  # type: ignore[attr-defined]


def _digest_aware(operation: Callable[[KmsResponse], str]) -> Callable[[KmsResponse], str]:
    @functools.wraps(operation)
    def answer(self: KmsResponse) -> str:
        if self._get_param("MessageType") != "DIGEST":
            return operation(self)
        algorithm = str(self._get_param("SigningAlgorithm") or "")
        message = self._get_param("Message")
        length = len(_b64decoded(message))
        wanted = _DIGEST_BYTES.get(algorithm[-7:])
        if wanted is not None and length != wanted:
            raise ValidationException(f"Digest is invalid length for algorithm {algorithm}.")
        token = _given_digest.set(True)
        try:
            return operation(self)
        finally:
            _given_digest.reset(token)

    return answer


def _b64decoded(message: Any) -> bytes:
    return base64.b64decode(message) if isinstance(message, str) else bytes(message or b"")


def _ecdsa_sign(sign: Callable[..., bytes]) -> Callable[..., bytes]:
    def digest_sign(self: ECDSAPrivateKey, message: bytes, signing_algorithm: str) -> bytes:
        if not _given_digest.get():
            return sign(self, message, signing_algorithm)
        algorithm = self._ECDSAPrivateKey__hash_algorithm(signing_algorithm)  # type: ignore[attr-defined]
        return bytes(self.private_key.sign(message, ec.ECDSA(Prehashed(algorithm))))

    return digest_sign


def _ecdsa_verify(verify: Callable[..., bool]) -> Callable[..., bool]:
    def digest_verify(self: ECDSAPrivateKey, message: bytes, signature: bytes, algorithm_name: str) -> bool:
        if not _given_digest.get():
            return verify(self, message, signature, algorithm_name)
        algorithm = self._ECDSAPrivateKey__hash_algorithm(algorithm_name)  # type: ignore[attr-defined]
        return _verified(
            lambda: self.private_key.public_key().verify(signature, message, ec.ECDSA(Prehashed(algorithm)))
        )

    return digest_verify


def _rsa_sign(sign: Callable[..., bytes]) -> Callable[..., bytes]:
    def digest_sign(self: RSAPrivateKey, message: bytes, signing_algorithm: str) -> bytes:
        if not _given_digest.get():
            return sign(self, message, signing_algorithm)
        pad, algorithm = self._RSAPrivateKey__padding_and_hash_algorithm(signing_algorithm)  # type: ignore[attr-defined]
        return bytes(self.private_key.sign(message, pad, Prehashed(algorithm)))

    return digest_sign


def _rsa_verify(verify: Callable[..., bool]) -> Callable[..., bool]:
    def digest_verify(self: RSAPrivateKey, message: bytes, signature: bytes, signing_algorithm: str) -> bool:
        if not _given_digest.get():
            return verify(self, message, signature, signing_algorithm)
        pad, algorithm = self._RSAPrivateKey__padding_and_hash_algorithm(signing_algorithm)  # type: ignore[attr-defined]
        public_key = self.private_key.public_key()
        return _verified(lambda: public_key.verify(signature, message, pad, Prehashed(algorithm)))

    return digest_verify


def _verified(check: Callable[[], None]) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        check()
    except InvalidSignature:
        return False
    return True


def make_dynamodb_atomic() -> None:
    if getattr(DynamoDBBackend, "_atomic_writes", False):
        return
    lock = _WriteLock()
    for owner, names in ((DynamoDBBackend, _WRITES), (DynamoHandler, _READS)):
        for name in names:
            setattr(owner, name, _under(lock, getattr(owner, name)))
    DynamoDBBackend._atomic_writes = True  # type: ignore[attr-defined]


def _under(lock: _WriteLock, method: Any) -> Any:
    @functools.wraps(method)
    def atomic(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock.held():
            return method(self, *args, **kwargs)

    return atomic


class _WriteLock:
    """A reentrant lock that a thread takes only while it runs. A thread blocked on a plain lock owns it
    as soon as it is released, and then waits for the GIL before it can write anything: under load
    every handoff held all DynamoDB writes up for a switch interval (5 ms), and the writes queued for
    ~65 ms each behind ~1 ms of work. Here a released lock is taken by whichever thread asks next
    while running; a waiting thread is woken to try again, owning nothing while it waits for the GIL."""

    def __init__(self) -> None:
        self._owned = threading.Lock()
        self._freed = threading.Condition()
        self._depth = threading.local()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        depth = getattr(self._depth, "n", 0)
        if depth == 0:
            self._acquire()
        self._depth.n = depth + 1
        try:
            yield
        finally:
            self._depth.n = depth
            if depth == 0:
                self._release()

    def _acquire(self) -> None:
        if self._owned.acquire(blocking=False):
            return
        with self._freed:
            while not self._owned.acquire(blocking=False):
                self._freed.wait()

    def _release(self) -> None:
        self._owned.release()
        with self._freed:
            self._freed.notify()
