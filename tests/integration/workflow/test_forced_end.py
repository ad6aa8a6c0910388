"""The state machine's forced end (ForcedCheck → ForcedEvent → ForceFailed, a transaction written in
the definition) is a second copy of the functions' end (`DynamoJobEnds.end` as logic.ending calls it).
The same job is ended by each in turn, from the same starting point, and what each leaves is compared:
the record, the owner's slot and spend, and the event in the outbox.

What may differ, and why: the error's message (the forced end cannot know what went wrong); the outbox
entry's holder and lease (no function holds the forced end's event: the reconciler publishes it)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from local.serve.stack import LocalStack
from tests.integration.workflow.harness import Workflow
from videos_core.adapters.dynamodb import from_item, to_item
from videos_core.adapters.events import EventBridgePublisher
from videos_core.adapters.job_ends import DynamoJobEnds
from videos_core.adapters.outbox import DynamoOutbox
from videos_core.adapters.quotas import QuotaItems, spend_period
from videos_core.adapters.stepfunctions import execution_input
from videos_core.ids import new_video_id
from videos_core.logic.ending import Ender, end_job, failed
from videos_core.models.api import VideoError
from videos_core.models.record import VideoRecord

RETENTION_SECONDS = 7 * 86_400
# How long after its creation the job's last status check came.
ELAPSED = 95


@pytest.fixture(scope="module")
def forced_entry(local_stack: LocalStack) -> str:
    """The job state machine entered at its forced path, under the same role: the path is otherwise
    reached only after EndFailed's retries."""
    (machine,) = local_stack.application.state_machines.values()
    definition = json.loads(machine.definition) | {"StartAt": "ForcedCheck"}
    created = local_stack.aws.client("stepfunctions").create_state_machine(
        name=f"{machine.name}-forced-end", definition=json.dumps(definition), roleArn=machine.role_arn
    )
    return str(created["stateMachineArn"])


@dataclass(frozen=True)
class Ended:
    record: dict[str, Any]
    slots: set[str]
    spent: Decimal
    outbox: dict[str, Any]


class Job:
    """A running job of the workflow's owner, as a create leaves it: its record, slot and spend."""

    def __init__(self, workflow: Workflow) -> None:
        self.flow = workflow
        self.tables = workflow.stack.application.tables
        self.dynamodb = workflow.client("dynamodb")
        created_at = int(time.time()) - ELAPSED
        self.record = VideoRecord(
            owner=workflow.owner,
            video_id=new_video_id(created_at * 1000),
            upstream_id="video_forced",
            status="in_progress",
            progress=40,
            model="sora-2-2025-10-06",
            seconds="8",
            size="1280x720",
            prompt="Never shown to the state machine",
            created_at=created_at,
            remixed_from_video_id="vid_01JDQ2X8Y3K4M5N6P7Q8R9S0TV",
            cost_estimate=Decimal("1.0000"),
        )

    def start(self) -> None:
        """The job as it runs: its record, its slot taken and its spend counted; no event waiting."""
        self.dynamodb.put_item(TableName=self.tables["VideosTable"], Item=to_item(self.record.model_dump()))
        quotas = self.tables["QuotasTable"]
        self.dynamodb.put_item(
            TableName=quotas,
            Item=to_item(
                {"owner": self.flow.owner, "period": "running", "video_ids": {self.record.video_id}}
            ),
        )
        self.dynamodb.put_item(
            TableName=quotas,
            Item=to_item(
                {
                    "owner": self.flow.owner,
                    "period": spend_period(self.record.created_at),
                    "spent_usd": self.record.cost_estimate,
                }
            ),
        )
        self.dynamodb.delete_item(
            TableName=self.tables["OutboxTable"], Key=to_item({"video_id": self.record.video_id})
        )

    def ended(self) -> Ended:
        outbox = self.dynamodb.get_item(
            TableName=self.tables["OutboxTable"], Key=to_item({"video_id": self.record.video_id})
        )
        record = self.flow.record(self.record.video_id)
        assert record is not None
        spend = self.dynamodb.get_item(
            TableName=self.tables["QuotasTable"],
            Key=to_item({"owner": self.flow.owner, "period": spend_period(self.record.created_at)}),
        )
        return Ended(
            record=record,
            slots=self.flow.slots(),
            spent=Decimal(from_item(spend["Item"])["spent_usd"]),
            outbox=from_item(outbox["Item"]),
        )


@pytest.fixture
def job(workflow: Workflow) -> Job:
    return Job(workflow)


def end_by_the_state_machine(job: Job, machine: str) -> Ended:
    sfn = job.flow.client("stepfunctions")
    given = {"job": execution_input(job.record, False, RETENTION_SECONDS), "elapsed": ELAPSED}
    execution = sfn.start_execution(
        stateMachineArn=machine, name=job.record.video_id, input=json.dumps(given)
    )
    deadline = time.monotonic() + 60
    while (described := sfn.describe_execution(executionArn=execution["executionArn"]))[
        "status"
    ] == "RUNNING":
        assert time.monotonic() < deadline, "the forced end did not end"
        time.sleep(0.2)
    assert (described["status"], described.get("error")) == ("FAILED", "JobForcedFailed"), described
    return job.ended()


def end_by_the_functions(job: Job, now: int) -> Ended:
    """As EndFailed ends a job, at the moment the state machine dated its end."""
    flow, tables = job.flow, job.tables
    ends = DynamoJobEnds(
        job.dynamodb,
        tables["VideosTable"],
        QuotaItems(tables["QuotasTable"]),
        DynamoOutbox(job.dynamodb, tables["OutboxTable"]),
    )
    ender = Ender(
        ends=ends,
        outbox=DynamoOutbox(job.dynamodb, tables["OutboxTable"]),
        events=EventBridgePublisher(
            flow.client("events"), next(iter(flow.stack.application.event_buses.values()))
        ),
        bucket=flow.stack.application.buckets["AssetsBucket"],
        holder="end-failed",
        bill_failed_jobs=False,
    )
    error = VideoError(code="video_generation_failed", message="The upstream kept failing.")
    assert end_job(failed(job.record, error, now, RETENTION_SECONDS), ender, now) is not None
    return job.ended()


def _without_messages(value: Any) -> Any:
    """`value` with every error's message taken out: the forced end cannot know what went wrong."""
    if isinstance(value, dict):
        return {k: _without_messages(v) for k, v in value.items() if not (k == "message" and "code" in value)}
    return value


def test_the_forced_end_writes_what_the_functions_end_writes(job: Job, forced_entry: str) -> None:
    job.start()
    forced = end_by_the_state_machine(job, forced_entry)
    job.start()
    ended = end_by_the_functions(job, now=job.record.created_at + ELAPSED)

    assert _without_messages(forced.record) == _without_messages(ended.record)
    assert forced.record["ttl"] == job.record.created_at + ELAPSED + RETENTION_SECONDS
    assert (forced.slots, forced.spent) == (ended.slots, ended.spent) == (set(), Decimal(0))
    lease = {"holder", "lease_until", "detail"}
    assert {k: v for k, v in forced.outbox.items() if k not in lease} == {
        k: v for k, v in ended.outbox.items() if k not in lease
    }
    assert _without_messages(json.loads(forced.outbox["detail"])) == _without_messages(
        json.loads(ended.outbox["detail"])
    )
