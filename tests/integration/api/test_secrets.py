"""Secrets come from SSM as deployed; one not stored yet is a 503 to retry, not a crash."""

from __future__ import annotations

import boto3
import pytest

from videos_core.adapters.secrets import read_secret
from videos_core.errors import ServiceUnavailable


def test_a_stored_secret_is_read_decrypted(moto_account: None) -> None:
    client = boto3.client("ssm", region_name="us-east-1")
    client.put_parameter(Name="/videos-api/webhook-secret", Value="whsec_abc", Type="SecureString")

    assert read_secret(client, "/videos-api/webhook-secret") == "whsec_abc"


def test_a_secret_not_stored_yet_is_service_unavailable_for_a_while(moto_account: None) -> None:
    with pytest.raises(ServiceUnavailable, match="not stored yet") as missing:
        read_secret(boto3.client("ssm", region_name="us-east-1"), "/videos-api/webhook-secret")

    assert missing.value.status == 503
    assert missing.value.retry_after == 60
