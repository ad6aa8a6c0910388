"""Seedance's pictures and prices: each size of a family is the picture of one ratio and resolution in
ModelArk's tables, a second of it costs its tokens at the family's price per million, and ModelArk's
error bodies name the contract's parameter."""

from __future__ import annotations

from decimal import Decimal

import pytest

from videos_core.providers.seedance import FAMILIES, PROVIDER, RATIOS
from videos_core.providers.seedance.adapter import modelark_error


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_offered_size_is_one_picture_of_a_ratio_and_resolution_the_family_makes(name: str) -> None:
    sizes = PROVIDER.profiles[name].sizes
    pictures = [FAMILIES[name].picture(size) for size in sizes]

    assert all(picture is not None for picture in pictures), name
    assert {picture[0] for picture in pictures if picture} == set(RATIOS)
    assert sizes[0] in ("1248x704", "1280x720")


def test_the_pictures_are_each_generations_own() -> None:
    assert FAMILIES["seedance-1-0-pro"].picture("1248x704") == ("16:9", "720p")
    assert FAMILIES["seedance-1-0-pro"].picture("1280x720") is None
    assert FAMILIES["seedance-1-5-pro"].picture("1280x720") == ("16:9", "720p")
    assert FAMILIES["dreamina-seedance-2-0"].picture("1470x630") == ("21:9", "720p")
    assert FAMILIES["dreamina-seedance-2-0-fast"].picture("1920x1080") is None


def test_a_seconds_price_is_its_tokens_at_the_price_per_million() -> None:
    # 1248 * 704 * 24 / 1024 = 20592 tokens a second, at $2.50 a million.
    assert PROVIDER.profiles["seedance-1-0-pro"].price_per_second == Decimal("0.05148")
    # BytePlus's own example: 5 seconds of Seedance 2.0 at 720p, 16:9, about $0.76.
    assert PROVIDER.profiles["dreamina-seedance-2-0"].price_per_second * 5 == Decimal("0.756")
    # 1080p costs $7.70 a million on Seedance 2.0: 1920 * 1080 * 24 / 1024 = 48600 tokens a second.
    assert PROVIDER.prices_by_size["dreamina-seedance-2-0"]["1920x1080"] == "0.37422"
    assert "1280x720" not in PROVIDER.prices_by_size["dreamina-seedance-2-0"]


@pytest.mark.parametrize(
    ("error", "param"),
    [
        ({"code": "InvalidParameter", "param": "duration"}, "seconds"),
        ({"code": "InvalidParameter", "param": "ratio"}, "size"),
        ({"code": "InvalidParameter", "param": "content.image_url.url"}, "input_reference"),
        ({"code": "InputTextSensitiveContentDetected", "param": ""}, "prompt"),
        ({"code": "InputImageSensitiveContentDetected", "param": ""}, "input_reference"),
        ({"code": "InvalidParameter", "param": "watermark"}, None),
    ],
)
def test_a_400_names_the_contracts_parameter(error: dict[str, str], param: str | None) -> None:
    info, named = modelark_error(error | {"message": "Refused.", "type": "BadRequest"}, 400)

    assert (info.code, info.type, named) == (error["code"], "BadRequest", param)


@pytest.mark.parametrize(
    ("family", "tables"),
    [("seedance-1-0-pro", "PICTURES_1_0"), ("seedance-1-5-pro", "PICTURES_1_5")],
)
def test_the_engines_tables_name_the_same_pictures(family: str, tables: str) -> None:
    """The engine's dialect writes ModelArk's tables from the documentation on its own (it imports
    nothing of the service); the two copies must agree picture for picture."""
    from local.engine.dialects import seedance as dialect

    for resolution, pictures in getattr(dialect, tables).items():
        for ratio, size in zip(dialect.RATIOS, pictures, strict=True):
            assert FAMILIES[family].picture(size) == (ratio, resolution), (size, ratio, resolution)
