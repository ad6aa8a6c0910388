"""The local AWS endpoint's CPU per request, for the calls a job makes most (DynamoDB GetItem,
UpdateItem, TransactWriteItems, S3 PutObject and GetObject, EventBridge PutEvents), with its fast path
on and off (`LOCAL_AWS_FAST_PATH=off`).

Each case starts `serve`, makes REQUESTS calls of each kind from this process as a function would
(over HTTP, with a function's key) against a videos table of RECORDS jobs, and reads the endpoint
process's CPU time from /proc before and after: the server's side of each call, HTTP parsing included.

    uv run python -m bench.aws_endpoint [--requests 400]
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.cpu import ENDPOINT, cpu_seconds
from bench.report import Table, publish
from local.serve.application import declared_application
from local.serve.aws_endpoint import client
from tests.support import serving

KEY = "sk-bench-aws-endpoint-0123456789"
APPLICATION = declared_application()
TABLE = APPLICATION.tables["VideosTable"]
BUCKET = APPLICATION.buckets["AssetsBucket"]
BUS = APPLICATION.event_buses["EventBus"]
BODY = b"\0" * 200_000  # a thumbnail's size
RECORDS = 500  # the videos table holds a busy day's jobs, as under load (a transaction's cost grew with it)


def calls(endpoint: str) -> dict[str, Callable[[], Any]]:
    dynamodb, s3, events = (
        client(service, endpoint, access_key="BenchFunction") for service in ("dynamodb", "s3", "events")
    )
    key = {"owner": {"S": "bench"}, "video_id": {"S": "vid_bench"}}
    for n in range(RECORDS):
        record = {"owner": {"S": f"owner-{n % 50}"}, "video_id": {"S": f"vid_{n:04d}"}}
        dynamodb.put_item(
            TableName=TABLE, Item=record | {"status": {"S": "completed"}, "progress": {"N": "100"}}
        )
    dynamodb.put_item(TableName=TABLE, Item=key | {"progress": {"N": "0"}})
    s3.put_object(Bucket=BUCKET, Key="videos/bench/video.mp4", Body=BODY)
    update = {
        "TableName": TABLE,
        "Key": key,
        "UpdateExpression": "SET progress = progress + :one",
        "ConditionExpression": "attribute_exists(video_id)",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    return {
        "dynamodb GetItem": lambda: dynamodb.get_item(TableName=TABLE, Key=key, ConsistentRead=True),
        "dynamodb UpdateItem": lambda: dynamodb.update_item(**update),
        "dynamodb TransactWriteItems": lambda: dynamodb.transact_write_items(
            TransactItems=[{"Update": update}]
        ),
        "s3 PutObject": lambda: s3.put_object(
            Bucket=BUCKET, Key="videos/bench/thumbnail.jpg", Body=BODY, ServerSideEncryption="AES256"
        ),
        "s3 GetObject": lambda: s3.get_object(Bucket=BUCKET, Key="videos/bench/video.mp4")["Body"].read(),
        "events PutEvents": lambda: events.put_events(
            Entries=[{"Source": "bench", "DetailType": "Bench", "Detail": "{}", "EventBusName": BUS}]
        ),
    }


def measure(fast_path: bool, requests: int) -> dict[str, float]:
    """CPU ms of the endpoint per request, by call."""
    env = {} if fast_path else {"LOCAL_AWS_FAST_PATH": "off"}
    with tempfile.TemporaryDirectory() as data, serving(KEY, Path(data), env=env) as service:
        found = {}
        for name, call in calls(service.aws).items():
            for _ in range(20):
                call()
            before = cpu_seconds()[ENDPOINT]
            for _ in range(requests):
                call()
            found[name] = (cpu_seconds()[ENDPOINT] - before) / requests * 1000
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=400)
    requests = parser.parse_args().requests
    off, on = measure(False, requests), measure(True, requests)
    table = Table(
        f"The local AWS endpoint's CPU per request, mean of {requests} (ms)",
        ["call", "moto alone", "with the fast path", "saved"],
    )
    for name in off:
        table.add(name, f"{off[name]:.2f}", f"{on[name]:.2f}", f"{1 - on[name] / off[name]:.0%}")
    publish("aws_endpoint", table)


if __name__ == "__main__":
    main()
