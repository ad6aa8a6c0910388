"""A picture size (`WIDTHxHEIGHT`) as the providers that ask for an aspect ratio and a resolution name
it: 1280x720 is 16:9 at 720p, 1080x1920 is 9:16 at 1080p, 1366x768 is 16:9 at 768p."""

from __future__ import annotations

from fractions import Fraction

from videos_core.errors import InvalidVideoSize

# The aspect ratios providers name, and how far off a size may be and still be one (1366x768 is
# 0.05% wider than 16:9).
_RATIOS = {"16:9": Fraction(16, 9), "9:16": Fraction(9, 16), "1:1": Fraction(1)}
_TOLERANCE = Fraction(1, 100)


def dimensions(size: str) -> tuple[int, int]:
    width, _, height = size.partition("x")
    return int(width), int(height)


def aspect_and_resolution(size: str) -> tuple[str, str] | None:
    """The size's aspect ratio and resolution (its shorter side), or None when it has no named ratio."""
    width, height = dimensions(size)
    ratio = Fraction(width, height)
    for name, named in _RATIOS.items():
        if abs(ratio - named) <= named * _TOLERANCE:
            return name, f"{min(width, height)}p"
    return None


def named(size: str, model: str) -> tuple[str, str]:
    """The size's aspect ratio and resolution, for a provider that takes nothing else; a 400 if none."""
    found = aspect_and_resolution(size)
    if found is None:
        raise InvalidVideoSize(
            f"Model '{model}' takes sizes of aspect ratio {', '.join(_RATIOS)}, not '{size}'.", param="size"
        )
    return found
