"""The fault suite runs the offline application as the workflow tests do (the engine in its own
process, moto with the state machine, the functions in their workers), with a short upstream
timeout so that injected read timeouts cost seconds, not minutes, and the state machine's Retry as
deployed (RetryIntervalSeconds 2): faults armed by many jobs at once are met by each job's retries
as AWS would space them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.serve.stack import LocalStack
from tests.integration.conftest import engine_data_dir, engine_url, webhook_receiver
from tests.integration.workflow.harness import Workflow, new_owner, running_stack

__all__ = ["engine_data_dir", "engine_url", "webhook_receiver"]  # the engine, as the integration tests run it

UPSTREAM_TIMEOUT_SECONDS = 2


@pytest.fixture(scope="session")
def fault_stack(engine_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    logs = tmp_path_factory.mktemp("fault-logs")
    parameters = {"UpstreamTimeoutSeconds": str(UPSTREAM_TIMEOUT_SECONDS), "RetryIntervalSeconds": "2"}
    with running_stack(engine_url, logs, **parameters) as stack:
        yield stack


@pytest.fixture
def workflow(fault_stack: LocalStack, engine_url: str) -> Iterator[Workflow]:
    with new_owner(fault_stack, engine_url) as flow:
        yield flow
