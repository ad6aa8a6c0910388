"""Function workers behave as Lambda's containers: the init phase (the handler's import) is not part of
an invocation's time limit, an invocation past its limit is cut off, and a broken import is reported."""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.iam.policy import Policy
from local.serve.application import LocalFunction
from local.serve.workers import FunctionPool

HANDLERS = {
    "slow_import": """
        import time
        print("importing")
        time.sleep(1.5)

        def handler(event, context):
            return {"echo": event, "env": __import__("os").environ.get("ONLY_MINE")}
    """,
    "sleepy": """
        import time

        def handler(event, context):
            time.sleep(event["seconds"])
            return {"slept": event["seconds"]}
    """,
    "broken": """
        raise RuntimeError("no such thing")
    """,
    "ctrl_c": """
        import signal

        IGNORED_FROM_THE_START = signal.getsignal(signal.SIGINT) is signal.SIG_IGN

        def handler(event, context):
            return {"ignored": IGNORED_FROM_THE_START}
    """,
}


@pytest.fixture
def code(tmp_path: Path) -> Path:
    for name, source in HANDLERS.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    return tmp_path


@pytest.fixture
def pool(code: Path, request: pytest.FixtureRequest) -> Iterator[FunctionPool]:
    module, timeout = request.param
    function = LocalFunction(
        logical_id="TestFunction",
        name=f"test-{module}",
        code_dir=code,
        handler=f"{module}.handler",
        timeout=timeout,
        environment={"ONLY_MINE": "yes", "PATH": os.environ["PATH"]},
        routes=(),
        policy=Policy("arn:aws:iam::123456789012:role/test", ()),
    )
    workers = FunctionPool(function, layer_dirs=[], size=2)
    try:
        yield workers
    finally:
        workers.close()


@pytest.mark.parametrize("pool", [("slow_import", 1)], indirect=True)
def test_the_import_is_the_init_phase_and_not_part_of_the_time_limit(pool: FunctionPool) -> None:
    # When a function whose import takes longer than its 1 s limit is invoked twice
    first = pool.invoke({"n": 1})
    second = pool.invoke({"n": 2})

    # Then both succeed with its own environment; the first is cold and carries the init output
    assert first.error is None, first
    assert first.result == {"echo": {"n": 1}, "env": "yes"}
    assert first.cold
    assert "importing" in first.output
    assert second.error is None
    assert not second.cold
    assert "importing" not in second.output


@pytest.mark.parametrize("pool", [("sleepy", 1)], indirect=True)
def test_an_invocation_past_its_limit_is_cut_off_and_the_next_one_gets_a_new_worker(
    pool: FunctionPool,
) -> None:
    # When one invocation outlives its limit
    timed_out = pool.invoke({"seconds": 3})
    after = pool.invoke({"seconds": 0})

    # Then it ends as Lambda's timeout, and the next runs cold in a worker of its own
    assert timed_out.error == {"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out after 1s"}
    assert after.error is None
    assert after.result == {"slept": 0}
    assert after.cold


@pytest.mark.parametrize("pool", [("broken", 5)], indirect=True)
def test_a_handler_that_cannot_be_imported_answers_every_invocation_with_the_import_error(
    pool: FunctionPool,
) -> None:
    first, second = pool.invoke({}), pool.invoke({})

    for invocation in (first, second):
        assert invocation.error is not None
        assert invocation.error["errorType"] == "Runtime.ImportModuleError"
        assert "no such thing" in invocation.error["errorMessage"]
    assert "RuntimeError" in first.output


@pytest.mark.parametrize("pool", [("ctrl_c", 5)], indirect=True)
def test_a_worker_ignores_ctrl_c_from_its_start_and_serve_does_not(pool: FunctionPool) -> None:
    """A terminal's Ctrl-C reaches every process of serve's group; a worker forked at that moment must
    not print a KeyboardInterrupt before its own code could set a handler."""
    invocation = pool.invoke({})

    assert invocation.error is None, invocation
    assert invocation.result == {"ignored": True}
    assert "local.serve.fork_server_signals" not in sys.modules  # serve's own processes keep Ctrl-C
