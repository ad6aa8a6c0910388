"""POST /v1/uploads: a signed PUT for a reference image larger than a request body can carry."""

import time

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import wiring
from videos_core.deadline import bounded
from videos_core.http import Api, json_response, owner_of, parse_body
from videos_core.logic.uploads import create_upload
from videos_core.models.api import CreateUploadRequest
from videos_core.observability import logger, metrics, traced
from videos_core.router import Response
from videos_core.settings import get_settings

app = Api("uploads")


@app.serves()
def upload() -> Response:
    owner = owner_of(app)
    request, _ = parse_body(app, CreateUploadRequest)
    ttl = get_settings().download_url_ttl_seconds
    return json_response(create_upload(owner, request, wiring.uploads(), ttl, int(time.time())), status=201)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@traced
@bounded
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
