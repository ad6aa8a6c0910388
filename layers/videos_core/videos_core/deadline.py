"""The current invocation's deadline: past it, no AWS call starts (each AWS client checks it before
every attempt), so a function answers — or gives back what it took — before Lambda cuts it off.

One invocation runs at a time in a Lambda container, so the deadline is the container's, set at the
start of each invocation."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from videos_core.errors import ServiceUnavailable

_deadline: float | None = None


def start(seconds: float) -> None:
    """This invocation must be done with AWS within `seconds` from now."""
    global _deadline
    _deadline = time.monotonic() + max(0.0, seconds)


def clear() -> None:
    global _deadline
    _deadline = None


def seconds_left() -> float:
    return float("inf") if _deadline is None else _deadline - time.monotonic()


# What an API function still does with AWS after its upstream call: store the record and start the
# job, or give back what it took.
AFTER_UPSTREAM_SECONDS = 4.0


def upstream_seconds() -> float:
    """How long this invocation's upstream calls may take, leaving time for what follows them."""
    return seconds_left() - AFTER_UPSTREAM_SECONDS


def check_before_send(**_: Any) -> None:
    """botocore's `before-send` hook: refuses an attempt that would start past the deadline."""
    if seconds_left() <= 0:
        raise ServiceUnavailable("This request ran out of time before it could finish; retry.", retry_after=1)


# After the deadline, one attempt may still be under way (the clients' connect and read timeouts,
# 1 + 3 s), and the function's answer, logs and metrics follow (2 s). An invocation with little time
# left keeps a quarter of it for them.
RESERVED_SECONDS = 6.0

Handler = TypeVar("Handler", bound=Callable[..., Any])


def bounded(handler: Handler) -> Handler:
    """The handler with this invocation's deadline set from its context's remaining time."""

    @functools.wraps(handler)
    def run(event: Any, context: Any) -> Any:
        remaining = context.get_remaining_time_in_millis() / 1000
        start(remaining - min(RESERVED_SECONDS, remaining / 4))
        try:
            return handler(event, context)
        finally:
            clear()

    return run  # type: ignore[return-value]
