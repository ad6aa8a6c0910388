"""GET /v1/videos/characters/{character_id}: a character of the caller's."""

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import wiring
from videos_core.deadline import bounded
from videos_core.http import Api, json_response, owner_of
from videos_core.logic.characters import get_character
from videos_core.observability import logger, metrics, traced
from videos_core.router import Response

app = Api("get_character")


@app.serves()
def get(character_id: str) -> Response:
    return json_response(get_character(owner_of(app), character_id, wiring.characters()))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@traced
@bounded
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
