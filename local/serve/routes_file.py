"""`serve --routes FILE`: the routes document a deployment takes in UpstreamRoutes, where a route may
hold its key itself (`"api_key": "…"`) instead of naming its SSM parameter. `serve` stores each such
key as a SecureString under UpstreamKeysPath and hands the functions the parameter, as deployed: a
key never reaches a function through its environment. A route without a base URL goes to the
built-in engine's dialect of its provider when the engine runs (and a fal route takes the engine's
webhook keys)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from videos_core.catalog import Route

# Where each provider's dialect is served by the engine.
ENGINE_PATHS = {"openai": "/v1", "gemini": "", "fal": "/fal", "openrouter": "/api/v1"}


class RoutesFileError(ValueError):
    pass


@dataclass(frozen=True)
class Routes:
    document: str  # the UpstreamRoutes parameter
    keys: dict[str, str]  # SSM parameter -> key


def read_routes(path: Path, keys_path: str, engine_url: str | None) -> Routes:
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise RoutesFileError(f"--routes {path}: {e}") from e
    if not isinstance(raw, dict) or not raw:
        raise RoutesFileError(f"--routes {path}: a JSON object mapping model names to routes")
    document: dict[str, Any] = {}
    keys: dict[str, str] = {}
    for model, given in raw.items():
        route = dict(given) if isinstance(given, dict) else {"base_url": given}
        key = route.pop("api_key", None)
        if key is not None:
            if "api_key_parameter" in route:
                raise RoutesFileError(f"route {model!r}: give api_key or api_key_parameter, not both")
            parameter = keys_path + re.sub(r"[^A-Za-z0-9_.-]", "-", model)
            keys[parameter] = str(key)
            route["api_key_parameter"] = parameter
        provider = str(route.get("provider", "openai"))
        if "base_url" not in route and engine_url is not None and provider in ENGINE_PATHS:
            route["base_url"] = engine_url + ENGINE_PATHS[provider]
            if provider == "fal":
                route.setdefault("webhook_keys_url", f"{engine_url}/fal/.well-known/jwks.json")
        try:
            Route.model_validate(route)
        except ValidationError as e:
            raise RoutesFileError(f"route {model!r}: {e.errors()[0]['msg']}") from e
        document[model] = route
    return Routes(json.dumps(document), keys)
