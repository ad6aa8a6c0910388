"""What the state machine hands its tasks and gets back."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from videos_core.models.api import VideoError


class JobRef(BaseModel):
    """The execution's input: the job it owns (as create/remix start it)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    owner: str
    video_id: str


class _Task(BaseModel):
    job: dict[str, Any]

    @property
    def ref(self) -> JobRef:
        return JobRef.model_validate(self.job)


class CheckStatusInput(_Task):
    attempt: int = 0
    # The execution's history so far (an upper bound), and this task's retries ($$.State.RetryCount).
    history: int = 0
    retries: int = 0


class StoreAssetsInput(_Task):
    pass


class EndFailedInput(_Task):
    error: VideoError
