"""Logger and Metrics, created once for the layer (service and namespace from POWERTOOLS_*), and the
X-Ray SDK's tracing where it is asked for."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics

# Most invocations record no metric; Powertools would warn about each one in the logs.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

logger = Logger(service="videos-api")
metrics = Metrics(service="videos-api")

Handler = TypeVar("Handler", bound=Callable[..., Any])


def traced(handler: Handler) -> Handler:
    """The handler under Powertools' Tracer, unless POWERTOOLS_TRACE_DISABLED is true (the template's
    default): importing the X-Ray SDK costs ~100 ms of every cold start, and Lambda's active tracing
    records each invocation without it."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() == "true":
        return handler
    from aws_lambda_powertools import Tracer

    return Tracer(service="videos-api").capture_lambda_handler(handler)  # type: ignore[return-value]


_SECRET_FIELDS = {"api_key", "authorization", "input_reference"}


def _redacted(values: dict[str, Any]) -> dict[str, Any]:
    return {
        name: ("[redacted]" if name.lower() in _SECRET_FIELDS else value) for name, value in values.items()
    }


def log_upstream_interaction(
    *,
    endpoint: str,
    request: dict[str, Any],
    response: dict[str, Any],
    started: float,
    ended: float,
    video_id: str,
    cost_estimate: Decimal,
    model: str,
    duration_seconds: int,
) -> None:
    """The seed's `logOpenAIInteraction` record, as one structured line."""
    logger.info(
        "upstream interaction",
        extra={
            "api": "videos",
            "endpoint": endpoint,
            "request": _redacted(request),
            "response": _redacted(response),
            "latency_ms": round((ended - started) * 1000, 1),
            "video_id": video_id,
            "cost_estimate": float(cost_estimate),
            "model": model,
            "duration_seconds": duration_seconds,
        },
    )
