"""POST /api/videos/{id}/remix, POST /v1/videos/{id}/remix: a new job from a completed video."""

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import idempotency
from videos_core.deadline import bounded
from videos_core.http import Api, owner_of, parse_body
from videos_core.logic.create import remix_video
from videos_core.models.api import RemixVideoRequest
from videos_core.observability import logger, metrics, traced
from videos_core.router import Response

app = Api("remix")


@app.serves()
def remix(video_id: str) -> Response:
    owner = owner_of(app)
    request, _ = parse_body(app, app.body_model(RemixVideoRequest))
    return idempotency.start_once(
        app,
        owner,
        request.model_dump() | {"source": video_id},
        None,
        lambda ports, now, key: remix_video(owner, video_id, request, ports, now, key),
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@traced
@bounded
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
