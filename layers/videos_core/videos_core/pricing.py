"""Estimated cost of a video: price per second by model (and size, where it differs).

The seed's figures are the defaults; configuration may override or add rows, and the priced
models are the ones the service accepts.
"""

from __future__ import annotations

from decimal import Decimal

# model -> {size or "*": USD per second}
DEFAULT_PRICES: dict[str, dict[str, Decimal]] = {
    "sora-2": {"*": Decimal("0.125")},
    "sora-2-pro": {"*": Decimal("0.40")},
}

PriceTable = dict[str, dict[str, Decimal]]


def merge_prices(overrides: PriceTable) -> PriceTable:
    prices = {model: dict(rows) for model, rows in DEFAULT_PRICES.items()}
    for model, rows in overrides.items():
        prices.setdefault(model, {}).update(rows)
    return prices


def price_per_second(prices: PriceTable, model: str, size: str) -> Decimal:
    """The size's own row, else the model's "*" row; settings check every model has one of them."""
    rows = prices[model]
    return rows[size] if size in rows else rows["*"]


def estimate_cost(prices: PriceTable, model: str, size: str, seconds: int) -> Decimal:
    return (price_per_second(prices, model, size) * seconds).quantize(Decimal("0.0001"))
