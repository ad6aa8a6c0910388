"""GET /v1/videos/models: the catalog as clients see it."""

from __future__ import annotations

from typing import get_args

from videos_core.catalog import Catalog
from videos_core.models.api import ExtensionSeconds, ModelCard, ModelList, RouteCard


def list_models(catalog: Catalog) -> ModelList:
    cards = []
    for model, routes in sorted(catalog.routes_of.items()):
        entry = routes[0]
        capabilities = entry.capabilities
        prices = entry.prices
        cards.append(
            ModelCard(
                id=model,
                provider=entry.provider,
                seconds=list(capabilities.seconds),
                sizes=list(capabilities.sizes),
                default_seconds=capabilities.seconds[0],
                default_size=capabilities.sizes[0],
                max_prompt_chars=capabilities.max_prompt_chars,
                image_reference=capabilities.image_reference,
                audio=capabilities.audio,
                remix=capabilities.remix,
                edits=capabilities.edits,
                characters=capabilities.characters,
                # Extensions go with edits: one capability (capabilities.Capabilities.allows).
                extension_seconds=list(get_args(ExtensionSeconds)) if capabilities.edits else [],
                price_per_second=str(prices["*"]),
                prices_by_size={size: str(usd) for size, usd in prices.items() if size != "*"},
                routes=[
                    RouteCard(
                        name=route.route,
                        provider=route.provider,
                        seconds=list(route.capabilities.seconds),
                        sizes=list(route.capabilities.sizes),
                        price_per_second=str(route.prices["*"]),
                    )
                    for route in routes
                ],
            )
        )
    return ModelList(data=cards)
