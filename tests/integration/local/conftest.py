"""The local AWS endpoint on a port of its own, for the tests of the offline stack's parts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from local.iam.enforce import Revocations, Role
from local.iam.policy import Policy
from local.serve.application import LOCAL_ACCOUNT
from local.serve.aws_endpoint import LocalAws
from tests.support import free_port

# No state machine runs here: its tasks' role is allowed nothing.
NOBODY = Role("nobody", Policy("arn:aws:iam::123456789012:role/nobody", ()), LOCAL_ACCOUNT, Revocations(None))


@contextlib.contextmanager
def running_endpoint(**environment: str) -> Iterator[LocalAws]:
    """An endpoint started with `environment` added to its process's own."""
    endpoint = LocalAws("127.0.0.1", free_port())
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        endpoint.start("http://127.0.0.1:9", NOBODY)
    try:
        yield endpoint
    finally:
        endpoint.stop()


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with running_endpoint() as endpoint:
        yield endpoint
