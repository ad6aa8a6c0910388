"""A picture size (`WIDTHxHEIGHT`) as the providers that ask for an aspect ratio and a resolution name
it: 1280x720 is 16:9 at 720p, 1080x1920 is 9:16 at 1080p, 1366x768 is 16:9 at 768p.

Most of them name three ratios (`COMMON_RATIOS`); some name the photographic ones too (`PHOTO_RATIOS`:
960x720 is 4:3 at 720p, 720x480 is 3:2 at 480p) or the wide ones (`WIDE_RATIOS`: 1680x720 is 21:9
at 720p), and a provider says which it takes."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from videos_core.errors import InvalidVideoSize

# The aspect ratios providers name, and how far off a size may be and still be one (1366x768 is
# 0.05% wider than 16:9, 848x480 0.6% narrower).
_RATIOS = {
    "16:9": Fraction(16, 9),
    "9:16": Fraction(9, 16),
    "1:1": Fraction(1),
    "4:3": Fraction(4, 3),
    "3:4": Fraction(3, 4),
    "3:2": Fraction(3, 2),
    "2:3": Fraction(2, 3),
    "21:9": Fraction(21, 9),
    "9:21": Fraction(9, 21),
}
_TOLERANCE = Fraction(1, 100)
COMMON_RATIOS = ("16:9", "9:16", "1:1")
PHOTO_RATIOS = ("4:3", "3:4", "3:2", "2:3")
WIDE_RATIOS = ("21:9", "9:21")


def dimensions(size: str) -> tuple[int, int]:
    width, _, height = size.partition("x")
    return int(width), int(height)


def aspect_and_resolution(size: str, ratios: Sequence[str] = COMMON_RATIOS) -> tuple[str, str] | None:
    """The size's aspect ratio (one of `ratios`) and resolution (its shorter side), or None when it
    has none of them."""
    width, height = dimensions(size)
    ratio = Fraction(width, height)
    for name in ratios:
        named_ratio = _RATIOS[name]
        if abs(ratio - named_ratio) <= named_ratio * _TOLERANCE:
            return name, f"{min(width, height)}p"
    return None


def named(size: str, model: str, ratios: Sequence[str] = COMMON_RATIOS) -> tuple[str, str]:
    """The size's aspect ratio and resolution, for a provider that takes nothing else; a 400 if none."""
    found = aspect_and_resolution(size, ratios)
    if found is None:
        raise InvalidVideoSize(
            f"Model '{model}' takes sizes of aspect ratio {', '.join(ratios)}, not '{size}'.", param="size"
        )
    return found
