"""The local AWS endpoint's `/_faults`: each armed error answered as its service answers it, to the
calls it matches, as many times as asked — and never to the observer's own calls."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local.serve.aws_endpoint import LocalAws, client
from tests.support import HTTP

ONE_ATTEMPT = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture(scope="module", autouse=True)
def _resources(aws: LocalAws) -> None:
    observer = aws.client("dynamodb")
    for table in ("faulted-table", "other-table"):
        observer.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    aws.client("s3").create_bucket(Bucket="faulted-bucket")
    aws.client("events").create_event_bus(Name="faulted-bus")


@pytest.fixture(autouse=True)
def _disarmed(aws: LocalAws) -> Iterator[None]:
    yield
    HTTP.delete(f"{aws.endpoint}/_faults")


def function_client(aws: LocalAws, service: str) -> Any:
    """A client as a function's (not the observer's), making one attempt per call."""
    return client(service, aws.endpoint, ONE_ATTEMPT)


def get(dynamodb: Any, table: str) -> dict[str, Any]:
    return dict(dynamodb.get_item(TableName=table, Key={"id": {"S": "x"}}))


@pytest.mark.parametrize("error", ["ProvisionedThroughputExceededException", "ThrottlingException"])
def test_dynamodb_throttles_match_their_operation_and_table_as_often_as_armed(
    aws: LocalAws, error: str
) -> None:
    aws.arm_fault(service="dynamodb", error=error, operation="GetItem", resource="faulted", times=2)
    dynamodb = function_client(aws, "dynamodb")

    get(dynamodb, "other-table")  # another table
    dynamodb.put_item(TableName="faulted-table", Item={"id": {"S": "x"}})  # another operation
    get(aws.client("dynamodb"), "faulted-table")  # the observer
    for _ in range(2):
        with pytest.raises(ClientError) as raised:
            get(dynamodb, "faulted-table")
        assert raised.value.response["Error"]["Code"] == error
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    get(dynamodb, "faulted-table")
    [rule] = aws.faults()
    assert (rule["times"], rule["triggered"]) == (0, 2)


def test_a_transaction_is_throttled_by_any_table_it_writes(aws: LocalAws) -> None:
    aws.arm_fault(
        service="dynamodb", error="ThrottlingException", operation="TransactWriteItems", resource="faulted"
    )
    item = {"Put": {"TableName": "faulted-table", "Item": {"id": {"S": "t"}}}}
    other = {"Put": {"TableName": "other-table", "Item": {"id": {"S": "t"}}}}

    with pytest.raises(ClientError, match="ThrottlingException"):
        function_client(aws, "dynamodb").transact_write_items(TransactItems=[other, item])


@pytest.mark.parametrize(("error", "status"), [("InternalError", 500), ("SlowDown", 503)])
def test_s3_errors_come_as_s3_answers_them(aws: LocalAws, error: str, status: int) -> None:
    aws.arm_fault(service="s3", error=error, operation="PutObject", resource="faulted-bucket")

    with pytest.raises(ClientError) as raised:
        function_client(aws, "s3").put_object(Bucket="faulted-bucket", Key="k", Body=b"x")

    assert raised.value.response["Error"]["Code"] == error
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_a_multipart_copy_meets_its_part_faults(aws: LocalAws) -> None:
    s3 = function_client(aws, "s3")
    upload = s3.create_multipart_upload(Bucket="faulted-bucket", Key="big")["UploadId"]
    aws.arm_fault(service="s3", error="SlowDown", operation="UploadPart")

    with pytest.raises(ClientError, match="SlowDown"):
        s3.upload_part(Bucket="faulted-bucket", Key="big", UploadId=upload, PartNumber=1, Body=b"x")
    s3.upload_part(Bucket="faulted-bucket", Key="big", UploadId=upload, PartNumber=1, Body=b"x")


def test_failed_entries_put_nothing_on_the_bus(aws: LocalAws) -> None:
    aws.arm_fault(service="events", error="FailedEntry", operation="PutEvents")
    entry = {"Source": "s", "DetailType": "d", "Detail": "{}", "EventBusName": "faulted-bus"}

    refused = function_client(aws, "events").put_events(Entries=[entry, entry])
    accepted = function_client(aws, "events").put_events(Entries=[entry])

    assert refused["FailedEntryCount"] == 2
    assert {e["ErrorCode"] for e in refused["Entries"]} == {"InternalFailure"}
    assert accepted["FailedEntryCount"] == 0


def test_step_functions_throttling(aws: LocalAws) -> None:
    aws.arm_fault(service="states", error="ThrottlingException", operation="ListStateMachines")

    with pytest.raises(ClientError, match="ThrottlingException"):
        function_client(aws, "stepfunctions").list_state_machines()


@pytest.mark.parametrize(
    "rule",
    [
        {"service": "dynamodb", "error": "SlowDown"},
        {"service": "s3", "error": "FailedEntry"},
        {"service": "dynamodb", "error": "ThrottlingException", "times": 0},
        {"service": "dynamodb", "error": "ThrottlingException", "colour": "red"},
    ],
)
def test_a_rule_that_cannot_be_applied_is_refused(aws: LocalAws, rule: dict[str, Any]) -> None:
    answer = HTTP.post(f"{aws.endpoint}/_faults", json=rule)

    assert answer.status_code == 400
    assert answer.json()["error"]


def test_calls_are_counted_by_caller_and_operation_and_the_observers_are_not(aws: LocalAws) -> None:
    aws.forget_calls()
    create = client("dynamodb", aws.endpoint, ONE_ATTEMPT, access_key="CreateFunction")
    store = client("s3", aws.endpoint, ONE_ATTEMPT, access_key="StoreAssetsFunction")
    for _ in range(2):
        get(create, "faulted-table")
    store.put_object(Bucket="faulted-bucket", Key="counted", Body=b"x")
    aws.client("dynamodb").get_item(TableName="faulted-table", Key={"id": {"S": "x"}})
    aws.arm_fault(service="dynamodb", error="ThrottlingException", operation="GetItem")
    with pytest.raises(ClientError):
        get(create, "faulted-table")  # a faulted call was still made

    assert aws.calls() == {
        "CreateFunction": {"dynamodb:GetItem": 3},
        "StoreAssetsFunction": {"s3:PutObject": 1},
    }
    aws.forget_calls()
    assert aws.calls() == {}
