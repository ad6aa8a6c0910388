"""Secrets come from SSM as deployed; one not stored yet is a 503 to retry, not a crash; a rotated one
is read again once it is older than its max age, by the containers already running."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import ClassVar

import boto3
import pytest

from local.iam.enforce import Revocations, Role, acting_as
from local.iam.policy import Policy
from local.serve.application import LOCAL_ACCOUNT
from tests.stub_server import StubHandler, stub_server
from tests.support import SETTINGS_ENV
from videos_core import wiring
from videos_core.adapters.secrets import Secrets
from videos_core.errors import ServiceUnavailable

NAME = "/videos-api/webhook-secret"
KEY_PARAMETER = SETTINGS_ENV["UPSTREAM_API_KEY_PARAMETER"]


def test_a_stored_secret_is_read_decrypted(moto_account: None) -> None:
    client = boto3.client("ssm", region_name="us-east-1")
    client.put_parameter(Name=NAME, Value="whsec_abc", Type="SecureString")

    assert Secrets(client, 300).read(NAME) == "whsec_abc"


def test_a_secret_not_stored_yet_is_service_unavailable_for_a_while(moto_account: None) -> None:
    with pytest.raises(ServiceUnavailable, match="not stored yet") as missing:
        Secrets(boto3.client("ssm", region_name="us-east-1"), 300).read(NAME)

    assert missing.value.status == 503
    assert missing.value.retry_after == 60


def test_a_secret_that_cannot_be_read_is_service_unavailable_shortly_without_its_value(
    moto_account: None,
) -> None:
    client = boto3.client("ssm", region_name="us-east-1")
    client.put_parameter(Name=NAME, Value="whsec_abc", Type="SecureString")
    no_grants = Policy("arn:aws:iam::123456789012:role/videos-api-TestRole", ())

    with (
        acting_as(Role("videos-api-Test", no_grants, LOCAL_ACCOUNT, Revocations(None))),
        pytest.raises(ServiceUnavailable, match="could not be read") as refused,
    ):
        Secrets(client, 300).read(NAME)

    assert refused.value.retry_after == 5
    assert "whsec_abc" not in str(refused.value)


_VIDEO = {"id": "video_1", "object": "video", "status": "in_progress", "progress": 10, "model": "sora-2"}
_VIDEO |= {"seconds": "4", "size": "720x1280", "created_at": 1}


class _Upstream(StubHandler):
    """An OpenAI-shaped upstream that notes the key each request carries."""

    keys: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.keys.append(self.headers.get("authorization", "").removeprefix("Bearer "))
        self.answer(200, _VIDEO)


@pytest.fixture
def upstream_url() -> Iterator[str]:
    _Upstream.keys.clear()
    with stub_server(_Upstream) as url:
        yield f"{url}/v1"


def test_a_rotated_upstream_key_is_used_once_the_one_read_is_older_than_its_max_age(
    moto_account: None, upstream_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a warm container that called the upstream with the stored key
    client = boto3.client("ssm", region_name="us-east-1")
    client.put_parameter(Name=KEY_PARAMETER, Value="sk-first", Type="SecureString")
    environment = SETTINGS_ENV | {"UPSTREAM_BASE_URL": upstream_url, "UPSTREAM_KEY_MAX_AGE_SECONDS": "1"}
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    wiring.reset()
    upstream = wiring.upstream(1)
    try:
        upstream.retrieve("sora-2", "video_1")

        # When the operator rotates the key in SSM
        client.put_parameter(Name=KEY_PARAMETER, Value="sk-second", Type="SecureString", Overwrite=True)
        upstream.retrieve("sora-2", "video_1")
        time.sleep(1.1)
        upstream.retrieve("sora-2", "video_1")
    finally:
        upstream.close()
        wiring.reset()

    # Then the same container sends the new key once the old one's max age is over, no restart
    assert _Upstream.keys == ["sk-first", "sk-first", "sk-second"]
