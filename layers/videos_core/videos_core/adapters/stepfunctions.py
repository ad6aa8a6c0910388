"""One Step Functions execution per job, named by the video id (so a repeated start is a no-op)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from videos_core.models.record import VideoRecord

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


def execution_arn(state_machine_arn: str, name: str) -> str:
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + name


def execution_input(record: VideoRecord) -> dict[str, object]:
    return {
        "owner": record.owner,
        "video_id": record.video_id,
        "upstream_id": record.upstream_id,
        "model": record.model,
        "seconds": record.seconds,
        "size": record.size,
        "created_at": record.created_at,
    }


class StepFunctionsWorkflow:
    def __init__(self, client: SFNClient, state_machine_arn: str) -> None:
        self._client = client
        self._arn = state_machine_arn

    def start(self, record: VideoRecord) -> None:
        try:
            self._client.start_execution(
                stateMachineArn=self._arn, name=record.video_id, input=json.dumps(execution_input(record))
            )
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
                raise

    def stop(self, video_id: str) -> None:
        try:
            self._client.stop_execution(
                executionArn=execution_arn(self._arn, video_id), cause="The video was deleted."
            )
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "ExecutionDoesNotExist":
                raise
