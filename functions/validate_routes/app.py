"""AppConfig's validator of the routes document (a LAMBDA validator of RoutesProfile): AppConfig invokes
it before a new version is stored and before one is deployed, and refuses the document when it fails.
It applies every rule the functions apply when they build the catalog, so what the store takes, the
functions take."""

import base64
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core.adapters.routes import parse
from videos_core.observability import logger
from videos_core.settings import get_settings


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    content = base64.b64decode(event["content"])
    # RoutesDocumentError fails the invocation: AppConfig refuses the document with its message.
    catalog = parse(content, get_settings().catalog_defaults)
    logger.info(
        "routes valid", extra={"version": event.get("configurationVersion"), "models": len(catalog.models)}
    )
