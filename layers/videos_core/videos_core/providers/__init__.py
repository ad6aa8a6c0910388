"""The registry of providers: every package here that declares a `PROVIDER` is one, found at first use.
Every list of providers (the routes document's schema, the adapters, the callbacks, the catalog, the
offline engine's paths) is derived from this registry; adding a provider is adding its package."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from videos_core.providers.plugin import Provider


@cache
def registry() -> dict[str, Provider]:
    """Every provider, by name."""
    found: dict[str, Provider] = {}
    for module in pkgutil.iter_modules(__path__):
        if module.ispkg:
            provider = importlib.import_module(f"{__name__}.{module.name}").PROVIDER
            if not isinstance(provider, Provider) or provider.name != module.name:
                raise TypeError(
                    f"{__name__}.{module.name}.PROVIDER must be the Provider named {module.name!r}"
                )
            found[provider.name] = provider
    return found


def names() -> tuple[str, ...]:
    return tuple(sorted(registry()))


def provider(name: str) -> Provider:
    return registry()[name]
