"""POST /api/videos, POST /v1/videos: create a video job."""

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import idempotency
from videos_core.deadline import bounded
from videos_core.http import Api, owner_of, parse_body
from videos_core.logic.create import create_video
from videos_core.models.api import CreateVideoRequest
from videos_core.observability import logger, metrics, traced
from videos_core.router import Response

app = Api("create")


@app.serves()
def create() -> Response:
    owner = owner_of(app)
    request, reference = parse_body(app, app.body_model(CreateVideoRequest), attachment=app.matched.upload)
    return idempotency.start_once(
        app,
        owner,
        request.model_dump(),
        reference,
        lambda ports, now, key: create_video(owner, request, reference, ports, now, key),
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@traced
@bounded
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
