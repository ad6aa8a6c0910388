"""GET /openapi.json (the service's OpenAPI 3.1 document), and the API's default route: every
request no other route matches gets the contract's 404, or 405 where the path exists; an OPTIONS
request there (a browser's CORS preflight among them) gets 204 with the methods the path serves."""

import json

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core.deadline import bounded
from videos_core.http import JSON, Api
from videos_core.observability import logger, metrics, traced
from videos_core.openapi import openapi_document
from videos_core.router import Response

app = Api("openapi")


@app.serves()
def openapi() -> Response:
    return Response(200, JSON, json.dumps(openapi_document()), {"Cache-Control": "public, max-age=300"})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@traced
@bounded
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
