"""The local AWS endpoint's CPU per request, for the calls a job makes most (DynamoDB GetItem,
UpdateItem, TransactWriteItems, Query by owner and by upstream id, S3 PutObject and GetObject,
EventBridge PutEvents), with its fast path on and off (`LOCAL_AWS_FAST_PATH=off`).

Each case starts `serve`, makes REQUESTS calls of each kind from this process as a function would
(over HTTP, with a function's key) against a videos table of RECORDS jobs, and reads the endpoint
process's CPU time from /proc before and after: the server's side of each call, HTTP parsing included.
Each call's round trip, as the caller waits for it, is reported beside it.

    uv run python -m bench.aws_endpoint [--requests 400]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.cpu import ENDPOINT, cpu_seconds
from bench.report import Table, publish
from local.serve.application import declared_application
from local.serve.aws_endpoint import client
from tests.support import serving
from videos_core.adapters.dynamodb import UPSTREAM_ID_INDEX

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
        record = {
            "owner": {"S": f"owner-{n % 50}"},
            "video_id": {"S": f"vid_{n:04d}"},
            "upstream_id": {"S": f"video_{n:04d}"},
        }
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
        "dynamodb Query (an owner's list)": lambda: dynamodb.query(
            TableName=TABLE,
            KeyConditionExpression="#owner = :owner",
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues={":owner": {"S": "owner-7"}},
            ScanIndexForward=False,
            Limit=11,
        ),
        "dynamodb Query (by upstream id)": lambda: dynamodb.query(
            TableName=TABLE,
            IndexName=UPSTREAM_ID_INDEX,
            KeyConditionExpression="upstream_id = :id",
            ExpressionAttributeValues={":id": {"S": "video_0123"}},
        ),
        "s3 PutObject": lambda: s3.put_object(
            Bucket=BUCKET, Key="videos/bench/thumbnail.jpg", Body=BODY, ServerSideEncryption="AES256"
        ),
        "s3 GetObject": lambda: s3.get_object(Bucket=BUCKET, Key="videos/bench/video.mp4")["Body"].read(),
        "events PutEvents": lambda: events.put_events(
            Entries=[{"Source": "bench", "DetailType": "Bench", "Detail": "{}", "EventBusName": BUS}]
        ),
    }


def measure(fast_path: bool, requests: int) -> dict[str, tuple[float, float]]:
    """The endpoint's CPU ms per request and the caller's round trip ms, by call."""
    env = {} if fast_path else {"LOCAL_AWS_FAST_PATH": "off"}
    with tempfile.TemporaryDirectory() as data, serving(KEY, Path(data), env=env) as service:
        found = {}
        for name, call in calls(service.aws).items():
            for _ in range(20):
                call()
            before, started = cpu_seconds()[ENDPOINT], time.perf_counter()
            for _ in range(requests):
                call()
            waited = time.perf_counter() - started
            found[name] = ((cpu_seconds()[ENDPOINT] - before) / requests * 1000, waited / requests * 1000)
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
        [
            "call",
            "moto alone",
            "with the fast path",
            "saved",
            "round trip, moto alone",
            "round trip, fast path",
        ],
    )
    for name in off:
        (cpu_off, trip_off), (cpu_on, trip_on) = off[name], on[name]
        table.add(
            name,
            f"{cpu_off:.2f}",
            f"{cpu_on:.2f}",
            f"{1 - cpu_on / cpu_off:.0%}",
            f"{trip_off:.2f}",
            f"{trip_on:.2f}",
        )
    publish("aws_endpoint", table)


if __name__ == "__main__":
    main()
