"""The model catalog: each model a client may name, the route that serves it and what it can make.

The routes document maps the model name clients send to a route, or to a list of routes tried in
order: `{"<model>": {"provider": "<a registered provider>", "base_url": "https://…",
"upstream_model": "<the provider's id>", "api_key_parameter": "<SSM name>", "region": "<a regional
provider's>", "name": "<the route's name among the model's>", "max_seconds": <how long a job may run
there before the next route takes it>, …overrides, "prices_by_size": {"<size>": "<USD per second>"}}}`.
It lives in AWS AppConfig (`videos_core.adapters.routes`), checked against `schema()` before it is
deployed. Without routes, OpenAI's two models go to the deployment's UpstreamBaseUrl, if it has one.
A base URL is https unless it is a loopback address: a key never travels in clear.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, RootModel, WithJsonSchema, model_validator

from videos_core.capabilities import Capabilities, Overrides, Price, SizeValue
from videos_core.model_names import base_model
from videos_core.providers import names, provider
from videos_core.providers.plugin import Provider

ParameterName = Annotated[str, Field(pattern=r"^/[A-Za-z0-9_./-]+$")]
# A cloud region as hosts and paths carry it: us-central1, europe-west4, us-east-1, global.
RegionName = Annotated[str, Field(pattern=r"^[a-z]+(-[a-z]+[0-9]*)*(-[0-9]+)?$", max_length=40)]
# How a model's attempts name a route (its provider's name, unless the route names itself).
RouteName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
DEFAULT_MODELS = ("sora-2", "sora-2-pro")
# The most routes one model may list: each is an attempt a job may make.
MAX_ROUTES_PER_MODEL = 5
# What `safe_base_url` takes, for the routes document's schema (which cannot run Python).
_SAFE_URL_PATTERN = r"^(https://[^/:]+|http://(localhost|127\.[0-9.]+|\[::1\]))(:[0-9]+)?(/.*)?$"


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


def _registered(name: str) -> str:
    if name not in names():
        raise ValueError(f"unknown provider {name!r}; one of {', '.join(names())}")
    return name


BaseUrl = Annotated[
    str,
    AfterValidator(safe_base_url),
    WithJsonSchema({"type": "string", "pattern": _SAFE_URL_PATTERN}),
]
ProviderName = Annotated[str, AfterValidator(_registered), WithJsonSchema({"type": "string"})]


class Route(Overrides):
    """Where a model goes, and how it is asked for there."""

    provider: ProviderName = "openai"
    # The route's name among its model's routes (its provider's name, by default).
    name: RouteName | None = None
    base_url: BaseUrl | None = None
    upstream_model: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    api_key_parameter: ParameterName | None = None
    # The provider's model family whose capabilities apply (by default, found from the model id).
    profile: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    # Where the provider publishes the keys its callbacks are signed with (the provider's, by default).
    webhook_keys_url: BaseUrl | None = None
    # Where a regional provider runs the model (the provider's default region, by default): its calls
    # name it, and so does the host of its default base URL.
    region: RegionName | None = None
    # USD per second for a size, where it differs from the model's `price_per_second`.
    prices_by_size: dict[SizeValue, Price] = Field(default_factory=dict)
    # How long a job may run on this route once accepted before the model's next route takes it over
    # (none: as long as the job may run at all).
    max_seconds: Annotated[int, Field(ge=10, le=86_400)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_url(cls, value: Any) -> Any:
        """A bare URL is an OpenAI-compatible route (the earlier form of the document)."""
        return {"base_url": value} if isinstance(value, str) else value


RouteList = Annotated[list[Route], Field(min_length=1, max_length=MAX_ROUTES_PER_MODEL)]


class RoutesDocument(RootModel[dict[Annotated[str, Field(min_length=1, max_length=200)], Route | RouteList]]):
    """The routes document: model name -> its route, or its routes in the order they are tried."""

    def routes(self) -> dict[str, list[Route]]:
        return {model: value if isinstance(value, list) else [value] for model, value in self.root.items()}


@dataclass(frozen=True)
class Defaults:
    """What a route leaves out: the deployment's OpenAI-compatible server and key parameter, and where
    the routes' own key parameters must live."""

    base_url: str | None
    api_key_parameter: str
    keys_path: str


@dataclass(frozen=True)
class Entry:
    """One model of the catalog."""

    model: str
    # The route's name among the model's routes.
    route: str
    provider: str
    base_url: str
    upstream_model: str
    api_key_parameter: str
    family: str
    capabilities: Capabilities
    # USD per second: "*" for any size, and a row per size where it differs.
    prices: dict[str, Decimal]
    webhook_keys_url: str | None = None
    region: str | None = None
    max_seconds: int | None = None


@dataclass(frozen=True)
class Catalog:
    # Every model's routes, in the order they are tried.
    routes_of: dict[str, tuple[Entry, ...]]
    _views: dict[str, Catalog] = field(default_factory=dict, compare=False, repr=False)

    @property
    def entries(self) -> dict[str, Entry]:
        """Every model's first route."""
        return {model: routes[0] for model, routes in self.routes_of.items()}

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(sorted(self.routes_of))

    def routes(self, model: str) -> tuple[Entry, ...]:
        """A model's routes in order (none for a model not in the catalog); a dated snapshot's are its
        base model's."""
        return self.routes_of.get(model) or self.routes_of.get(base_model(model)) or ()

    def entry(self, model: str, route: str | None = None) -> Entry | None:
        """A model's route named `route` (its first, for None)."""
        routes = self.routes(model)
        if route is None:
            return routes[0] if routes else None
        return next((entry for entry in routes if entry.route == route), None)

    def route(self, model: str) -> Entry:
        found = self.entry(model)
        if found is None:
            raise KeyError(model)
        return found

    def via(self, route: str) -> Catalog:
        """The catalog as a call on `route` sees it: each model that has a route of that name takes it
        first."""
        view = self._views.get(route)
        if view is None:
            view = Catalog({model: _first(route, routes) for model, routes in self.routes_of.items()})
            self._views[route] = view
        return view


def _first(route: str, routes: tuple[Entry, ...]) -> tuple[Entry, ...]:
    return tuple(sorted(routes, key=lambda entry: entry.route != route))


def build_catalog(document: Any, defaults: Defaults) -> Catalog:
    """Every accepted model with its routes and capabilities; raises ValueError naming what is wrong."""
    routes = RoutesDocument.model_validate(document).routes()
    if not routes and defaults.base_url is not None:
        routes = {model: [Route()] for model in DEFAULT_MODELS}
    return Catalog({model: _entries(model, listed, defaults) for model, listed in routes.items()})


def _entries(model: str, routes: list[Route], defaults: Defaults) -> tuple[Entry, ...]:
    entries = tuple(_entry(model, route, defaults) for route in routes)
    names = [entry.route for entry in entries]
    if len(set(names)) != len(names):
        raise ValueError(
            f"model {model!r}: its routes' names repeat ({', '.join(names)}); give each route its own 'name'"
        )
    return entries


def _entry(model: str, route: Route, defaults: Defaults) -> Entry:
    plugin = provider(route.provider)
    upstream_model = route.upstream_model or model
    family = route.profile or plugin.family_of(upstream_model)
    if family is None or family not in plugin.profiles:
        raise ValueError(
            f"route {model!r}: no {plugin.name} profile for {upstream_model!r}; name one with 'profile' "
            f"({', '.join(sorted(plugin.profiles))})"
        )
    region = _region(model, route, plugin)
    base_url = route.base_url or _default_base_url(plugin, region)
    if base_url is None and plugin.takes_upstream_base_url:
        base_url = defaults.base_url
    if base_url is None:
        raise ValueError(f"route {model!r}: name its base_url (this deployment has no UpstreamBaseUrl)")
    parameter = route.api_key_parameter or defaults.api_key_parameter
    if parameter != defaults.api_key_parameter and not parameter.startswith(defaults.keys_path):
        raise ValueError(
            f"route {model!r}: api_key_parameter {parameter} is neither UpstreamApiKeyParameter nor "
            f"under UpstreamKeysPath ({defaults.keys_path})"
        )
    overrides = route.model_dump(include=set(Overrides.model_fields), exclude_none=True)
    capabilities = plugin.profiles[family].model_copy(update=overrides)
    callbacks = plugin.callbacks
    return Entry(
        model=model,
        route=route.name or plugin.name,
        provider=plugin.name,
        base_url=base_url,
        upstream_model=upstream_model,
        api_key_parameter=parameter,
        family=family,
        capabilities=capabilities,
        prices={"*": capabilities.price_per_second}
        | _size_prices(plugin, family, route)
        | dict(route.prices_by_size),
        webhook_keys_url=route.webhook_keys_url or (callbacks.keys_url if callbacks else None),
        region=region,
        max_seconds=route.max_seconds,
    )


def _region(model: str, route: Route, plugin: Provider) -> str | None:
    """The route's region, or its provider's; a route may name one only for a regional provider."""
    if route.region is not None and plugin.default_region is None:
        raise ValueError(f"route {model!r}: {plugin.name} takes no region")
    return route.region or plugin.default_region


def _default_base_url(plugin: Provider, region: str | None) -> str | None:
    """The provider's own API, in the route's region for a regional one."""
    if plugin.default_base_url is None or region is None:
        return plugin.default_base_url
    return plugin.default_base_url.format(region=region)


def _size_prices(plugin: Provider, family: str, route: Route) -> dict[str, Decimal]:
    """The provider's own prices of the family's sizes, unless the route prices every size itself."""
    if route.price_per_second is not None:
        return {}
    return {size: Decimal(price) for size, price in plugin.prices_by_size.get(family, {}).items()}
