"""What judging every AWS call by its role costs offline: microseconds per call for the calls a job
makes most, each judged as the function that makes it (the policies rendered from template.yaml),
beside what a call to the local AWS endpoint costs (~5 ms of protocol handling, measured by the load
benchmark's trace).

    uv run python -m bench.iam_judge
"""

from __future__ import annotations

import timeit
from typing import Any

from bench.report import Table, publish
from local.iam.enforce import Revocations, Role
from local.serve.application import LOCAL_ACCOUNT, load_application
from local.template import application_template

ROUNDS = 20_000


def main() -> None:
    application = load_application(application_template(), {"UpstreamBaseUrl": "https://x.example/v1"}, {})
    tables, bucket = application.tables, application.buckets["AssetsBucket"]
    key = {"owner": {"S": "alice"}, "video_id": {"S": "vid_01JDQ2X8Y3K4M5N6P7Q8R9S0TV"}}
    calls: list[tuple[str, str, str, dict[str, Any]]] = [
        ("GetFunction", "dynamodb", "GetItem", {"TableName": tables["VideosTable"], "Key": key}),
        (
            "GetFunction",
            "dynamodb",
            "UpdateItem",
            {
                "TableName": tables["KeysTable"],
                "Key": {"key_hash": {"S": "h"}},
                "UpdateExpression": "SET last_used_at = :now",
                "ConditionExpression": "attribute_exists(key_hash)",
            },
        ),
        (
            "StoreAssetsFunction",
            "s3",
            "UploadPart",
            {"Bucket": bucket, "Key": "videos/vid_1/video.mp4", "PartNumber": 1, "UploadId": "u"},
        ),
        ("CreateFunction", "ssm", "GetParameter", {"Name": "/videos-api/upstream-api-key"}),
    ]
    table = Table(
        f"Judging one AWS call by its role, median of 5 x {ROUNDS:,}",
        ["function", "call", "allowed", "µs per call"],
    )
    for logical_id, service, operation, params in calls:
        function = application.functions[logical_id]
        role = Role(function.name, function.policy, LOCAL_ACCOUNT, Revocations(None))
        allowed = not role.denied(service, operation, params)

        def judge(r: Role = role, s: str = service, o: str = operation, p: dict[str, Any] = params) -> None:
            r.denied(s, o, p)

        runs = timeit.repeat(judge, number=ROUNDS, repeat=5)
        micros = sorted(runs)[2] / ROUNDS * 1e6
        table.add(logical_id, f"{service}:{operation}", allowed, f"{micros:.1f}")
    publish("iam_judge", table)


if __name__ == "__main__":
    main()
