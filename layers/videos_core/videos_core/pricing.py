"""Estimated cost of a video: price per second by model (and size, where it differs).

The catalog gives each model its price: its provider's list price per second, or its route's
`price_per_second`, with a row per size from the route's `prices_by_size`.
"""

from __future__ import annotations

from decimal import Decimal

# model -> {size or "*": USD per second}
PriceTable = dict[str, dict[str, Decimal]]


def price_per_second(prices: PriceTable, model: str, size: str) -> Decimal:
    """The size's own row, else the model's "*" row; settings check every model has one of them."""
    rows = prices[model]
    return rows[size] if size in rows else rows["*"]


def estimate_cost(prices: PriceTable, model: str, size: str, seconds: int) -> Decimal:
    return (price_per_second(prices, model, size) * seconds).quantize(Decimal("0.0001"))
