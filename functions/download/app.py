"""GET /api/videos/{id}/download, GET /v1/videos/{id}/content: 302 to a presigned S3 URL
(or, with ?redirect=false, the link as JSON)."""

import time

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import wiring
from videos_core.deadline import bounded
from videos_core.http import Api, json_response, owner_of, parse_query
from videos_core.logic.download import download_link
from videos_core.models.api import DownloadQuery
from videos_core.observability import logger, metrics, traced
from videos_core.router import Response
from videos_core.settings import get_settings

app = Api("download")


@app.serves()
def download(video_id: str) -> Response:
    query = parse_query(app, DownloadQuery)
    link = download_link(
        owner_of(app),
        video_id,
        query.variant,
        videos=wiring.videos(),
        assets=wiring.assets(),
        settings=get_settings(),
        now=int(time.time()),
    )
    if not query.redirect:
        return json_response(link)
    return Response(302, "text/plain", "", {"Location": link.url, "Cache-Control": "no-store"})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@traced
@bounded
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
