"""Calls judged by a role through botocore, against moto: refused as AWS refuses them."""

from __future__ import annotations

from collections.abc import Mapping

import boto3
import pytest
from botocore.exceptions import ClientError

from local.iam.enforce import Revocations, Role, acting_as
from local.iam.policy import Policy, parse_document
from local.iam.requests import Account

ACCOUNT = Account("aws", "us-east-1", "123456789012")
BUCKET = "iam-test"


@pytest.fixture
def s3(moto_account: None) -> object:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    for key in ("videos/a", "videos/b", "other/c"):
        client.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    return client


def role(*statements: Mapping[str, object]) -> Role:
    policy = Policy(
        "arn:aws:iam::123456789012:role/videos-api-TestRole", parse_document("T", {"Statement": statements})
    )
    return Role("videos-api-Test", policy, ACCOUNT, Revocations(None))


DELETE_VIDEOS = {
    "Effect": "Allow",
    "Action": "s3:DeleteObject",
    "Resource": f"arn:aws:s3:::{BUCKET}/videos/*",
}


def test_a_call_the_role_may_not_make_is_access_denied_and_reaches_nothing(s3: object) -> None:
    client = boto3.client("s3", region_name="us-east-1")
    with acting_as(role(DELETE_VIDEOS)), pytest.raises(ClientError) as denied:
        client.delete_object(Bucket=BUCKET, Key="other/c")

    error = denied.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert (
        "assumed-role/videos-api-TestRole/videos-api-Test is not authorized to perform: s3:DeleteObject"
        in (error["Message"])
    )
    assert client.head_object(Bucket=BUCKET, Key="other/c")["ContentLength"] == 1


def test_a_multi_object_delete_reports_the_keys_it_may_not_delete_as_s3_does(s3: object) -> None:
    client = boto3.client("s3", region_name="us-east-1")
    with acting_as(role(DELETE_VIDEOS)):
        response = client.delete_objects(
            Bucket=BUCKET, Delete={"Objects": [{"Key": "videos/a"}, {"Key": "other/c"}], "Quiet": True}
        )
        only_refused = client.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "other/c"}]})

    assert [(e["Key"], e["Code"]) for e in response["Errors"]] == [("other/c", "AccessDenied")]
    assert [(e["Key"], e["Code"]) for e in only_refused["Errors"]] == [("other/c", "AccessDenied")]
    left = [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert left == ["other/c", "videos/b"]


def test_a_url_the_role_may_not_use_fails_when_signed(s3: object) -> None:
    client = boto3.client("s3", region_name="us-east-1")
    with acting_as(role(DELETE_VIDEOS)), pytest.raises(ClientError, match="s3:GetObject"):
        client.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "videos/a"})


def test_calls_outside_any_role_are_not_judged(s3: object) -> None:
    client = boto3.client("s3", region_name="us-east-1")
    with acting_as(role()):
        pass

    assert client.delete_object(Bucket=BUCKET, Key="other/c")["ResponseMetadata"]["HTTPStatusCode"] == 204
