"""Names the offline runtime's processes as `ps` and `top` show them (Linux's /proc/self/comm): the AWS
endpoint, each function's workers and the engine's renderers, so a look at the machine tells where
its CPU goes, and the load benchmark can add it up."""

from __future__ import annotations

import contextlib

AWS_ENDPOINT = "aws-endpoint"
ENGINE_RENDER = "engine-render"
FUNCTION_PREFIX = "fn:"


def function_process_name(logical_id: str) -> str:
    return FUNCTION_PREFIX + logical_id.removesuffix("Function")


def name_this_process(name: str) -> None:
    """At most 15 characters are kept; where there is no /proc (not Linux), nothing is named."""
    with contextlib.suppress(OSError), open("/proc/self/comm", "w") as comm:
        comm.write(name[:15])
