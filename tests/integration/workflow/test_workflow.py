"""The job state machine really executed (moto) with its tasks answered by the functions' workers and
the engine as upstream, on the backoff schedule scaled by 0.1."""

from __future__ import annotations

import json
import math
import time

import jsonschema
import pytest

from local.serve.command import FAST_PARAMETERS
from tests.integration.workflow.harness import Workflow
from tests.media import jpeg_size, probe_mp4
from tests.support import HTTP, ROOT
from videos_core.backoff import CAP_SECONDS

EVENT_SCHEMA = json.loads((ROOT / "events" / "video-event.schema.json").read_text())


def test_a_job_ends_completed_with_its_files_in_s3_and_one_event(workflow: Workflow) -> None:
    video = workflow.create("A lighthouse in a storm", size="1280x720")

    record = workflow.wait_terminal(video["id"])

    assert record["status"] == "completed"
    assert record["progress"] == 100
    assert record["expires_at"] == record["completed_at"] + 7 * 86_400
    assert record["ttl"] == record["expires_at"]
    files = workflow.objects(video["id"])
    assert set(files) == {"video.mp4", "thumbnail.jpg", "spritesheet.jpg"}
    facts = probe_mp4(files["video.mp4"])
    assert (facts.video_codec, facts.audio_codec, facts.width, facts.height) == ("h264", "aac", 1280, 720)
    assert jpeg_size(files["thumbnail.jpg"]) == (1280, 720)
    assert {variant: int(asset["size"]) for variant, asset in record["assets"].items()} == {
        "video": len(files["video.mp4"]),
        "thumbnail": len(files["thumbnail.jpg"]),
        "spritesheet": len(files["spritesheet.jpg"]),
    }
    [event] = workflow.events_for(video["id"])
    assert (event["source"], event["detail-type"]) == ("videos-api", "Video Completed")
    detail = event["detail"]
    assert detail["video"]["status"] == "completed"
    assert detail["owner"] == workflow.owner
    assert detail["estimated_cost_usd"] == 0.5
    assert detail["generation_seconds"] == record["completed_at"] - record["created_at"]
    assert detail["s3"]["video"]["key"] == record["assets"]["video"]["key"]
    jsonschema.validate(detail, EVENT_SCHEMA)
    assert workflow.wait_execution(video["id"])["status"] == "SUCCEEDED"
    # The workflow's state carries ids, never the prompt: nothing of it is in the execution history.
    assert "lighthouse" not in json.dumps(workflow.history(video["id"]), default=str)
    assert workflow.owner not in record["assets"]["video"]["key"]


def test_progress_is_written_while_the_job_runs(workflow: Workflow, engine_url: str) -> None:
    HTTP.post(f"{engine_url}/_faults", json={"kind": "delay", "seconds": 0, "times": 1})
    video = workflow.create("A slow sunrise [stall]")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        record = workflow.record(video["id"])
        if record and record["status"] == "in_progress" and record["progress"] > 0:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("progress never rose")
    workflow.client("stepfunctions").stop_execution(executionArn=workflow.execution_arn(video["id"]))


def test_the_first_check_waits_and_the_next_follow_the_reported_progress(workflow: Workflow) -> None:
    """The first wait is FirstCheckSeconds; then the time the upstream's progress says is left, which
    for a job stalled at 42 % soon passes the cap (the backoff's 20 s, x 0.1 here)."""
    video = workflow.create("A stalled job, watched [stall]")
    deadline = time.monotonic() + 40
    waits: list[int] = []
    while time.monotonic() < deadline and len(waits) < 5:
        waits = [
            json.loads(event["stateEnteredEventDetails"]["input"])["check"]["wait_seconds"]
            for event in workflow.history(video["id"])
            if event["type"] == "WaitStateEntered"
        ]
        time.sleep(0.3)
    workflow.client("stepfunctions").stop_execution(executionArn=workflow.execution_arn(video["id"]))

    assert len(waits) >= 5
    assert waits[0] == int(FAST_PARAMETERS["FirstCheckSeconds"])
    assert waits[1:] == [math.ceil(CAP_SECONDS * 0.1)] * (len(waits) - 1)
    assert waits[:5] == [1, 2, 2, 2, 2]


@pytest.mark.parametrize(
    ("prompt", "code"),
    [
        ("A glass castle [fail]", "video_generation_failed"),
        ("Something forbidden [moderation]", "invalid_video_prompt"),
    ],
)
def test_an_upstream_failure_ends_failed_with_one_event(workflow: Workflow, prompt: str, code: str) -> None:
    video = workflow.create(prompt)

    record = workflow.wait_terminal(video["id"])

    assert record["status"] == "failed"
    assert record["error"]["code"] == code
    assert record["error"]["message"]
    assert workflow.objects(video["id"]) == {}
    [event] = workflow.events_for(video["id"])
    assert event["detail-type"] == "Video Failed"
    assert event["detail"]["video"]["error"]["code"] == code
    jsonschema.validate(event["detail"], EVENT_SCHEMA)
    # The video failed, the workflow did not: it ended the job as it should.
    assert workflow.wait_execution(video["id"])["status"] == "SUCCEEDED"


def test_a_job_past_its_maximum_generation_time_ends_timed_out(workflow: Workflow) -> None:
    """The record is made to look an hour old (the default maximum is 30 minutes)."""
    video = workflow.create("Forever in progress [stall]")
    table = workflow.stack.application.tables["VideosTable"]
    workflow.client("dynamodb").update_item(
        TableName=table,
        Key={"owner": {"S": workflow.owner}, "video_id": {"S": video["id"]}},
        UpdateExpression="SET created_at = :then",
        ExpressionAttributeValues={":then": {"N": str(int(time.time()) - 3600)}},
    )

    record = workflow.wait_terminal(video["id"])

    assert record["status"] == "failed"
    assert record["error"]["code"] == "video_generation_timeout"
    [event] = workflow.events_for(video["id"])
    assert event["detail-type"] == "Video Failed"


def test_a_flaky_upstream_is_retried_not_failed(workflow: Workflow) -> None:
    video = workflow.create("Unreliable weather [flaky]")

    assert workflow.wait_terminal(video["id"])["status"] == "completed"
    assert len(workflow.events_for(video["id"])) == 1


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 429, "retry_after": 1},
        {"kind": "status", "status": 500},
        {"kind": "status", "status": 503},
        {"kind": "reset"},
        {"kind": "malformed"},
    ],
)
def test_status_check_blips_are_retried(
    workflow: Workflow, engine_url: str, fault: dict[str, object]
) -> None:
    video = workflow.create("A blip on the line")
    HTTP.post(
        f"{engine_url}/_faults", json=fault | {"method": "GET", "path": "/v1/videos/video_*", "times": 2}
    )

    record = workflow.wait_terminal(video["id"])

    assert record["status"] == "completed"
    assert len(workflow.events_for(video["id"])) == 1


def test_a_truncated_download_is_retried_and_leaves_no_parts(workflow: Workflow, engine_url: str) -> None:
    HTTP.post(
        f"{engine_url}/_faults",
        json={"kind": "truncate", "method": "GET", "path": "/v1/videos/*/content", "times": 1},
    )
    video = workflow.create("A torn reel")

    record = workflow.wait_terminal(video["id"])

    assert record["status"] == "completed"
    files = workflow.objects(video["id"])
    assert len(files["video.mp4"]) == int(record["assets"]["video"]["size"])
    probe_mp4(files["video.mp4"])
    bucket = workflow.stack.application.buckets["AssetsBucket"]
    uploads = workflow.client("s3").list_multipart_uploads(Bucket=bucket, Prefix=f"videos/{video['id']}/")
    assert uploads.get("Uploads", []) == []


def test_the_estimated_cost_reaches_the_local_cloudwatch(workflow: Workflow) -> None:
    video = workflow.create("A priced video", model="sora-2-pro", seconds="4")
    workflow.wait_terminal(video["id"])
    workflow.wait_execution(video["id"])
    cloudwatch = workflow.client("cloudwatch")

    statistics = cloudwatch.get_metric_statistics(
        Namespace="VideosApi",
        MetricName="EstimatedCostUSD",
        StartTime=time.time() - 3600,
        EndTime=time.time() + 60,
        Period=3600,
        Statistics=["Sum"],
        Dimensions=[{"Name": "model", "Value": "sora-2-pro"}, {"Name": "service", "Value": "videos-api"}],
    )

    assert sum(point["Sum"] for point in statistics["Datapoints"]) >= 1.6


def test_every_invocations_log_lines_reach_the_function_log(workflow: Workflow) -> None:
    """Warm invocations too: the logger keeps the stream it found at import, which must follow them."""
    ids = [workflow.create("Logged video")["id"] for _ in range(3)]

    log = (workflow.stack.log.directory / "CreateFunction.log").read_text()

    for video_id in ids:
        assert f'"video_id":"{video_id}"' in log
