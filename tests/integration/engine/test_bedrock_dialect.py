"""The engine's Bedrock dialect driven by boto3's `bedrock-runtime` client, pointed at the engine with
`endpoint_url`, and writing into a local AWS endpoint's S3: a Luma Ray 2 invocation walked from
InProgress to Completed with its video at `<s3Uri>/<id>/output.mp4`, an idempotent
clientRequestToken, the listing, Bedrock's validation refusals, failures with their failureMessage,
an unsigned request refused, and a status fault answered in restJson1's shape."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from starlette.testclient import TestClient

from local.engine.app import create_app
from local.engine.service import EngineConfig
from local.serve.aws_endpoint import LocalAws
from tests.integration.local.conftest import NOBODY
from tests.media import probe_mp4
from tests.support import HTTP, free_port, running

PROMPT = "A paper lantern rising over a night harbour"
BUCKET = "bedrock-outputs"
REGION = "us-west-2"
OUTPUT = {"s3OutputDataConfig": {"s3Uri": f"s3://{BUCKET}/luma"}}
SIGV4 = "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20261207/us-west-2/bedrock/aws4_request, Signature=00"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, render_cache: Path) -> Iterator[tuple[LocalAws, str]]:
    """A local AWS endpoint with the outputs' bucket and an engine writing into it, started side by
    side (the endpoint takes seconds to start)."""
    aws = LocalAws("127.0.0.1", free_port())
    data_dir = tmp_path_factory.mktemp("bedrock-engine")
    port = free_port()
    args = ["engine", "--port", str(port), "--latency", "0.5", "--data-dir", str(data_dir)]
    args += ["--render-cache", str(render_cache), "--s3-endpoint", aws.endpoint]
    try:
        with ThreadPoolExecutor(1) as pool:
            starting = pool.submit(aws.start, "http://127.0.0.1:9", NOBODY)
            with running(args, f"http://127.0.0.1:{port}/_stats", data_dir / "engine.log"):
                starting.result()
                aws.client("s3").create_bucket(Bucket=BUCKET)
                yield aws, f"http://127.0.0.1:{port}"
    finally:
        aws.stop()


@pytest.fixture(scope="module")
def aws(stack: tuple[LocalAws, str]) -> LocalAws:
    return stack[0]


@pytest.fixture(scope="module")
def bedrock_engine(stack: tuple[LocalAws, str]) -> str:
    return stack[1]


def runtime(engine: str, **config: Any) -> Any:
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=f"{engine}/bedrock",
        region_name=REGION,
        aws_access_key_id="AKIDLOCAL",
        aws_secret_access_key="local",
        config=Config(retries={"total_max_attempts": 1}, **config),
    )


@pytest.fixture(scope="module")
def bedrock(bedrock_engine: str) -> Iterator[Any]:
    client = runtime(bedrock_engine)
    yield client
    client.close()


def luma(prompt: str = PROMPT, **fields: Any) -> dict[str, Any]:
    return {"prompt": prompt, "aspect_ratio": "9:16", "resolution": "540p", "duration": "5s"} | fields


def settled(bedrock: Any, arn: str) -> tuple[list[str], dict[str, Any]]:
    """Every status a client polling every 0.1 s sees, and the first answer that is not InProgress."""
    seen: list[str] = []
    deadline = time.monotonic() + 60
    while True:
        answer: dict[str, Any] = bedrock.get_async_invoke(invocationArn=arn)
        seen.append(answer["status"])
        if answer["status"] != "InProgress" or time.monotonic() > deadline:
            return seen, answer
        time.sleep(0.1)


@pytest.fixture(scope="module")
def finished(bedrock: Any) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    """One invocation run to its end: the request, the statuses seen, the last answer."""
    request = {
        "clientRequestToken": "luma-lantern-1",
        "modelId": "luma.ray-v2:0",
        "modelInput": luma(loop=True),
        "outputDataConfig": OUTPUT,
    }
    arn = bedrock.start_async_invoke(**request)["invocationArn"]
    seen, answer = settled(bedrock, arn)
    return request, seen, answer


def test_an_invocation_runs_to_completed_with_its_video_in_s3(
    finished: tuple[dict[str, Any], list[str], dict[str, Any]], aws: LocalAws
) -> None:
    _, seen, answer = finished
    arn = answer["invocationArn"]
    invocation_id = arn.rsplit("/", 1)[1]

    assert arn.startswith(f"arn:aws:bedrock:{REGION}:123456789012:async-invoke/")
    assert len(invocation_id) == 12
    assert seen[0] == "InProgress"
    assert seen[-1] == "Completed"
    assert answer["modelArn"] == f"arn:aws:bedrock:{REGION}::foundation-model/luma.ray-v2:0"
    assert answer["clientRequestToken"] == "luma-lantern-1"
    assert answer["submitTime"] <= answer["endTime"] == answer["lastModifiedTime"]
    assert "failureMessage" not in answer
    # As AWS's own examples read it: the video is `output.mp4` in the folder GetAsyncInvoke names.
    folder = answer["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"]
    assert folder == f"s3://{BUCKET}/luma/{invocation_id}"
    video = aws.client("s3").get_object(Bucket=BUCKET, Key=f"luma/{invocation_id}/output.mp4")
    assert video["ContentType"] == "video/mp4"
    facts = probe_mp4(video["Body"].read())
    assert (facts.width, facts.height) == (540, 960)
    assert facts.duration == pytest.approx(5, abs=0.2)


def test_a_client_request_token_again_answers_the_same_invocation(
    finished: tuple[dict[str, Any], list[str], dict[str, Any]], bedrock: Any
) -> None:
    request, _, answer = finished

    assert bedrock.start_async_invoke(**request)["invocationArn"] == answer["invocationArn"]
    with pytest.raises(bedrock.exceptions.ConflictException):
        bedrock.start_async_invoke(**request | {"modelInput": luma(duration="9s")})


def test_the_listing_shows_the_invocation_by_status_time_and_page(
    finished: tuple[dict[str, Any], list[str], dict[str, Any]], bedrock: Any
) -> None:
    arn = finished[2]["invocationArn"]

    completed = bedrock.list_async_invokes(statusEquals="Completed", sortOrder="Ascending")
    assert arn in [s["invocationArn"] for s in completed["asyncInvokeSummaries"]]
    summary = next(s for s in completed["asyncInvokeSummaries"] if s["invocationArn"] == arn)
    assert summary["outputDataConfig"] == finished[2]["outputDataConfig"]
    pages = bedrock.get_paginator("list_async_invokes").paginate(PaginationConfig={"PageSize": 1})
    listed = [s["invocationArn"] for page in pages for s in page["asyncInvokeSummaries"]]
    assert arn in listed
    assert len(listed) == len(set(listed))
    later = datetime.now(UTC) + timedelta(hours=1)
    assert bedrock.list_async_invokes(submitTimeAfter=later)["asyncInvokeSummaries"] == []
    failed = bedrock.list_async_invokes(statusEquals="Failed", submitTimeBefore=later)["asyncInvokeSummaries"]
    assert arn not in [s["invocationArn"] for s in failed]


@pytest.mark.parametrize(
    ("model_input", "named"),
    [
        (luma(duration="10s"), "#/duration"),
        (luma(aspect_ratio="2:1"), "#/aspect_ratio"),
        (luma(resolution="1080p"), "#/resolution"),
        (luma(prompt=""), "#/prompt"),
        (luma(prompt="x" * 5001), "#/prompt"),
        (luma(loop="yes"), "#/loop"),
        ({"aspect_ratio": "16:9"}, "[prompt]"),
    ],
)
def test_a_model_input_luma_rules_out_is_a_validation_exception(
    bedrock: Any, model_input: dict[str, Any], named: str
) -> None:
    with pytest.raises(bedrock.exceptions.ValidationException) as refused:
        bedrock.start_async_invoke(modelId="luma.ray-v2:0", modelInput=model_input, outputDataConfig=OUTPUT)

    assert named in refused.value.response["Error"]["Message"]
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_an_unknown_model_or_output_or_invocation_is_refused(bedrock: Any) -> None:
    with pytest.raises(bedrock.exceptions.ValidationException) as unknown_model:
        bedrock.start_async_invoke(modelId="luma.ray-v9:0", modelInput=luma(), outputDataConfig=OUTPUT)
    assert "model identifier is invalid" in str(unknown_model.value)
    with pytest.raises(bedrock.exceptions.ValidationException) as bad_uri:
        bedrock.start_async_invoke(
            modelId="luma.ray-v2:0",
            modelInput=luma(),
            outputDataConfig={"s3OutputDataConfig": {"s3Uri": "b"}},
        )
    assert "s3Uri" in str(bad_uri.value)
    unknown = f"arn:aws:bedrock:{REGION}:123456789012:async-invoke/abcdef123456"
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException):
        bedrock.get_async_invoke(invocationArn=unknown)
    with pytest.raises(bedrock.exceptions.ValidationException):
        bedrock.get_async_invoke(invocationArn="arn:aws:bedrock:us-west-2:1:async-invoke/nope")


def test_failures_end_failed_with_a_failure_message(bedrock: Any) -> None:
    def start(prompt: str, output: dict[str, Any] = OUTPUT) -> str:
        answer = bedrock.start_async_invoke(
            modelId="luma.ray-v2:0", modelInput=luma(prompt), outputDataConfig=output
        )
        return str(answer["invocationArn"])

    failed = start(f"{PROMPT} [fail]")
    filtered = start(f"{PROMPT} [moderation]")
    unwritable = start(PROMPT, {"s3OutputDataConfig": {"s3Uri": "s3://no-such-bucket/luma"}})

    for arn, message in [
        (failed, "Video generation failed."),
        (filtered, "The generated video has been blocked by our content filters."),
        (unwritable, "NoSuchBucket"),
    ]:
        _, answer = settled(bedrock, arn)
        assert answer["status"] == "Failed"
        assert message in answer["failureMessage"]
        assert answer["endTime"] >= answer["submitTime"]


def test_a_request_without_a_sigv4_signature_is_refused(bedrock_engine: str) -> None:
    unsigned = runtime(bedrock_engine, signature_version=botocore.UNSIGNED)
    try:
        with pytest.raises(unsigned.exceptions.AccessDeniedException) as refused:
            unsigned.list_async_invokes()
    finally:
        unsigned.close()

    assert refused.value.response["Error"]["Message"] == "Authorization header is missing"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # A Bedrock API key is taken instead (any key: the engine was started without one).
    keyed = HTTP.get(f"{bedrock_engine}/bedrock/async-invoke", headers={"Authorization": "Bearer ABSK-local"})
    assert keyed.status_code == 200
    assert "asyncInvokeSummaries" in keyed.json()


@pytest.mark.parametrize(
    ("status", "shape"),
    [(429, "ThrottlingException"), (500, "InternalServerException"), (503, "ServiceUnavailableException")],
)
def test_a_status_fault_is_answered_in_bedrock_s_error_shape(
    bedrock_engine: str, bedrock: Any, status: int, shape: str
) -> None:
    HTTP.post(f"{bedrock_engine}/_faults", json={"status": status, "path": "/bedrock/async-invoke"})
    try:
        with pytest.raises(ClientError) as faulted:
            bedrock.list_async_invokes()
    finally:
        HTTP.delete(f"{bedrock_engine}/_faults")

    assert faulted.value.response["Error"]["Code"] == shape
    assert faulted.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert isinstance(faulted.value, getattr(bedrock.exceptions, shape))


def test_an_engine_without_s3_refuses_to_start_an_invocation(tmp_path: Path) -> None:
    request = {"modelId": "luma.ray-v2:0", "modelInput": luma(), "outputDataConfig": OUTPUT}
    with TestClient(create_app(EngineConfig(data_dir=tmp_path))) as engine:
        refused = engine.post("/bedrock/async-invoke", json=request, headers={"Authorization": SIGV4})

    assert refused.status_code == 400
    assert refused.headers["x-amzn-ErrorType"] == "ValidationException"
    assert "--s3-endpoint" in refused.json()["message"]
