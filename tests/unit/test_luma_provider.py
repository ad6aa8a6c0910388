"""The Luma plug-in's translations: each size of its profiles into Luma's aspect ratio and resolution
(2160p as Luma's "4k"), its prices from Luma's rate per million pixels against its list prices per
clip, and Luma's `{"detail"}` errors into the contract's."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support import SETTINGS_ENV
from videos_core.adapters.upstream_calls import status_error
from videos_core.catalog import build_catalog
from videos_core.errors import InvalidVideoDuration, InvalidVideoPrompt, VideoGenerationFailed
from videos_core.ports import UpstreamCreate
from videos_core.providers.luma import PROFILES, PROVIDER
from videos_core.providers.luma.adapter import LumaUpstream, generation_body
from videos_core.settings import load_settings

RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21")


@pytest.mark.parametrize("size", PROFILES["ray-2"].sizes)
def test_every_size_of_the_profiles_is_one_luma_takes(size: str) -> None:
    body = generation_body("ray-2", UpstreamCreate("A heron", "luma-ray-2", "9", size))

    assert body["aspect_ratio"] in RATIOS
    assert body["resolution"] in ("540p", "720p", "1080p", "4k")
    assert (body["model"], body["prompt"], body["duration"]) == ("ray-2", "A heron", "9s")
    assert "callback_url" not in body


def test_2160p_is_lumas_4k_and_a_callback_is_its_callback_url() -> None:
    create = UpstreamCreate("A heron", "luma", "5", "2160x3840", callback_url="https://api.example/cb")

    body = generation_body("ray-flash-2", create)

    assert (body["aspect_ratio"], body["resolution"]) == ("9:16", "4k")
    assert body["callback_url"] == "https://api.example/cb"


@pytest.mark.parametrize(
    ("family", "size", "seconds", "listed"),
    [
        ("ray-2", "960x540", 5, "0.40"),
        ("ray-2", "960x540", 9, "0.72"),
        ("ray-2", "1280x720", 5, "0.71"),
        ("ray-2", "1280x720", 9, "1.27"),
        ("ray-2", "1920x1080", 5, "1.59"),
        ("ray-2", "1920x1080", 9, "2.87"),
        ("ray-2", "3840x2160", 5, "6.37"),
        ("ray-2", "3840x2160", 9, "11.47"),
        ("ray-flash-2", "3840x2160", 5, "2.19"),
        ("ray-flash-2", "3840x2160", 9, "3.94"),
    ],
)
def test_a_clips_price_is_lumas_list_price(family: str, size: str, seconds: int, listed: str) -> None:
    per_second = Decimal(PROVIDER.prices_by_size[family].get(size, PROFILES[family].price_per_second))

    assert (per_second * seconds).quantize(Decimal("0.01")) == Decimal(listed)


def _refusal(status: int, detail: str) -> Exception:
    catalog = build_catalog({}, load_settings(SETTINGS_ENV).catalog_defaults)
    adapter = LumaUpstream(load_settings(SETTINGS_ENV), lambda: catalog, lambda _: "k")
    info, param = adapter.error_info({"detail": detail}, status)
    return status_error(status, info, param, {})


def test_lumas_refusals_become_the_contracts() -> None:
    duration = _refusal(400, "Invalid duration '7s': use one of 5s, 9s")
    prompt = _refusal(400, "Prompt is too long, maximum length is 5000 characters")
    blacklisted = _refusal(400, "Contains blacklisted words")
    key = _refusal(401, "Invalid API key is provided")

    assert isinstance(duration, InvalidVideoDuration)
    assert duration.param == "seconds"
    assert isinstance(prompt, InvalidVideoPrompt)
    assert prompt.param == "prompt"
    assert isinstance(blacklisted, InvalidVideoPrompt)
    assert blacklisted.upstream is not None
    assert blacklisted.upstream.code == "moderation_blocked"
    assert isinstance(key, VideoGenerationFailed)
