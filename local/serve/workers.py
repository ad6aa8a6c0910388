"""Functions run as Lambda runs them: each in its own worker processes ("containers"), with its own
environment and module state, one invocation at a time per worker. A small pool per function is
started on first use and reused, so cold and warm starts happen as they do on AWS.

A worker is forked from a server process that has already imported the libraries every function
imports (boto3, Powertools, pydantic) — as Lambda's runtime is loaded before a function's init — so a
new worker costs milliseconds of its own. Only libraries the core layer ships, and that read nothing of
the environment when imported, are preloaded; the function's own modules, and anything configured
from its environment, are imported in the worker, after its environment is set."""

from __future__ import annotations

import faulthandler
import importlib
import io
import multiprocessing
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from multiprocessing.connection import Connection
from typing import Any

from local.iam.enforce import Revocations, Role, act_as_process, revocations_from_environment
from local.process_names import function_process_name, name_this_process
from local.serve.application import ACCOUNT, LOCAL_ACCOUNT, REGION, LocalFunction
from local.serve.credentials import SECRET_KEY
from local.serve.limits import check_request, response_error

MAX_WORKERS_PER_FUNCTION = 4
PRELOADED = (
    "local.serve.fork_server_signals",  # first: every worker is forked ignoring SIGINT
    "local.serve.workers",
    "boto3",
    "botocore.client",
    "botocore.endpoint_provider",
    "botocore.session",
    # One loader of botocore's data for every session of a worker, read before the fork.
    "local.serve.botocore_data",
    "s3transfer.manager",
    "pydantic",
    # The HTTP client of the openai SDK and of the REST providers' adapters (httpx itself is not in
    # the layer: preloaded, a function importing it would work here and fail on Lambda).
    "httpx2",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
    "aws_lambda_powertools.utilities.typing",
    # The SDK of OpenAI-shaped upstreams: half of a cold worker's CPU was its import. At import it reads
    # only the settings of its module-level client, which no function uses, and OPENAI_LOG.
    "openai",
)
# Lambda allows 10 s; the imports of a few workers starting at once on a busy 2-core machine can take longer.
INIT_TIMEOUT_SECONDS = 60
_EXITED = {"errorType": "Runtime.ExitError", "errorMessage": "the function's process exited"}


@dataclass(frozen=True)
class Invocation:
    """What one invocation returned (or raised), and what it printed."""

    result: Any
    error: dict[str, str] | None
    output: str
    cold: bool
    seconds: float


@dataclass(frozen=True)
class _Context:
    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    deadline_ms: int

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))


class _Output(io.TextIOBase):
    """The worker's stdout and stderr: whatever is written goes to the current invocation's buffer,
    also from loggers that kept a reference to sys.stdout when the handler was imported."""

    def __init__(self) -> None:
        self.buffer_ = io.StringIO()

    def write(self, text: str) -> int:
        return self.buffer_.write(text)

    def take(self) -> str:
        text, self.buffer_ = self.buffer_.getvalue(), io.StringIO()
        return text


def _worker_main(
    connection: Connection, function: LocalFunction, layer_dirs: list[str], revocations: Revocations
) -> None:
    """A container: the function's environment and code path; its handler imported in the init phase,
    before the first invocation (whose time limit, as on Lambda, does not include it). Its role's
    revocations are serve's at the worker's start (a forked worker has the fork server's environment)."""
    name_this_process(function_process_name(function.logical_id))
    os.environ.clear()
    os.environ.update(function.environment)
    # As on Lambda, every AWS call the function makes is made as its execution role.
    act_as_process(Role(function.name, function.policy, LOCAL_ACCOUNT, revocations))
    sys.path[:0] = [str(function.code_dir), *layer_dirs]
    output = _Output()
    sys.stdout = sys.stderr = output
    module_name, handler_name = function.handler.rsplit(".", 1)
    init_error: dict[str, str] | None = None
    try:
        handler = getattr(importlib.import_module(module_name), handler_name)
    except Exception as e:
        output.write(traceback.format_exc())
        init_error = {"errorType": "Runtime.ImportModuleError", "errorMessage": f"{type(e).__name__}: {e}"}
    connection.send(output.take())  # ready, with what the init phase printed
    while True:
        try:
            event = connection.recv()
        except EOFError:
            return
        if init_error is not None:
            connection.send((None, init_error, ""))
            continue
        context = _Context(
            function.name,
            512,
            function.arn,
            str(uuid.uuid4()),
            int(time.time() * 1000) + function.timeout * 1000,
        )
        # An invocation about to time out prints where it is stuck to serve's own stderr (fd 2): its
        # buffered output is lost when the worker is killed.
        faulthandler.dump_traceback_later(max(1.0, function.timeout - 0.5), file=2)
        try:
            result = handler(event, context)
            connection.send((result, None, output.take()))
        except Exception as e:
            output.write(traceback.format_exc())
            connection.send((None, {"errorType": type(e).__name__, "errorMessage": str(e)}, output.take()))
        finally:
            faulthandler.cancel_dump_traceback_later()


@cache
def _forkserver() -> multiprocessing.context.ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOADED))
    return context


class _Worker:
    def __init__(self, function: LocalFunction, layer_dirs: list[str]) -> None:
        context = _forkserver()
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_worker_main,
            args=(child, function, layer_dirs, revocations_from_environment()),
            name=f"lambda:{function.name}",
            daemon=True,
        )
        self.process.start()
        child.close()
        self._initialised = False
        self.event: Any = None  # the invocation under way, if one is

    def invoke(self, event: Any, timeout: float) -> tuple[Any, dict[str, str] | None, str]:
        """One invocation; a new worker's first waits for its init phase, whose output it carries."""
        self.event = event
        try:
            init_output = ""
            if not self._initialised:
                if not self.connection.poll(INIT_TIMEOUT_SECONDS):
                    return self._timed_out(f"The init phase did not end within {INIT_TIMEOUT_SECONDS}s")
                init_output, self._initialised = self.connection.recv(), True
            self.connection.send(event)
            if not self.connection.poll(timeout):
                return self._timed_out(f"Task timed out after {timeout:g}s")
            result, error, output = self.connection.recv()
        except (EOFError, OSError):
            # The process exited, or serve is shutting down under this invocation.
            return None, dict(_EXITED), ""
        finally:
            self.event = None
        return result, error, init_output + output

    def _timed_out(self, message: str) -> tuple[None, dict[str, str], str]:
        self.stop()
        return None, {"errorType": "Sandbox.Timedout", "errorMessage": message}, ""

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def stop(self) -> None:
        self.kill()
        self.join()

    def kill(self) -> None:
        self.connection.close()
        self.process.kill()

    def join(self) -> None:
        self.process.join(timeout=5)


class FunctionPool:
    def __init__(
        self, function: LocalFunction, layer_dirs: list[str], size: int = MAX_WORKERS_PER_FUNCTION
    ) -> None:
        self.function = function
        self._layer_dirs = layer_dirs
        self._idle: list[_Worker] = []
        self._all: list[_Worker] = []
        self._slots = threading.Semaphore(size)
        self._lock = threading.Lock()

    def invoke(self, event: Any) -> Invocation:
        with self._slots:
            with self._lock:
                worker = self._idle.pop() if self._idle else None
            cold = worker is None
            if worker is None:
                worker = _Worker(self.function, self._layer_dirs)
                with self._lock:
                    self._all.append(worker)
            started = time.perf_counter()
            result, error, output = worker.invoke(event, self.function.timeout)
            seconds = time.perf_counter() - started
            with self._lock:
                if worker not in self._all:
                    worker.stop()  # the pool was closed under this invocation
                elif worker.alive:
                    self._idle.append(worker)
                else:
                    self._all.remove(worker)
            return Invocation(result, error, output, cold, seconds)

    def crash_busy(self, handling: Callable[[Any], bool]) -> int:
        """Kills the workers in the middle of an invocation whose event `handling` accepts, as when a
        container dies (fault tests); their invocations end with Runtime.ExitError. Returns how many
        were killed."""
        with self._lock:
            busy = [w for w in self._all if w not in self._idle and w.alive and handling(w.event)]
        for worker in busy:
            worker.process.kill()
        return len(busy)

    def close(self) -> None:
        """Stops every worker; the next invocation starts a new one (a cold start)."""
        with self._lock:
            # All at once, then each awaited: a stop takes one worker's exit, not the sum of them.
            for worker in self._all:
                worker.kill()
            for worker in self._all:
                worker.join()
            self._all.clear()
            self._idle.clear()


class Functions:
    """Every function of the application, each with its pool."""

    def __init__(self, functions: dict[str, LocalFunction], layer_dirs: list[str]) -> None:
        self.pools = {f.name: FunctionPool(f, layer_dirs) for f in functions.values()}
        self._closed = False

    def invoke(self, name_or_arn: str, event: Any) -> Invocation:
        """One synchronous invocation, within Lambda's payload quotas: PayloadTooLargeError for an event
        too large to deliver, a Function.ResponseSizeTooLarge error for a result too large to return."""
        name = name_or_arn.rsplit(":function:", 1)[-1].split(":")[0]
        if self._closed:  # serve is stopping: no new container
            return Invocation(None, dict(_EXITED), "", False, 0.0)
        check_request(event)
        invocation = self.pools[name].invoke(event)
        too_large = response_error(invocation.result) if invocation.error is None else None
        if too_large is not None:
            return Invocation(None, too_large, invocation.output, invocation.cold, invocation.seconds)
        return invocation

    def close(self) -> None:
        self._closed = True
        for pool in self.pools.values():
            pool.close()


def lambda_environment(aws_endpoint: str) -> dict[str, str]:
    """What the Lambda runtime (and an AWS account) would provide, pointed at the local endpoint."""
    return {
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCOUNT_ID": ACCOUNT,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }
