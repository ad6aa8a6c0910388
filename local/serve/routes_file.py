"""`serve --routes FILE`: the routes document a deployment keeps in AppConfig, where a route may hold
its key itself (`"api_key": "…"`) instead of naming its SSM parameter. `serve` stores each such key as
a SecureString under UpstreamKeysPath and names the parameter in the route, as deployed: a key never
reaches a function but from SSM. A route without a base URL goes to the built-in engine's dialect of
its provider when the engine runs (and takes the dialect's signing keys, for a provider that signs
its callbacks, and the key its provider takes, made from the one given: Vertex AI's service account
key). The document that results is checked as `videos-api routes check` checks one, then
deployed to the local AppConfig by the same calls `routes apply` makes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.engine.dialects import Dialect, dialects
from local.routes_store import check
from local.template import application_template
from videos_core.adapters.routes import RoutesDocumentError
from videos_core.catalog import Defaults


class RoutesFileError(ValueError):
    pass


def stack_defaults(upstream_url: str, parameters: dict[str, str]) -> Defaults:
    """What the routes of a local stack leave out: its upstream, and the template's key parameters as
    `parameters` override them."""
    declared = application_template()["Parameters"]
    given = {name: str(spec.get("Default", "")) for name, spec in declared.items()} | parameters
    return Defaults(upstream_url, given["UpstreamApiKeyParameter"], given["UpstreamKeysPath"])


@dataclass(frozen=True)
class Routes:
    source: str  # the file's name
    document: bytes  # what is deployed
    keys: dict[str, str]  # SSM parameter -> key


def read_routes(path: Path, defaults: Defaults, engine_url: str | None) -> Routes:
    """The document to deploy and the keys to store; RoutesFileError when it would not be taken."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise RoutesFileError(f"--routes {path}: {e}") from e
    if not isinstance(raw, dict) or not raw:
        raise RoutesFileError(f"--routes {path}: a JSON object mapping model names to routes")
    document: dict[str, Any] = {}
    keys: dict[str, str] = {}
    for model, given in raw.items():
        if isinstance(given, list):
            document[model] = [
                _route(f"{model}-{number}", route, defaults, engine_url, keys)
                for number, route in enumerate(given, start=1)
            ]
        else:
            document[model] = _route(model, given, defaults, engine_url, keys)
    content = json.dumps(document).encode()
    try:
        check(content, defaults)
    except RoutesDocumentError as e:
        raise RoutesFileError(f"--routes {path}: {e}") from e
    return Routes(path.name, content, keys)


def _route(
    name: str, given: Any, defaults: Defaults, engine_url: str | None, keys: dict[str, str]
) -> dict[str, Any]:
    """A route as deployed (`name`: its key parameter's), its inline key put in `keys`."""
    route = dict(given) if isinstance(given, dict) else {"base_url": given}
    key = route.pop("api_key", None)
    dialect = dialects().get(str(route.get("provider", "openai")))
    # The engine's URL, when the route goes to its dialect.
    engine = engine_url if dialect is not None and "base_url" not in route else None
    if key is not None:
        if "api_key_parameter" in route:
            raise RoutesFileError(f"route {name!r}: give api_key or api_key_parameter, not both")
        parameter = defaults.keys_path + re.sub(r"[^A-Za-z0-9_.-]", "-", name)
        keys[parameter] = _secret(str(key), dialect, engine)
        route["api_key_parameter"] = parameter
    if dialect is not None and engine is not None:
        route["base_url"] = engine + dialect.path
        if dialect.webhook_keys_path is not None:
            route.setdefault("webhook_keys_url", engine + dialect.webhook_keys_path)
    return route


def _secret(key: str, dialect: Dialect | None, engine: str | None) -> str:
    """What a route keeps as its key: the key given or, on the engine, what its dialect's provider
    takes made from it (Vertex AI: a service account's key)."""
    if dialect is None or dialect.route_secret is None or engine is None:
        return key
    return dialect.route_secret(key, engine)
