"""GET /api/videos (a bare array, as the seed), GET /v1/videos (OpenAI's list page)."""

import json

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import wiring
from videos_core.deadline import bounded
from videos_core.http import JSON, Api, json_response, owner_of, parse_query
from videos_core.logic.read import list_videos
from videos_core.models.api import ListQuery
from videos_core.observability import logger, metrics, traced
from videos_core.router import Response

app = Api("list")


@app.serves("seed")
def list_seed() -> Response:
    page = list_videos(owner_of(app), parse_query(app, ListQuery), wiring.videos())
    return Response(200, JSON, json.dumps([video.model_dump(mode="json") for video in page.data]))


@app.serves("openai")
def list_openai() -> Response:
    return json_response(list_videos(owner_of(app), parse_query(app, ListQuery), wiring.videos()))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@traced
@bounded
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
