"""The local AWS endpoint's kept state (local.serve.aws_state), against moto in this process: what a
snapshot holds comes back into the resources a new start makes, and a crash in the middle of writing one
leaves the one before it whole."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID as ACCOUNT

from local.serve.appconfig import AppConfig
from local.serve.application import kms_key_id
from local.serve.aws_state import OBJECTS, SNAPSHOT, AwsState, UnreadableStateError
from local.serve.kms_keys import make_key

BUCKET = "videos-api-assets"
TABLE = "videos-api-VideosTable"


def _resources() -> tuple[Any, Any]:
    """What a start makes from the template: an empty table and an empty bucket."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "video_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "video_id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    return dynamodb, s3


@pytest.fixture
def start(moto_account: None) -> Any:
    """A new start: moto emptied, the resources made again."""

    def again() -> tuple[Any, Any]:
        mock_aws().stop()  # moto's state goes, as a process's does
        mock_aws().start()
        return _resources()

    return again


def _ids(dynamodb: Any) -> set[str]:
    return {item["video_id"]["S"] for item in dynamodb.scan(TableName=TABLE)["Items"]}


def test_a_snapshot_comes_back_into_a_new_start_and_each_file_is_written_once(
    start: Any, tmp_path: Path
) -> None:
    dynamodb, s3 = _resources()
    state = AwsState(tmp_path)
    dynamodb.put_item(TableName=TABLE, Item={"video_id": {"S": "vid_1"}})
    s3.put_object(Bucket=BUCKET, Key="videos/vid_1/video.mp4", Body=b"mp4" * 1000, ContentType="video/mp4")
    boto3.client("ssm", region_name="us-east-1").put_parameter(Name="/kept", Value="v", Type="SecureString")
    state.write(state.capture(AppConfig()))
    (kept,) = (tmp_path / OBJECTS).iterdir()
    written = kept.stat().st_ino

    dynamodb.put_item(TableName=TABLE, Item={"video_id": {"S": "vid_2"}})
    state.write(state.capture(AppConfig(), frozenset({"dynamodb"})))
    assert [p.stat().st_ino for p in (tmp_path / OBJECTS).iterdir()] == [written]  # not written again

    dynamodb, s3 = start()
    assert AwsState(tmp_path).restore(AppConfig()) is True
    assert _ids(dynamodb) == {"vid_1", "vid_2"}
    stored = s3.get_object(Bucket=BUCKET, Key="videos/vid_1/video.mp4")
    assert (stored["Body"].read(), stored["ContentType"]) == (b"mp4" * 1000, "video/mp4")
    ssm = boto3.client("ssm", region_name="us-east-1")
    assert ssm.get_parameter(Name="/kept", WithDecryption=True)["Parameter"]["Value"] == "v"


def test_a_secret_sealed_before_a_restart_opens_after_it(start: Any, tmp_path: Path) -> None:
    key_id = kms_key_id("WebhookSecretsKey")
    make_key(ACCOUNT, "us-east-1", key_id, "the template's key")
    kms = boto3.client("kms", region_name="us-east-1")
    context = {"owner": "o", "webhook_endpoint": "we_1"}
    sealed = kms.encrypt(KeyId=key_id, Plaintext=b"whsec_x", EncryptionContext=context)["CiphertextBlob"]
    AwsState(tmp_path).write(AwsState(tmp_path).capture(AppConfig()))

    start()
    make_key(ACCOUNT, "us-east-1", key_id, "the template's key")  # made again by the new start
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(KeyId=key_id, CiphertextBlob=sealed, EncryptionContext=context)  # fresh material
    assert AwsState(tmp_path).restore(AppConfig()) is True
    opened = kms.decrypt(KeyId=key_id, CiphertextBlob=sealed, EncryptionContext=context)
    assert opened["Plaintext"] == b"whsec_x"


def test_a_crash_while_a_snapshot_is_written_leaves_the_last_one_whole(
    start: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dynamodb, s3 = _resources()
    state = AwsState(tmp_path)
    dynamodb.put_item(TableName=TABLE, Item={"video_id": {"S": "vid_1"}})
    state.write(state.capture(AppConfig()))
    dynamodb.put_item(TableName=TABLE, Item={"video_id": {"S": "vid_2"}})
    s3.put_object(Bucket=BUCKET, Key="videos/vid_2/video.mp4", Body=b"new")

    def crash(source: str, target: str) -> None:  # the process dies before the snapshot is named
        if Path(target).name == SNAPSHOT:
            raise SystemExit("killed")
        os.rename(source, target)

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(SystemExit):
        state.write(state.capture(AppConfig()))
    monkeypatch.undo()
    (tmp_path / f".{SNAPSHOT}-partial.tmp").write_bytes(b"half a snapshot")  # what a kill leaves

    dynamodb, s3 = start()
    assert AwsState(tmp_path).restore(AppConfig()) is True
    assert _ids(dynamodb) == {"vid_1"}
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    assert [p.name for p in tmp_path.iterdir() if p.name != OBJECTS] == [SNAPSHOT]
    assert list((tmp_path / OBJECTS).iterdir()) == []  # the object no snapshot names is gone


def test_a_state_this_version_cannot_read_is_refused_with_the_way_out(start: Any, tmp_path: Path) -> None:
    (tmp_path / SNAPSHOT).write_bytes(b"not a snapshot")
    start()
    with pytest.raises(UnreadableStateError, match="--reset"):
        AwsState(tmp_path).restore(AppConfig())


def test_the_signing_key_after_a_restart_is_the_one_its_certificate_names(start: Any, tmp_path: Path) -> None:
    # The development certificate is issued for the key's public key: a new private key would void it.
    key_id = kms_key_id("ContentCredentialsKey")
    signing = ("ECC_NIST_P256", "SIGN_VERIFY")
    make_key(ACCOUNT, "us-east-1", key_id, "the template's key", signing)
    kms = boto3.client("kms", region_name="us-east-1")
    public = kms.get_public_key(KeyId=key_id)["PublicKey"]
    AwsState(tmp_path).write(AwsState(tmp_path).capture(AppConfig()))

    start()
    make_key(ACCOUNT, "us-east-1", key_id, "the template's key", signing)
    assert kms.get_public_key(KeyId=key_id)["PublicKey"] != public  # made anew
    assert AwsState(tmp_path).restore(AppConfig()) is True
    assert kms.get_public_key(KeyId=key_id)["PublicKey"] == public
