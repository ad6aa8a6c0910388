from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.serve.stack import LocalStack
from tests.integration.workflow.harness import Workflow, new_owner, running_stack


@pytest.fixture(scope="session")
def local_stack(engine_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(engine_url, tmp_path_factory.mktemp("workflow-logs")) as stack:
        yield stack


@pytest.fixture
def workflow(local_stack: LocalStack, engine_url: str) -> Iterator[Workflow]:
    with new_owner(local_stack, engine_url) as flow:
        yield flow
