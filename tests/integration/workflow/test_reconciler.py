"""The reconciler, tested by killing executions and functions mid-job: it ends, through the same
atomic end, every job whose execution is no longer running, and frees the slots no running job holds."""

from __future__ import annotations

import time

from tests.integration.workflow.harness import Workflow, copying
from videos_core.adapters.dynamodb import to_item
from videos_core.ids import new_video_id


def test_the_reconciler_ends_jobs_whose_execution_or_create_died(workflow: Workflow) -> None:
    """An execution stopped mid-job, and a create that died after taking its slot: the reconciler ends
    the first through the same atomic end (failed, slot and spend back, one event) and frees the
    second's slot; a second pass changes nothing."""
    video = workflow.create("[stall] Orphaned by its execution")
    workflow.client("stepfunctions").stop_execution(executionArn=workflow.execution_arn(video["id"]))
    assert workflow.wait_execution(video["id"])["status"] in ("ABORTED", "FAILED")
    died = new_video_id((int(time.time()) - 10) * 1000)
    workflow.client("dynamodb").update_item(
        TableName=workflow.stack.application.tables["QuotasTable"],
        Key=to_item({"owner": workflow.owner, "period": "running"}),
        UpdateExpression="ADD video_ids :id",
        ExpressionAttributeValues={":id": {"SS": [died]}},
    )
    time.sleep(2.1)  # past ReconcileAfterSeconds, counted in whole seconds

    first = workflow.reconcile()
    second = workflow.reconcile()

    record = workflow.record(video["id"])
    assert record is not None
    assert record["status"] == "failed", (record, first)
    assert record["error"]["code"] == "video_generation_failed"
    assert first["ended"] >= 1
    assert first["freed"] >= 1
    assert (second["ended"], second["freed"]) == (0, 0)
    assert workflow.slots() == set()
    assert workflow.spent() == 0
    assert [e["detail-type"] for e in workflow.events_for(video["id"])] == ["Video Failed"]


def test_the_reconciler_ends_a_job_whose_store_assets_died_with_its_execution(workflow: Workflow) -> None:
    """StoreAssets killed mid-copy and the execution gone with it: the claim it held does not keep
    the job from its end."""
    video = workflow.create("Copy killed")
    upstream_id = workflow.upstream_id(video["id"])
    path = f"/v1/videos/{upstream_id}/content"
    workflow.arm_upstream(kind="pause", seconds=3, method="GET", path=path, times=1)
    pool = workflow.stack.functions.pools[workflow.function_name("StoreAssetsFunction")]
    deadline = time.monotonic() + 60
    while not (workflow.record(video["id"]) or {}).get("finaliser"):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    workflow.client("stepfunctions").stop_execution(executionArn=workflow.execution_arn(video["id"]))
    assert pool.crash_busy(copying(video["id"]))
    assert workflow.wait_execution(video["id"])["status"] in ("ABORTED", "FAILED")
    time.sleep(2.1)

    workflow.reconcile()

    record = workflow.record(video["id"])
    assert record is not None
    assert record["status"] == "failed", record
    assert workflow.slots() == set()
    assert [e["detail-type"] for e in workflow.events_for(video["id"])] == ["Video Failed"]
