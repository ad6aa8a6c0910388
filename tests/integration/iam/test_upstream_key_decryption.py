"""Upstream keys under the operator's own KMS key: with UpstreamKeysKmsKeyArn the functions that read
upstream keys decrypt them through SSM, and without it they are refused, as AWS refuses them (SSM
decrypts with the caller's own kms:Decrypt). Each function's role is the template's, judged in process."""

from __future__ import annotations

from functools import cache

import boto3
import pytest

from local.iam.enforce import Revocations, Role, acting_as
from local.serve.application import LOCAL_ACCOUNT, LocalApplication, LocalFunction, load_application
from local.template import application_template
from videos_core.adapters.secrets import Secrets
from videos_core.errors import ServiceUnavailable

ROUTE_KEY = "/videos-api/upstream-keys/fal"


@cache
def application(**parameters: str) -> LocalApplication:
    placeholder = {"UpstreamBaseUrl": "http://127.0.0.1:9/v1"}
    return load_application(application_template(), placeholder | parameters, {})


def reads_upstream_keys(function: LocalFunction) -> bool:
    return any(".ReadUpstreamKeyPolicy." in statement.name for statement in function.policy.statements)


def read_as(function: LocalFunction, name: str) -> str:
    client = boto3.client("ssm", region_name=LOCAL_ACCOUNT.region)
    with acting_as(Role(function.name, function.policy, LOCAL_ACCOUNT, Revocations(None))):
        return Secrets(client, 300).read(name)


@pytest.fixture
def key_arn(moto_account: None) -> str:
    """A customer managed key, and the upstream keys (the default's and a route's) encrypted under it."""
    arn = str(boto3.client("kms", region_name=LOCAL_ACCOUNT.region).create_key()["KeyMetadata"]["Arn"])
    ssm = boto3.client("ssm", region_name=LOCAL_ACCOUNT.region)
    for name in (application().parameters["UpstreamApiKeyParameter"], ROUTE_KEY):
        ssm.put_parameter(Name=name, Value=f"key-of-{name}", Type="SecureString", KeyId=arn)
    return arn


def test_without_the_key_named_an_upstream_key_under_it_cannot_be_read(key_arn: str) -> None:
    create = application().functions["CreateFunction"]

    with pytest.raises(ServiceUnavailable, match="could not be read") as refused:
        read_as(create, ROUTE_KEY)

    assert refused.value.retry_after == 5
    assert "not authorized to perform: kms:Decrypt" in str(refused.value.__cause__)


def test_with_the_key_named_every_function_that_calls_upstreams_reads_their_keys(key_arn: str) -> None:
    granted = application(UpstreamKeysKmsKeyArn=key_arn)
    readers = [f for f in granted.functions.values() if reads_upstream_keys(f)]
    default_key = granted.parameters["UpstreamApiKeyParameter"]

    # The webhook function too: it asks the upstream how a called-back job ended, and reads a
    # provider's signing secret as the route (Replicate's, with the route's key).
    assert {"CreateFunction", "CheckStatusFunction", "WebhookFunction"} <= {f.logical_id for f in readers}
    for function in readers:
        assert read_as(function, ROUTE_KEY) == f"key-of-{ROUTE_KEY}"
        assert read_as(function, default_key) == f"key-of-{default_key}"


def test_no_other_function_is_granted_the_key(key_arn: str) -> None:
    granted = application(UpstreamKeysKmsKeyArn=key_arn)
    others = [f for f in granted.functions.values() if not reads_upstream_keys(f)]

    assert others
    # (The webhook endpoints' functions decrypt their own secrets, under a key of the stack's.)
    assert [
        s.name
        for f in others
        for s in f.policy.statements
        if "kms:Decrypt" in s.actions and (key_arn in s.resources or "*" in s.resources)
    ] == []
