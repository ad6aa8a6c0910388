"""GET /v1/videos/models: every model this service accepts, with what it can make and its price."""

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import wiring
from videos_core.deadline import bounded
from videos_core.http import Api, json_response, owner_of
from videos_core.logic.models import list_models
from videos_core.observability import logger, metrics, traced
from videos_core.router import Response

app = Api("list_models")


@app.serves()
def models() -> Response:
    owner_of(app)
    return json_response(list_models(wiring.catalog()))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@traced
@bounded
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
