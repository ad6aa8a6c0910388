"""POST /api/videos, POST /v1/videos: create a video job."""

import time

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import wiring
from videos_core.http import json_response, make_resolver, owner_of, parse_body
from videos_core.logic.create import create_video
from videos_core.models.api import CreateVideoRequest
from videos_core.observability import logger, metrics, tracer
from videos_core.settings import get_settings

app = make_resolver()


@app.post("/api/videos")
@app.post("/v1/videos")
def create() -> Response[str]:
    owner = owner_of(app)
    request, reference = parse_body(app, CreateVideoRequest, accepts_reference=True)
    record = create_video(
        owner,
        request,
        reference,
        settings=get_settings(),
        upstream=wiring.upstream(),
        videos=wiring.videos(),
        workflow=wiring.workflow(),
        now=int(time.time()),
    )
    metrics.add_dimension("model", record.model)
    metrics.add_metric("VideosCreated", MetricUnit.Count, 1)
    return json_response(record.to_video(), 201)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
