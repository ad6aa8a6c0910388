"""The model catalog: each model a client may name, the route that serves it and what it can make.

`UPSTREAM_ROUTES` is a document mapping the model name clients send to a route:
`{"<model>": {"provider": "openai" | "gemini" | "fal" | "openrouter", "base_url": "https://…",
"upstream_model": "<the provider's id>", "api_key_parameter": "<SSM name>", …overrides}}`. Without
one, OpenAI's two models go to UPSTREAM_BASE_URL. A base URL is https unless it is a loopback
address: a key never travels in clear.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, model_validator

from videos_core.capabilities import Capabilities, Overrides
from videos_core.providers import MODULES, Provider, family_of, profiles

ParameterName = Annotated[str, Field(pattern=r"^/[A-Za-z0-9_./-]+$")]
DEFAULT_MODELS = ("sora-2", "sora-2-pro")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def safe_base_url(url: str) -> str:
    """An https URL, or an http one to this machine (the offline engine)."""
    parts = urlsplit(url)
    if not parts.hostname or parts.scheme not in ("http", "https"):
        raise ValueError(f"{url!r} is not an http(s) URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError(f"{url!r} must be https: a key never travels in clear (http is for loopback only)")
    return url.rstrip("/")


BaseUrl = Annotated[str, AfterValidator(safe_base_url)]


class Route(Overrides):
    """Where a model goes, and how it is asked for there."""

    provider: Provider = "openai"
    base_url: BaseUrl | None = None
    upstream_model: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    api_key_parameter: ParameterName | None = None
    # The provider's model family whose capabilities apply (by default, found from the model id).
    profile: str | None = None
    # Where the provider publishes the keys its webhooks are signed with (fal's, by default).
    webhook_keys_url: BaseUrl | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_url(cls, value: Any) -> Any:
        """A bare URL is an OpenAI-compatible route (the earlier form of the document)."""
        return {"base_url": value} if isinstance(value, str) else value


@dataclass(frozen=True)
class Entry:
    """One model of the catalog."""

    model: str
    provider: str
    base_url: str
    upstream_model: str
    api_key_parameter: str
    family: str
    capabilities: Capabilities
    webhook_keys_url: str | None = None


def build_catalog(routes: dict[str, Route], base_url: str, api_key_parameter: str) -> dict[str, Entry]:
    """Every accepted model with its route and capabilities; raises ValueError naming a bad route."""
    given = routes or {model: Route() for model in DEFAULT_MODELS}
    return {model: _entry(model, route, base_url, api_key_parameter) for model, route in given.items()}


def _entry(model: str, route: Route, base_url: str, api_key_parameter: str) -> Entry:
    provider = route.provider
    upstream_model = route.upstream_model or model
    family = route.profile or family_of(provider, upstream_model)
    known = profiles(provider)
    if family not in known:
        raise ValueError(
            f"route {model!r}: no {provider} profile for {upstream_model!r}; name one with 'profile' "
            f"({', '.join(sorted(known))})"
        )
    overrides = route.model_dump(include=set(Overrides.model_fields), exclude_none=True)
    default_url = base_url if provider == "openai" else MODULES[provider].DEFAULT_BASE_URL
    return Entry(
        model=model,
        provider=provider,
        base_url=route.base_url or default_url,
        upstream_model=upstream_model,
        api_key_parameter=route.api_key_parameter or api_key_parameter,
        family=family,
        capabilities=known[family].model_copy(update=overrides),
        webhook_keys_url=route.webhook_keys_url or getattr(MODULES[provider], "WEBHOOK_KEYS_URL", None),
    )
