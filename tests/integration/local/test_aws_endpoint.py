"""The local AWS endpoint keeps DynamoDB's guarantees that the service relies on, under racing writers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from threading import Barrier
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local.serve.aws_endpoint import FAST_PATH_SWITCH, LocalAws, client
from tests.integration.local.conftest import running_endpoint
from videos_core.adapters.quotas import DynamoQuotas, Limits
from videos_core.errors import VideoQuotaExceeded

RACERS = 12
ROUNDS = 15


def new_table(aws: LocalAws, name: str, *key: tuple[str, str]) -> Any:
    """A new table keyed by `key` (its partition key, then its sort key if it has one: each a name and
    a type); the endpoint's DynamoDB client."""
    dynamodb = aws.client("dynamodb")
    dynamodb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": attribute, "KeyType": kind}
            for (attribute, _), kind in zip(key, ("HASH", "RANGE"), strict=False)
        ],
        AttributeDefinitions=[{"AttributeName": attribute, "AttributeType": kind} for attribute, kind in key],
        BillingMode="PAY_PER_REQUEST",
    )
    return dynamodb


def test_racing_conditional_writes_let_exactly_one_writer_win(aws: LocalAws) -> None:
    # Given a table and a dozen writers, each with its own connection
    dynamodb = new_table(aws, "claims", ("id", "S"))
    writers = [client("dynamodb", aws.endpoint, Config(max_pool_connections=2)) for _ in range(RACERS)]

    for round_ in range(ROUNDS):
        key, start = f"job-{round_}", Barrier(RACERS)
        # When they all claim the same item at once
        with ThreadPoolExecutor(RACERS) as pool:
            claimants = map(str, range(RACERS))
            outcomes = list(pool.map(claim, writers, [key] * RACERS, claimants, [start] * RACERS))

        # Then exactly one claim succeeds, and the item names that writer
        assert sorted(outcomes) == ["ConditionalCheckFailedException"] * (RACERS - 1) + ["won"], round_
        item = dynamodb.get_item(TableName="claims", Key={"id": {"S": key}})["Item"]
        assert item["claimant"]["S"] == str(outcomes.index("won"))


def claim(dynamodb: Any, key: str, claimant: str, start: Barrier) -> str:
    """A conditional write that only the first claimant passes: "won", or the error code."""
    start.wait()
    try:
        dynamodb.update_item(
            TableName="claims",
            Key={"id": {"S": key}},
            UpdateExpression="SET claimant = :me",
            ConditionExpression="attribute_not_exists(claimant)",
            ExpressionAttributeValues={":me": {"S": claimant}},
        )
    except ClientError as e:
        return str(e.response["Error"]["Code"])
    return "won"


def test_a_read_racing_an_update_sees_the_item_whole(aws: LocalAws) -> None:
    # Given an item whose forty attributes an update sets together, again and again
    dynamodb = new_table(aws, "whole", ("id", "S"))
    names = [f"a{n}" for n in range(40)]
    key = {"id": {"S": "item"}}
    dynamodb.put_item(TableName="whole", Item=key | {name: {"N": "0"} for name in names})
    done = time.monotonic() + 1.5

    def update() -> int:
        writer, rounds = client("dynamodb", aws.endpoint), 0
        while time.monotonic() < done:
            rounds += 1
            writer.update_item(
                TableName="whole",
                Key=key,
                UpdateExpression="SET " + ", ".join(f"{name} = :n" for name in names),
                ExpressionAttributeValues={":n": {"N": str(rounds)}},
            )
        return rounds

    def read(operation: str) -> set[int]:
        reader, seen = client("dynamodb", aws.endpoint), set()
        while time.monotonic() < done:
            if operation == "get":
                items = [reader.get_item(TableName="whole", Key=key)["Item"]]
            else:
                items = reader.scan(TableName="whole")["Items"]
            for item in items:
                values = {item[name]["N"] for name in names}
                # Then no read sees one update's values beside another's
                assert len(values) == 1, values
                seen |= {int(value) for value in values}
        return seen

    # When readers read it all the while
    with ThreadPoolExecutor(3) as pool:
        rounds, *reads = [pool.submit(update), pool.submit(read, "get"), pool.submit(read, "scan")]
        seen = set().union(*(r.result() for r in reads))
    assert rounds.result() > 10
    assert len(seen) > 10


def test_a_cancelled_transaction_leaves_every_item_as_it_was(aws: LocalAws) -> None:
    # Given an existing item and a transaction that puts a new one, updates it, and fails a check
    dynamodb = new_table(aws, "ledger", ("id", "S"))
    dynamodb.put_item(TableName="ledger", Item={"id": {"S": "a"}, "n": {"N": "1"}})
    transaction = [
        {"Put": {"TableName": "ledger", "Item": {"id": {"S": "new"}, "n": {"N": "5"}}}},
        {
            "Update": {
                "TableName": "ledger",
                "Key": {"id": {"S": "a"}},
                "UpdateExpression": "SET n = n + :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
        {
            "ConditionCheck": {
                "TableName": "ledger",
                "Key": {"id": {"S": "missing"}},
                "ConditionExpression": "attribute_exists(id)",
            }
        },
    ]

    # When it is cancelled
    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(TransactItems=transaction)

    # Then neither write remains; without the failing check, both apply
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert "Item" not in dynamodb.get_item(TableName="ledger", Key={"id": {"S": "new"}})
    assert dynamodb.get_item(TableName="ledger", Key={"id": {"S": "a"}})["Item"]["n"] == {"N": "1"}
    dynamodb.transact_write_items(TransactItems=transaction[:2])
    assert dynamodb.get_item(TableName="ledger", Key={"id": {"S": "new"}})["Item"]["n"] == {"N": "5"}
    assert dynamodb.get_item(TableName="ledger", Key={"id": {"S": "a"}})["Item"]["n"] == {"N": "2"}


def test_a_cancelled_transaction_puts_back_what_it_deleted_and_overwrote_in_a_table_with_a_sort_key(
    aws: LocalAws,
) -> None:
    # Given two items under one partition key
    dynamodb = new_table(aws, "shelves", ("shelf", "S"), ("slot", "N"))
    first, second = ({"shelf": {"S": "s"}, "slot": {"N": n}} for n in ("1", "2"))
    dynamodb.put_item(TableName="shelves", Item=first | {"book": {"S": "Dune"}})
    dynamodb.put_item(TableName="shelves", Item=second | {"book": {"S": "Emma"}})
    delete_first = {"Delete": {"TableName": "shelves", "Key": first}}
    overwrite_second = {"Put": {"TableName": "shelves", "Item": second | {"book": {"S": "Ulysses"}}}}
    failing_check = {
        "ConditionCheck": {
            "TableName": "shelves",
            "Key": {"shelf": {"S": "s"}, "slot": {"N": "3"}},
            "ConditionExpression": "attribute_exists(book)",
        }
    }

    # When a transaction deletes one, overwrites the other and fails a check; and when one names an
    # item twice (refused before it ends)
    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(TransactItems=[delete_first, overwrite_second, failing_check])
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(
            TransactItems=[overwrite_second, {"Delete": {"TableName": "shelves", "Key": second}}]
        )

    # Then both items are as they were
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    books = dynamodb.query(
        TableName="shelves",
        KeyConditionExpression="shelf = :s",
        ExpressionAttributeValues={":s": {"S": "s"}},
    )["Items"]
    assert [(item["slot"]["N"], item["book"]["S"]) for item in books] == [("1", "Dune"), ("2", "Emma")]


def test_racing_creates_take_no_more_slots_than_the_limit(aws: LocalAws) -> None:
    # Given an owner allowed 5 running jobs, and a dozen creates racing for them
    dynamodb = new_table(aws, "quotas", ("owner", "S"), ("period", "S"))
    limits = Limits(max_running_jobs=5, daily_budget_usd=Decimal(1000))
    racers = [DynamoQuotas(client("dynamodb", aws.endpoint), "quotas", limits) for _ in range(RACERS)]
    start, now = Barrier(RACERS), int(time.time())

    def take(numbered: tuple[int, DynamoQuotas]) -> bool:
        number, quotas = numbered
        start.wait()
        try:
            quotas.take("racer", f"vid_{number}", Decimal("0.5"), now)
        except VideoQuotaExceeded:
            return False
        return True

    # When they take at once
    with ThreadPoolExecutor(RACERS) as pool:
        taken = list(pool.map(take, enumerate(racers)))

    # Then exactly 5 got a slot, and the running count and the day's spend say so
    assert taken.count(True) == 5
    items = dynamodb.query(
        TableName="quotas",
        KeyConditionExpression="#o = :o",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":o": {"S": "racer"}},
    )["Items"]
    running = next(item for item in items if item["period"]["S"] == "running")
    day = next(item for item in items if item["period"]["S"].startswith("day#"))
    assert len(running["video_ids"]["SS"]) == 5
    assert Decimal(day["spent_usd"]["N"]) == Decimal("2.5")


def test_a_state_over_step_functions_256_kib_fails_the_execution_as_on_aws(aws: LocalAws) -> None:
    """The quota the workflow's state must stay within (it carries ids, never files or prompts)."""
    sfn = aws.client("stepfunctions")
    doubled = {
        "StartAt": "Double",
        "States": {"Double": {"Type": "Pass", "Parameters": {"a.$": "$.big", "b.$": "$.big"}, "End": True}},
    }
    machine = sfn.create_state_machine(
        name="doubles", definition=json.dumps(doubled), roleArn="arn:aws:iam::123456789012:role/nobody"
    )["stateMachineArn"]

    fits = sfn.start_execution(stateMachineArn=machine, name="fits", input=json.dumps({"big": "x" * 100_000}))
    too_large = sfn.start_execution(
        stateMachineArn=machine, name="too-large", input=json.dumps({"big": "x" * 150_000})
    )

    def ended(execution: dict[str, Any]) -> dict[str, Any]:
        deadline = time.monotonic() + 20
        while (found := sfn.describe_execution(executionArn=execution["executionArn"]))[
            "status"
        ] == "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        return dict(found)

    assert ended(fits)["status"] == "SUCCEEDED"
    refused = ended(too_large)
    assert (refused["status"], refused.get("error")) == ("FAILED", "States.DataLimitExceeded")


@pytest.fixture(scope="module")
def aws_as_moto_serves() -> Iterator[LocalAws]:
    """A second endpoint with the fast path off: moto's server as it is."""
    with running_endpoint(**{FAST_PATH_SWITCH: "off"}) as endpoint:
        yield endpoint


def item_answers(aws: LocalAws) -> list[Any]:
    """What DynamoDB's item operations answer, every kind of attribute among them."""
    dynamodb = new_table(aws, "answers", ("pk", "S"), ("sk", "N"))
    every_kind = {
        "s": {"S": "text"},
        "n": {"N": "12.5"},
        "b": {"B": b"\x00\x01bytes"},
        "flag": {"BOOL": False},
        "nothing": {"NULL": True},
        "names": {"SS": ["a", "b"]},
        "numbers": {"NS": ["1", "2"]},
        "list": {"L": [{"S": "x"}, {"N": "3"}, {"M": {"deep": {"BOOL": True}}}]},
        "map": {"M": {"inner": {"S": "y"}, "count": {"N": "0"}}},
    }
    key = {"pk": {"S": "p"}, "sk": {"N": "1"}}
    plain_key = {"pk": {"S": "p"}, "sk": {"N": "2"}}
    answers = [
        dynamodb.put_item(TableName="answers", Item=key | every_kind),
        dynamodb.put_item(TableName="answers", Item=plain_key | {"s": {"S": "one"}}, ReturnValues="ALL_OLD"),
        dynamodb.put_item(TableName="answers", Item=plain_key | {"s": {"S": "two"}}, ReturnValues="ALL_OLD"),
        dynamodb.get_item(TableName="answers", Key=key),
        dynamodb.get_item(TableName="answers", Key=plain_key, ReturnConsumedCapacity="TOTAL"),
        dynamodb.get_item(TableName="answers", Key={"pk": {"S": "p"}, "sk": {"N": "9"}}),
        dynamodb.get_item(
            TableName="answers",
            Key=plain_key,
            ProjectionExpression="#s",
            ExpressionAttributeNames={"#s": "s"},
        ),
        dynamodb.update_item(
            TableName="answers",
            Key=plain_key,
            UpdateExpression="SET c = if_not_exists(c, :zero) + :one",
            ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"}},
            ReturnValues="ALL_NEW",
        ),
        dynamodb.update_item(
            TableName="answers",
            Key=plain_key,
            UpdateExpression="SET c = c + :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="UPDATED_OLD",
        ),
        dynamodb.update_item(
            TableName="answers", Key=plain_key, UpdateExpression="REMOVE c", ReturnValues="NONE"
        ),
        dynamodb.query(
            TableName="answers",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
            Limit=1,
        ),
        dynamodb.query(
            TableName="answers",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
            ScanIndexForward=False,
        ),
        dynamodb.query(
            TableName="answers",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
            Select="COUNT",
        ),
        dynamodb.scan(TableName="answers"),
        dynamodb.delete_item(TableName="answers", Key=plain_key, ReturnValues="ALL_OLD"),
        dynamodb.delete_item(TableName="answers", Key=plain_key),
    ]
    for answer in answers:
        answer.pop("ResponseMetadata")
    return answers


def test_item_operations_answer_as_moto_serves_them(aws: LocalAws, aws_as_moto_serves: LocalAws) -> None:
    assert item_answers(aws) == item_answers(aws_as_moto_serves)


def query_answers(aws: LocalAws) -> list[Any]:
    """What Query answers, by a table's key and by an index's, a page at a time and whole, on a table
    holding other partitions (a number's key spelled two ways among them)."""
    dynamodb = aws.client("dynamodb")
    dynamodb.create_table(
        TableName="queried",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "tag", "AttributeType": "S"},
            {"AttributeName": "rank", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-tag",
                "KeySchema": [{"AttributeName": "tag", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "by-rank",
                "KeySchema": [
                    {"AttributeName": "rank", "KeyType": "HASH"},
                    {"AttributeName": "tag", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for n in range(30):
        item = {"pk": {"S": f"p{n % 4}"}, "sk": {"N": str(n)}, "body": {"S": "x" * n}}
        if n % 3:
            item["tag"] = {"S": f"t{n % 5}"}
        if n % 2:
            item["rank"] = {"N": ("1.0" if n % 4 == 1 else "1") if n < 20 else str(n)}
        dynamodb.put_item(TableName="queried", Item=item)

    def pages(**query: Any) -> list[Any]:
        answers = [dynamodb.query(TableName="queried", **query)]
        while "LastEvaluatedKey" in answers[-1]:
            answers.append(
                dynamodb.query(
                    TableName="queried", ExclusiveStartKey=answers[-1]["LastEvaluatedKey"], **query
                )
            )
        return answers

    def by(expression: str, **values: dict[str, str]) -> dict[str, Any]:
        return {
            "KeyConditionExpression": expression,
            "ExpressionAttributeValues": {f":{k}": v for k, v in values.items()},
        }

    answers = [
        *pages(**by("pk = :p", p={"S": "p1"})),
        *pages(**by("pk = :p", p={"S": "p2"}), Limit=2, ScanIndexForward=False),
        *pages(
            **by("pk = :p AND sk BETWEEN :low AND :high", p={"S": "p3"}, low={"N": "5"}, high={"N": "20"})
        ),
        *pages(**by("pk = :p", p={"S": "nobody"})),
        *pages(IndexName="by-tag", **by("tag = :t", t={"S": "t1"})),
        *pages(IndexName="by-tag", Limit=3, **by("tag = :t", t={"S": "t2"})),
        *pages(IndexName="by-rank", **by("#r = :r", r={"N": "1"}), ExpressionAttributeNames={"#r": "rank"}),
        *pages(
            IndexName="by-rank",
            Limit=2,
            ScanIndexForward=False,
            **by("#r = :r AND tag > :t", r={"N": "1.00"}, t={"S": "t1"}),
            ExpressionAttributeNames={"#r": "rank"},
        ),
        *pages(
            IndexName="by-tag",
            FilterExpression="sk > :least",
            **by("tag = :t", t={"S": "t4"}, least={"N": "10"}),
        ),
        *pages(IndexName="by-tag", **by("tag = :t", t={"S": "absent"})),
        *pages(IndexName="by-tag", Select="COUNT", **by("tag = :t", t={"S": "t3"})),
    ]
    for answer in answers:
        answer.pop("ResponseMetadata")
    assert sum(answer["Count"] for answer in answers) > 30, "the queries find items"
    return answers


def test_queries_answer_as_moto_serves_them(aws: LocalAws, aws_as_moto_serves: LocalAws) -> None:
    assert query_answers(aws) == query_answers(aws_as_moto_serves)


def stream_images(aws: LocalAws) -> list[Any]:
    """The old and new images a table's stream records for updates, plain and in a transaction."""
    dynamodb = new_table(aws, "streamed", ("id", "S"))
    dynamodb.update_table(
        TableName="streamed",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    key = {"id": {"S": "a"}}
    dynamodb.put_item(TableName="streamed", Item=key | {"n": {"N": "1"}, "tags": {"L": [{"S": "x"}]}})
    dynamodb.update_item(
        TableName="streamed",
        Key=key,
        UpdateExpression="SET n = n + :one, tags = list_append(tags, :more)",
        ExpressionAttributeValues={":one": {"N": "1"}, ":more": {"L": [{"S": "y"}]}},
    )
    dynamodb.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": "streamed",
                    "Key": key,
                    "UpdateExpression": "REMOVE tags",
                }
            }
        ]
    )
    arn = dynamodb.describe_table(TableName="streamed")["Table"]["LatestStreamArn"]
    streams = aws.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    return [(r["eventName"], r["dynamodb"].get("OldImage"), r["dynamodb"].get("NewImage")) for r in records]


def test_a_stream_records_the_item_before_each_update(aws: LocalAws, aws_as_moto_serves: LocalAws) -> None:
    images = stream_images(aws)
    assert [(name, old and old.get("n"), new.get("n"), "tags" in new) for name, old, new in images] == [
        ("INSERT", None, {"N": "1"}, True),
        ("MODIFY", {"N": "1"}, {"N": "2"}, True),
        ("MODIFY", {"N": "2"}, {"N": "2"}, False),
    ]
    assert images[1][1]["tags"] == {"L": [{"S": "x"}]}
    assert images == stream_images(aws_as_moto_serves)
