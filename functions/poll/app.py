"""GET /api/videos/{id}/poll?maxWaitMs=: 200 once the job ends, 202 + Retry-After while it runs."""

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import wiring
from videos_core.deadline import bounded
from videos_core.http import Api, json_response, owner_of, parse_query, time_left
from videos_core.logic.poll import RETRY_AFTER_SECONDS, poll_video
from videos_core.models.api import PollQuery
from videos_core.observability import logger, metrics, traced
from videos_core.router import Response
from videos_core.settings import get_settings

app = Api("poll")


@app.serves()
def poll(video_id: str) -> Response:
    outcome = poll_video(
        owner_of(app),
        video_id,
        parse_query(app, PollQuery),
        videos=wiring.videos(),
        settings=get_settings(),
        time_left=time_left(app),
    )
    if outcome.finished:
        return json_response(outcome.video)
    return json_response(outcome.video, 202, {"Retry-After": str(RETRY_AFTER_SECONDS)})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@traced
@bounded
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
