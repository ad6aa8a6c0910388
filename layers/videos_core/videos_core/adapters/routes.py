"""The catalog from the routes document deployed in AWS AppConfig, read through Powertools' Parameters
(the `appconfigdata` API): at most once per `max_age` per container, so a new deployment takes effect
within it without a stack update. A document is built into a catalog once per version; one that cannot
be (a deployment that got past the store's schema with a rule only the code checks) leaves the last
good catalog in place and is logged."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.parameters import AppConfigProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

from videos_core.catalog import Catalog, Defaults, build_catalog
from videos_core.errors import ServiceUnavailable
from videos_core.observability import logger


class RoutesDocumentError(ValueError):
    """A routes document the catalog cannot be built from."""


def parse(content: bytes | str, defaults: Defaults) -> Catalog:
    """The catalog a routes document makes; RoutesDocumentError naming what is wrong."""
    try:
        return build_catalog(json.loads(content or b"{}"), defaults)
    except (ValueError, UnicodeDecodeError) as e:
        raise RoutesDocumentError(str(e)) from e


class DeployedRoutes:
    """The catalog of the document `read` returns (the same bytes while nothing new is deployed)."""

    def __init__(self, read: Callable[[], bytes], defaults: Defaults) -> None:
        self._read = read
        self._defaults = defaults
        self._lock = threading.Lock()
        self._content: bytes | None = None
        self._catalog: Catalog | None = None

    def catalog(self) -> Catalog:
        with self._lock:
            try:
                content = self._read()
            except GetParameterError as e:
                if self._catalog is None:
                    raise ServiceUnavailable(
                        "The routes could not be read; retry shortly.", retry_after=5
                    ) from e
                logger.warning("routes not read; the last ones stay", extra={"error": str(e)})
                return self._catalog
            if content != self._content or self._catalog is None:
                try:
                    self._catalog = parse(content, self._defaults)
                except RoutesDocumentError as e:
                    if self._catalog is None:
                        raise ServiceUnavailable("The deployed routes are not valid.", retry_after=60) from e
                    logger.error("deployed routes refused; the last good ones stay", extra={"error": str(e)})
                self._content = content
            return self._catalog


def appconfig(
    client: Any, application: str, environment: str, profile: str, max_age: int
) -> Callable[[], bytes]:
    """A reader of the configuration profile's deployed content, cached `max_age` seconds. Before any
    document is deployed (AppConfig's ResourceNotFoundException), the content is an empty document."""
    provider = AppConfigProvider(environment=environment, application=application, boto3_client=client)
    nothing_until = 0.0

    def read() -> bytes:
        nonlocal nothing_until
        if time.monotonic() < nothing_until:
            return b"{}"
        try:
            content = provider.get(profile, max_age=max_age, RequiredMinimumPollIntervalInSeconds=max_age)
        except GetParameterError as e:
            cause = e.__context__
            if not (
                isinstance(cause, ClientError)
                and cause.response["Error"]["Code"] == "ResourceNotFoundException"
            ):
                raise
            # Asked again no sooner than the session allows.
            nothing_until = time.monotonic() + max_age
            return b"{}"
        return content if isinstance(content, bytes) else str(content).encode()

    return read
