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


READ_VIDEOS = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/videos/*"}
LIST_BUCKET = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"}


def test_a_missing_key_is_403_to_a_role_that_may_not_list_the_bucket_and_404_to_one_that_may(
    s3: object,
) -> None:
    client = boto3.client("s3", region_name="us-east-1")
    with acting_as(role(READ_VIDEOS)):
        assert client.get_object(Bucket=BUCKET, Key="videos/a")["Body"].read() == b"x"
        with pytest.raises(ClientError) as got:
            client.get_object(Bucket=BUCKET, Key="videos/missing")
        with pytest.raises(ClientError) as headed:
            client.head_object(Bucket=BUCKET, Key="videos/missing")
    with acting_as(role(READ_VIDEOS, LIST_BUCKET)), pytest.raises(ClientError) as listed:
        client.get_object(Bucket=BUCKET, Key="videos/missing")

    assert (got.value.response["Error"]["Code"], got.value.response["Error"]["Message"]) == (
        "AccessDenied",
        "Access Denied",
    )
    assert got.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert (
        headed.value.response["Error"]["Code"],
        headed.value.response["ResponseMetadata"]["HTTPStatusCode"],
    ) == (
        "403",
        403,
    )
    assert listed.value.response["Error"]["Code"] == "NoSuchKey"


def test_a_url_the_role_may_not_use_fails_when_signed(s3: object) -> None:
    client = boto3.client("s3", region_name="us-east-1")
    with acting_as(role(DELETE_VIDEOS)), pytest.raises(ClientError, match="s3:GetObject"):
        client.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "videos/a"})


def test_calls_outside_any_role_are_not_judged(s3: object) -> None:
    client = boto3.client("s3", region_name="us-east-1")
    with acting_as(role()):
        pass

    assert client.delete_object(Bucket=BUCKET, Key="other/c")["ResponseMetadata"]["HTTPStatusCode"] == 204


KEY_PARAMETER = "/videos-api/upstream-keys/fal"
READ_KEYS = {
    "Effect": "Allow",
    "Action": "ssm:GetParameter",
    "Resource": "arn:aws:ssm:us-east-1:123456789012:parameter/videos-api/upstream-keys/*",
}


def decrypt_through_ssm(key_arn: str, parameters: str) -> dict[str, object]:
    return {
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": key_arn,
        "Condition": {
            "StringEquals": {"kms:ViaService": "ssm.us-east-1.amazonaws.com"},
            "StringLike": {"kms:EncryptionContext:PARAMETER_ARN": parameters},
        },
    }


@pytest.fixture
def customer_key(moto_account: None) -> str:
    """A customer managed key's ARN, with the upstream key's parameter encrypted under it."""
    key_arn = str(boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"])
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name=KEY_PARAMETER, Value="fal-key", Type="SecureString", KeyId=key_arn
    )
    return key_arn


def test_a_securestring_under_a_customer_key_needs_the_callers_decrypt_through_ssm(customer_key: str) -> None:
    client = boto3.client("ssm", region_name="us-east-1")
    with acting_as(role(READ_KEYS)), pytest.raises(ClientError) as denied:
        client.get_parameter(Name=KEY_PARAMETER, WithDecryption=True)
    with acting_as(role(READ_KEYS)):
        encrypted = client.get_parameter(Name=KEY_PARAMETER)["Parameter"]["Value"]
    parameter_arn = f"arn:aws:ssm:us-east-1:123456789012:parameter{KEY_PARAMETER}"
    with acting_as(role(READ_KEYS, decrypt_through_ssm(customer_key, parameter_arn))):
        value = client.get_parameter(Name=KEY_PARAMETER, WithDecryption=True)["Parameter"]["Value"]

    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"not authorized to perform: kms:Decrypt on resource: {customer_key}" in str(denied.value)
    assert encrypted != "fal-key"
    assert value == "fal-key"


def test_a_decrypt_grant_holds_for_the_parameters_its_encryption_context_names(customer_key: str) -> None:
    client = boto3.client("ssm", region_name="us-east-1")
    other_parameters = "arn:aws:ssm:us-east-1:123456789012:parameter/other/*"

    with (
        acting_as(role(READ_KEYS, decrypt_through_ssm(customer_key, other_parameters))),
        pytest.raises(ClientError, match="kms:Decrypt"),
    ):
        client.get_parameter(Name=KEY_PARAMETER, WithDecryption=True)


def test_a_key_named_by_its_alias_is_judged_as_the_key_it_points_to(customer_key: str) -> None:
    boto3.client("kms", region_name="us-east-1").create_alias(
        AliasName="alias/upstream-keys", TargetKeyId=customer_key
    )
    client = boto3.client("ssm", region_name="us-east-1")
    client.put_parameter(
        Name=KEY_PARAMETER, Value="fal-key", Type="SecureString", KeyId="alias/upstream-keys", Overwrite=True
    )

    with acting_as(role(READ_KEYS)), pytest.raises(ClientError) as denied:
        client.get_parameter(Name=KEY_PARAMETER, WithDecryption=True)

    assert f"kms:Decrypt on resource: {customer_key}" in str(denied.value)


def test_a_securestring_under_ssms_aws_managed_key_needs_no_grant_of_the_callers(moto_account: None) -> None:
    client = boto3.client("ssm", region_name="us-east-1")
    client.put_parameter(Name=KEY_PARAMETER, Value="fal-key", Type="SecureString")

    with acting_as(role(READ_KEYS)):
        value = client.get_parameter(Name=KEY_PARAMETER, WithDecryption=True)["Parameter"]["Value"]

    assert value == "fal-key"
