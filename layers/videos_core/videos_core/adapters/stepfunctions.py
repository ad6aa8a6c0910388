"""One Step Functions execution per job, named by the video id (so a repeated start is a no-op)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from videos_core.adapters.aws import error_of
from videos_core.adapters.quotas import spend_period
from videos_core.models.api import usd
from videos_core.models.record import VideoRecord

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


def execution_arn(state_machine_arn: str, name: str) -> str:
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + name


def execution_input(record: VideoRecord, bill_failed_jobs: bool, retention_seconds: int) -> dict[str, object]:
    """The job the execution owns, and what its forced end (the definition's own copy of
    logic.ending's) writes: the event's fields, how long the record is kept, and what it gives back —
    the spend of its creation day, unless failed jobs are billed."""
    return {
        "owner": record.owner,
        "video_id": record.video_id,
        "upstream_id": record.upstream_id,
        "model": record.model,
        "seconds": record.seconds,
        "size": record.size,
        "created_at": record.created_at,
        "remixed_from_video_id": record.remixed_from_video_id,
        "estimated_cost_usd": usd(record.cost_estimate),
        "retention_seconds": retention_seconds,
        "spend": {
            "period": spend_period(record.created_at),
            "refund": "0" if bill_failed_jobs else str(-record.cost_estimate),
        },
    }


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class StepFunctionsWorkflow:
    def __init__(
        self, client: SFNClient, state_machine_arn: str, bill_failed_jobs: bool, retention_seconds: int
    ) -> None:
        self._client = client
        self._arn = state_machine_arn
        self._bill_failed_jobs = bill_failed_jobs
        self._retention_seconds = retention_seconds

    def start(self, record: VideoRecord) -> None:
        try:
            self._client.start_execution(
                stateMachineArn=self._arn,
                name=record.video_id,
                input=json.dumps(execution_input(record, self._bill_failed_jobs, self._retention_seconds)),
            )
        except ClientError as e:
            if _code(e) != "ExecutionAlreadyExists":
                raise error_of(e, "The workflow service") from e
        except BotoCoreError as e:
            raise error_of(e, "The workflow service") from e

    def stop(self, video_id: str) -> None:
        try:
            self._client.stop_execution(
                executionArn=execution_arn(self._arn, video_id), cause="The video was deleted."
            )
        except ClientError as e:
            if _code(e) != "ExecutionDoesNotExist":
                raise error_of(e, "The workflow service") from e
        except BotoCoreError as e:
            raise error_of(e, "The workflow service") from e

    def status(self, video_id: str) -> str | None:
        try:
            return self._client.describe_execution(executionArn=execution_arn(self._arn, video_id))["status"]
        except ClientError as e:
            if _code(e) == "ExecutionDoesNotExist":
                return None
            raise error_of(e, "The workflow service") from e
        except BotoCoreError as e:
            raise error_of(e, "The workflow service") from e
