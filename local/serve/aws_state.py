"""The local AWS endpoint's data on disk: DynamoDB's items, S3's objects, SSM's parameters, AppConfig's
store and the KMS keys' material, kept across restarts of `serve` in its data directory (a secret sealed
before a restart opens after it). The resources themselves (tables, buckets, the state machine, the event
bus, the keys) are made from the template at each start, as a deployment makes them; what is kept is what
they hold. Step Functions executions, CloudWatch metrics and AppConfig's sessions are not kept: an
execution cannot outlive the process that runs it (the reconciler ends its job).

moto has no persistence of its own (5.2): its state is Python objects, which are pickled, as LocalStack
keeps moto's backends. Two files' worth of layout, each written whole before it is named:

- `state.pickle` — one consistent snapshot of every kept service, written to a temporary file, flushed
  to disk, then renamed over the last one (a crash leaves the last one whole);
- `objects/<name>` — each S3 object's bytes, written once when the object is first kept (a moto object's
  bytes never change once it is made), flushed before any snapshot names it, and removed once no
  snapshot names it. A snapshot therefore carries the objects' metadata only, and costs no more to
  write for the size of the bucket's files."""

from __future__ import annotations

import io
import os
import pickle
import secrets
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import moto
from moto.backends import get_backend
from moto.s3.models import FakeKey

from local.engine.stored_files import write_whole
from local.serve.appconfig import AppConfig

SNAPSHOT = "state.pickle"
OBJECTS = "objects"
FORMAT = 1
# A FakeKey's attributes that are not its state: its bytes (kept in objects/) and its lock.
_NOT_STATE = ("_value_buffer", "lock")


class UnreadableStateError(Exception):
    """The kept state cannot be read by this version (or the file is not one)."""


@dataclass
class Captured:
    """A snapshot taken in memory: its bytes, and the objects' bytes it names that are not on disk yet."""

    snapshot: bytes
    new_objects: dict[str, bytes]
    named: set[str]


@dataclass
class _Objects:
    """Which objects' bytes are on disk, and the names of those a capture finds without one."""

    stored: set[str] = field(default_factory=set)
    new: dict[str, bytes] = field(default_factory=dict)
    named: set[str] = field(default_factory=set)

    def name_of(self, key: FakeKey) -> str:
        name = getattr(key, "_kept_as", None)
        if name is None or (name not in self.stored and name not in self.new):
            name = secrets.token_hex(16)
            self.new[name] = key.value
            key._kept_as = name  # type: ignore[attr-defined]
        self.named.add(name)
        return name


def _pickler(file: io.BytesIO, objects: _Objects) -> pickle.Pickler:
    """A pickler that keeps an S3 object as its state and the name of its bytes. By the pickler's
    dispatch table, looked up by type: a per-object hook (persistent_id) tripled a snapshot's time."""

    def reduce_key(key: FakeKey) -> tuple[Any, tuple[str, dict[str, Any]]]:
        state = key.__dict__.copy()
        for name in _NOT_STATE:
            del state[name]
        return _kept_object, (objects.name_of(key), state)

    pickler = pickle.Pickler(file, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {FakeKey: reduce_key}
    return pickler


def _kept_object(_name: str, _state: dict[str, Any]) -> FakeKey:
    """What a snapshot names an S3 object by; its unpickler reads the object's bytes instead."""
    raise pickle.UnpicklingError("an S3 object is read by AwsState's unpickler")


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, directory: Path) -> None:
        super().__init__(file)
        self._directory = directory
        self.named: set[str] = set()

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == (__name__, _kept_object.__name__):
            return self._load_key
        return super().find_class(module, name)

    def _load_key(self, name: str, state: dict[str, Any]) -> Any:
        key: Any = FakeKey.__new__(FakeKey)
        key.__dict__.update(state)
        # The object's buffer, as moto makes it: it lives as long as the object.
        key._value_buffer = tempfile.SpooledTemporaryFile(max_size=key._max_buffer_size)  # noqa: SIM115
        key._value_buffer.write((self._directory / OBJECTS / name).read_bytes())
        key.lock = threading.Lock()
        self.named.add(name)
        return key


def _regional(service: str) -> dict[tuple[str, str], Any]:
    """moto's backends of a service that exist, by (account, region or partition)."""
    return {
        (account, region): backend
        for account, backends in get_backend(service).items()  # type: ignore[call-overload]
        for region, backend in backends.items()
    }


def _put_back_items(data: Any) -> None:
    dynamodb = _regional("dynamodb")
    for where, tables in data.items():
        for name, items in tables.items():
            if where in dynamodb and name in dynamodb[where].tables:
                dynamodb[where].tables[name].items = items


def _put_back_objects(data: Any) -> None:
    s3 = _regional("s3")
    for where, buckets in data.items():
        for name, (keys, multiparts) in buckets.items():
            if where in s3 and name in s3[where].buckets:
                bucket = s3[where].buckets[name]
                bucket.keys, bucket.multiparts = keys, multiparts


def _put_back_parameters(data: Any) -> None:
    for (account, region), parameters in data.items():
        kept = get_backend("ssm")[account][region]._parameters
        for name, versions in parameters.items():
            kept.setdefault(name, versions)


def _key_material(key: Any) -> tuple[bytes, bytes | None]:
    """A key's symmetric material, and its private key (an asymmetric key's, as PKCS #8 DER: the
    certificate issued for its public key stays valid only while the key stays the same)."""
    from cryptography.hazmat.primitives import serialization

    private = getattr(getattr(key, "private_key", None), "private_key", None)
    der = (
        None
        if private is None
        else private.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return key.key_material, der


def _put_back_key_material(data: Any) -> None:
    """Each kept key's material into the key of its id that this start made (the template's keys are
    made under ids derived from the stack, so the same key is made again)."""
    from cryptography.hazmat.primitives import serialization

    kms = _regional("kms")
    for where, materials in data.items():
        for key_id, kept in materials.items():
            if where not in kms or key_id not in kms[where].keys:
                continue
            key = kms[where].keys[key_id]
            # A snapshot from before asymmetric keys were kept holds the material alone.
            material, private = kept if isinstance(kept, tuple) else (kept, None)
            key.key_material = material
            if private is not None:
                key.private_key.private_key = serialization.load_der_private_key(private, password=None)


@dataclass(frozen=True)
class _Service:
    """What a kept service holds, by resource name (items by table, objects by bucket), and how it is
    put into the resources a start made: into the table or bucket of its name (one the template no
    longer declares is dropped), a parameter unless this start wrote it (its own value is newer)."""

    held: Callable[[AppConfig], Any]
    put_back: Callable[[Any, AppConfig], None]


def _set_appconfig(data: Any, appconfig: AppConfig) -> None:
    appconfig.applications, appconfig.strategies = data["applications"], data["strategies"]


_SERVICES = {
    "dynamodb": _Service(
        lambda _: {
            where: {name: table.items for name, table in backend.tables.items()}
            for where, backend in _regional("dynamodb").items()
        },
        lambda data, _: _put_back_items(data),
    ),
    "s3": _Service(
        lambda _: {
            where: {name: (bucket.keys, bucket.multiparts) for name, bucket in backend.buckets.items()}
            for where, backend in _regional("s3").items()
        },
        lambda data, _: _put_back_objects(data),
    ),
    "ssm": _Service(
        lambda _: {where: dict(backend._parameters) for where, backend in _regional("ssm").items()},
        lambda data, _: _put_back_parameters(data),
    ),
    "kms": _Service(
        lambda _: {
            where: {key_id: _key_material(key) for key_id, key in backend.keys.items()}
            for where, backend in _regional("kms").items()
        },
        lambda data, _: _put_back_key_material(data),
    ),
    "appconfig": _Service(
        lambda appconfig: {"applications": appconfig.applications, "strategies": appconfig.strategies},
        _set_appconfig,
    ),
}
# The services a snapshot keeps, by the name their calls are signed for.
KEPT_SERVICES = frozenset(_SERVICES)


class AwsState:
    """The state kept in `directory`. Not thread-safe: one snapshot thread captures and writes, and a
    capture must run while no request changes what it reads."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._objects = _Objects()
        # Each service's last pickle and the objects it names: a service no call changed since is not
        # pickled again (a job's progress changes DynamoDB alone, and S3's pickle is the largest).
        self._pickled: dict[str, tuple[bytes, set[str]]] = {}

    def restore(self, appconfig: AppConfig) -> bool:
        """Puts the last snapshot's data into the endpoint's resources; False when there is none. Files a
        crash left (a snapshot being written, objects no snapshot names yet) are removed."""
        for staging in self.directory.glob(".*.tmp"):
            staging.unlink()
        path = self.directory / SNAPSHOT
        if not path.exists():
            return False
        kept: Any = None
        try:
            kept = pickle.loads(path.read_bytes())  # noqa: S301 - serve's own file, in its data directory
            if kept["format"] != FORMAT:
                raise ValueError(f"format {kept['format']}")
            for service, pickled in kept["services"].items():
                unpickler = _Unpickler(io.BytesIO(pickled), self.directory)
                _SERVICES[service].put_back(unpickler.load(), appconfig)
                self._objects.stored |= unpickler.named
        except Exception as e:
            written = kept.get("moto", "unknown") if isinstance(kept, dict) else "unknown"
            raise UnreadableStateError(
                f"The local AWS state in {self.directory} cannot be read (written with moto {written}, "
                f"this is moto {moto.__version__}): {type(e).__name__}: {e}. Start with --reset to begin "
                "empty."
            ) from e
        objects = self.directory / OBJECTS
        if objects.is_dir():
            for unnamed in {p.name for p in objects.iterdir()} - self._objects.stored:
                (objects / unnamed).unlink()
        return True

    def capture(self, appconfig: AppConfig, changed: frozenset[str] = KEPT_SERVICES) -> Captured:
        """The snapshot in memory, the services in `changed` pickled again, with the bytes of the objects
        new since the last one."""
        self._objects.new = {}
        for service in sorted(KEPT_SERVICES):
            if service in changed or service not in self._pickled:
                self._objects.named = set()
                buffer = io.BytesIO()
                _pickler(buffer, self._objects).dump(_SERVICES[service].held(appconfig))
                self._pickled[service] = (buffer.getvalue(), self._objects.named)
        snapshot = pickle.dumps(
            {
                "format": FORMAT,
                "moto": moto.__version__,
                "services": {service: pickled for service, (pickled, _) in self._pickled.items()},
            },
            protocol=pickle.HIGHEST_PROTOCOL,
        )
        named = set().union(*(names for _, names in self._pickled.values()))
        return Captured(snapshot, self._objects.new, named)

    def write(self, captured: Captured) -> None:
        """New objects first, then the snapshot naming them, each flushed to disk before it is named;
        then the objects the snapshot no longer names are removed."""
        try:
            objects = self.directory / OBJECTS
            objects.mkdir(parents=True, exist_ok=True)
            for name, data in captured.new_objects.items():
                write_whole(objects / name, data)
            _sync_directory(objects)
            self._objects.stored |= set(captured.new_objects)
            write_whole(self.directory / SNAPSHOT, captured.snapshot)
            _sync_directory(self.directory)
        except BaseException:
            self._pickled.clear()  # they may name objects never written: pickled afresh next time
            raise
        for name in self._objects.stored - captured.named:
            (objects / name).unlink(missing_ok=True)
        self._objects.stored &= captured.named


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
