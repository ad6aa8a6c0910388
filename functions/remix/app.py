"""POST /api/videos/{id}/remix, POST /v1/videos/{id}/remix: a new job from a completed video."""

import json
import time
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import idempotency, wiring
from videos_core.http import JSON, make_resolver, owner_of, parse_body
from videos_core.logic.create import remix_video
from videos_core.models.api import RemixVideoRequest
from videos_core.observability import logger, metrics, tracer

app = make_resolver()


@app.post("/api/videos/<video_id>/remix")
@app.post("/v1/videos/<video_id>/remix")
def remix(video_id: str) -> Response[str]:
    owner = owner_of(app)
    request, _ = parse_body(app, RemixVideoRequest)

    def start() -> dict[str, Any]:
        record = remix_video(
            owner,
            video_id,
            request,
            wiring.launcher(),
            int(time.time()),
        )
        metrics.add_dimension("model", record.model)
        metrics.add_metric("VideosCreated", MetricUnit.Count, 1)
        return record.to_video().model_dump(mode="json")

    key = app.current_event.headers.get(idempotency.HEADER)
    video = idempotency.once(
        owner,
        key,
        idempotency.fingerprint(request.model_dump() | {"source": video_id}),
        app.lambda_context,
        start,
    )
    return Response(201, JSON, json.dumps(video))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
