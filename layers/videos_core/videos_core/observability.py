"""Logger, Metrics and Tracer, created once for the layer (service and namespace from POWERTOOLS_*)."""

from __future__ import annotations

import warnings
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

# Most invocations record no metric; Powertools would warn about each one in the logs.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

logger = Logger(service="videos-api")
metrics = Metrics(service="videos-api")
tracer = Tracer(service="videos-api")

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
