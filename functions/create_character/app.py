"""POST /v1/videos/characters: a character from a name and a short video, made by the upstream."""

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import wiring
from videos_core.deadline import bounded
from videos_core.http import Api, json_response, owner_of, parse_body
from videos_core.logic.characters import create_character
from videos_core.models.api import CreateCharacterRequest
from videos_core.observability import logger, metrics, traced
from videos_core.router import Response

app = Api("create_character")


@app.serves()
def create() -> Response:
    owner = owner_of(app)
    request, video = parse_body(app, CreateCharacterRequest, attachment=app.matched.upload)
    upstream, characters, uploads = wiring.bounded_upstream(), wiring.characters(), wiring.uploads()
    character = create_character(owner, request, video, upstream, characters, uploads)
    return json_response(character)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@traced
@bounded
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
