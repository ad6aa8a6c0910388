"""DELETE /api/videos/{id}, DELETE /v1/videos/{id}: the job ends (if running), then copy, files and
record go."""

import time

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import wiring
from videos_core.deadline import bounded
from videos_core.http import Api, json_response, owner_of
from videos_core.logic.delete import delete_video
from videos_core.observability import logger, metrics, traced
from videos_core.router import Response
from videos_core.settings import get_settings

app = Api("delete")


@app.serves()
def delete(video_id: str) -> Response:
    deleted = delete_video(
        owner_of(app),
        video_id,
        videos=wiring.videos(),
        assets=wiring.assets(),
        workflow=wiring.workflow(),
        upstream=wiring.bounded_upstream(),
        ender=wiring.ender(app.lambda_context.aws_request_id),
        retention_seconds=get_settings().retention_seconds,
        now=int(time.time()),
    )
    return json_response(deleted)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@traced
@bounded
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
