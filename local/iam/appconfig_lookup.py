"""Which configuration an `appconfigdata` call reads, asked of the AppConfig that serves it. AWS
authorizes StartConfigurationSession and GetLatestConfiguration on the configuration's ARN, made of ids,
while the call names it by id or name, or only by an opaque token: AWS resolves both itself before it
authorizes the call, and the local endpoint answers the same question at `/_appconfig/configuration`
(see local.serve.appconfig_api). Asking it at each call, rather than remembering the tokens this process
was given, judges a token wherever it came from."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

LOOKUP_PATH = "/_appconfig/configuration"
# Only the local endpoint is asked, never through a proxy.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def configuration_ids(url: str, operation: str, params: Mapping[str, Any]) -> dict[str, str] | None:
    """The ids (`application_id`, `environment_id`, `profile_id`) of what the call to `url` reads; None
    when the endpoint knows no such configuration or token."""
    if operation == "GetLatestConfiguration":
        query = {"token": params["ConfigurationToken"]}
    else:
        query = {
            "application": params["ApplicationIdentifier"],
            "environment": params["EnvironmentIdentifier"],
            "profile": params["ConfigurationProfileIdentifier"],
        }
    parts = urlsplit(url)
    try:
        with _OPENER.open(
            f"{parts.scheme}://{parts.netloc}{LOOKUP_PATH}?{urlencode(query)}", timeout=3
        ) as answer:
            found: dict[str, str] = json.load(answer)
            return found
    except urllib.error.HTTPError as e:
        # The error is the answer: its connection is closed with it, not left to the collector.
        e.close()
        if e.code == 404:
            return None
        raise
