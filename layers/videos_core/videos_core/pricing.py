"""Estimated cost of a video: price per second by route (and size, where it differs).

The catalog gives each model its price: its provider's list price per second, or its route's
`price_per_second`, with a row per size from the route's `prices_by_size`.
"""

from __future__ import annotations

from decimal import Decimal

# A route's prices: {size or "*": USD per second}
Prices = dict[str, Decimal]


def price_per_second(prices: Prices, size: str) -> Decimal:
    """The size's own row, else the "*" row every route has."""
    return prices[size] if size in prices else prices["*"]


def estimate_cost(prices: Prices, size: str, seconds: int) -> Decimal:
    return (price_per_second(prices, size) * seconds).quantize(Decimal("0.0001"))
