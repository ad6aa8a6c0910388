"""The template's KMS keys in the local endpoint, each under the key id the local stack gives it
(`application.kms_key_id`): the roles' grants name the key by that ARN, and KMS's CreateKey picks an id
of its own. `PUT /_kms/keys/<key id>?spec=…&usage=…` makes one in moto's backend (the template's KeySpec
and KeyUsage: a symmetric encryption key where it names none); in-process tests call `make_key`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from moto.kms.models import kms_backends

PATH = "/_kms/keys/"


SYMMETRIC = ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")


def make_key(
    account: str, region: str, key_id: str, description: str, spec: tuple[str, str] = SYMMETRIC
) -> None:
    """A key with id `key_id` of `spec` (KeySpec, KeyUsage), as CloudFormation would make the template's."""
    backend = kms_backends[account][region]
    if key_id in backend.keys:
        return
    key = backend.create_key(
        policy=None,
        key_usage=spec[1],
        key_spec=spec[0],
        description=description,
        tags=None,
    )
    del backend.keys[key.id]
    key.id = key_id
    key.arn = f"{key.arn.rsplit('/', 1)[0]}/{key_id}"
    backend.keys[key_id] = key


class DeclaredKeys:
    """WSGI middleware answering `PUT /_kms/keys/<key id>` (the provisioning's call), the rest handed on."""

    def __init__(self, app: Callable[..., Iterable[bytes]], account: str, region: str) -> None:
        self.app, self.account, self.region = app, account, region

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if not path.startswith(PATH) or environ.get("REQUEST_METHOD") != "PUT":
            return self.app(environ, start_response)
        query = parse_qs(str(environ.get("QUERY_STRING", "")))
        spec = (query.get("spec", [SYMMETRIC[0]])[0], query.get("usage", [SYMMETRIC[1]])[0])
        make_key(self.account, self.region, path.removeprefix(PATH), "a key the template declares", spec)
        start_response("204 No Content", [("Content-Length", "0")])
        return [b""]
