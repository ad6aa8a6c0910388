"""The moto (and werkzeug) internals the local AWS endpoint patches are still there: an upgrade that
moves one fails here, by name, rather than as a slower or less faithful endpoint."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler
from moto.kms.responses import KmsResponse
from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import WSGIRequestHandler

from local.serve.moto_fidelity import _READS, _WRITES, KMS_DIGEST_OPERATIONS, KMS_KEY_METHODS
from local.serve.moto_speedups import patched_internals

PATCHED = [
    *patched_internals(),
    *((DynamoDBBackend, name) for name in _WRITES),
    *((DynamoHandler, name) for name in _READS),
    # local.serve.moto_fidelity signs a KMS digest as given, with each key class's own hash.
    *((KmsResponse, name) for name in KMS_DIGEST_OPERATIONS),
    *KMS_KEY_METHODS,
    *((owner, method) for owner, _ in KMS_KEY_METHODS for method in ("sign", "verify")),
    # local.serve.keep_alive overrides these of werkzeug's handler.
    (MotoRequestHandler, "run_wsgi"),
    (MotoRequestHandler, "send_header"),
]


@pytest.mark.parametrize(("owner", "name"), PATCHED, ids=lambda value: getattr(value, "__name__", value))
def test_each_patched_internal_exists(owner: object, name: str) -> None:
    assert callable(getattr(owner, name, None)), f"{getattr(owner, '__name__', owner)}.{name} is gone"


def test_the_endpoints_moto_leaves_ec2s_models_unimported_and_still_reaches_them() -> None:
    # local.serve.moto_imports registers moto.ec2 and moto.batch without their __init__, which only
    # import their models.
    probe = (
        "import sys; from local.serve.moto_imports import defer_unserved_models; defer_unserved_models();"
        "import local.serve.moto_speedups, moto.ssm.models; from moto.backends import get_backend;"
        "print('moto.ec2.models' in sys.modules,"
        " *(type(get_backend(name)['123456789012']['us-east-1']).__name__ for name in ('batch', 'ec2')))"
    )
    answer = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert answer.stdout.split() == ["False", "BatchBackend", "EC2Backend"]


def test_werkzeugs_drain_still_makes_its_selector_from_the_module() -> None:
    # local.serve.keep_alive answers werkzeug's drain of a counted body through `serving.selectors`.
    assert "selectors.DefaultSelector()" in inspect.getsource(WSGIRequestHandler.run_wsgi)


def test_a_declared_kms_key_is_made_under_its_own_id() -> None:
    # local.serve.kms_keys renames a key moto made (its `id`, `arn` and place in the backend's keys).
    import boto3
    from moto import mock_aws

    from local.serve.kms_keys import make_key

    with mock_aws():
        make_key("123456789012", "us-east-1", "0c71327e-66cb-57d1-9276-e09c660aa761", "declared")
        kms = boto3.client("kms", region_name="us-east-1")
        arn = kms.describe_key(KeyId="0c71327e-66cb-57d1-9276-e09c660aa761")["KeyMetadata"]["Arn"]
        sealed = kms.encrypt(KeyId=arn, Plaintext=b"whsec_x")["CiphertextBlob"]

        assert arn.endswith(":key/0c71327e-66cb-57d1-9276-e09c660aa761")
        assert kms.decrypt(KeyId=arn, CiphertextBlob=sealed)["Plaintext"] == b"whsec_x"
