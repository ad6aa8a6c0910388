"""GET /api/videos/{id}, GET /v1/videos/{id}: the video's record (never the upstream)."""

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import wiring
from videos_core.deadline import bounded
from videos_core.http import Api, json_response, owner_of
from videos_core.logic.read import get_video
from videos_core.observability import logger, metrics, traced
from videos_core.router import Response

app = Api("get")


@app.serves()
def get(video_id: str) -> Response:
    return json_response(get_video(owner_of(app), video_id, wiring.videos()))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@traced
@bounded
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
