"""Estimated cost of a video: price per second by model (and size, where it differs).

The catalog gives each model its price (the providers' figures, the seed's for OpenAI's models);
PRICE_OVERRIDES may replace a model's or add a row per size.
"""

from __future__ import annotations

from decimal import Decimal

# model -> {size or "*": USD per second}
PriceTable = dict[str, dict[str, Decimal]]


def merge_prices(listed: PriceTable, overrides: PriceTable) -> PriceTable:
    prices = {model: dict(rows) for model, rows in listed.items()}
    for model, rows in overrides.items():
        prices.setdefault(model, {}).update(rows)
    return prices


def price_per_second(prices: PriceTable, model: str, size: str) -> Decimal:
    """The size's own row, else the model's "*" row; settings check every model has one of them."""
    rows = prices[model]
    return rows[size] if size in rows else rows["*"]


def estimate_cost(prices: PriceTable, model: str, size: str, seconds: int) -> Decimal:
    return (price_per_second(prices, model, size) * seconds).quantize(Decimal("0.0001"))
