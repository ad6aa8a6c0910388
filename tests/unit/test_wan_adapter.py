"""The Wan adapter's translations: a size into DashScope's `size` (`1280*720`) or, from an image, the
family's image-to-video model at the size's resolution tier; DashScope's errors into the contract's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import SETTINGS_ENV
from videos_core.adapters.upstream_calls import status_error
from videos_core.catalog import Catalog, Entry
from videos_core.errors import (
    InvalidRequest,
    InvalidVideoPrompt,
    InvalidVideoSize,
    UpstreamRateLimited,
    UpstreamRetryableError,
    VideoGenerationFailed,
    VideoModelNotAvailable,
)
from videos_core.ports import Reference, UpstreamCreate
from videos_core.providers.wan import IMAGE_MODELS, PROFILES, TIERS
from videos_core.providers.wan.adapter import WanUpstream, create_body
from videos_core.settings import load_settings

FAMILY_SIZES = [(family, size) for family, capabilities in PROFILES.items() for size in capabilities.sizes]
RED = Reference("red.png", b"\x89PNG", "image/png")


def entry_of(family: str) -> Entry:
    capabilities = PROFILES[family]
    prices = {"*": capabilities.price_per_second}
    return Entry(
        "wan", "wan", "wan", "https://dashscope-intl.aliyuncs.com", family, "/k", family, capabilities, prices
    )


@pytest.mark.parametrize(("family", "size"), FAMILY_SIZES)
def test_every_size_of_a_profile_is_one_of_its_tiers_pictures(family: str, size: str) -> None:
    text = create_body(entry_of(family), UpstreamCreate("A heron", "wan", "5", size))
    image = create_body(entry_of(family), UpstreamCreate("A heron", "wan", "5", size, reference=RED))

    assert text["model"] == family
    assert text["parameters"] == {"size": size.replace("x", "*"), "duration": 5}
    assert image["model"] == IMAGE_MODELS[family]
    assert size in TIERS[image["parameters"]["resolution"]]
    assert image["input"]["img_url"] == "data:image/png;base64,iVBORw=="


def test_a_size_of_no_tier_is_refused_before_any_call() -> None:
    with pytest.raises(InvalidVideoSize):
        create_body(entry_of("wan2.5-t2v-preview"), UpstreamCreate("A heron", "wan", "5", "1366x768"))


def refusal(status: int, body: dict[str, Any]) -> Exception:
    upstream = WanUpstream(load_settings(SETTINGS_ENV), lambda: Catalog({}), lambda _: "sk-test")
    info, param = upstream.error_info(body, status)
    return status_error(status, info, param, {})


def test_dashscopes_errors_become_the_contracts() -> None:
    moderated = refusal(
        400, {"code": "DataInspectionFailed", "message": "Input data may contain inappropriate content."}
    )
    infringing = refusal(
        400,
        {
            "code": "IPInfringementSuspect",
            "message": "Input data is suspected of being involved in IP infringement.",
        },
    )
    size = refusal(400, {"code": "InvalidParameter", "message": "The size is not match xxxxxx"})
    model = refusal(400, {"code": "InvalidParameter", "message": "Model not exist."})
    other = refusal(400, {"code": "InvalidParameter", "message": "Required parameter(s) missing or invalid."})
    key = refusal(401, {"code": "InvalidApiKey", "message": "Invalid API-key provided."})
    throttled = refusal(429, {"code": "Throttling.RateQuota", "message": "Requests rate limit exceeded."})
    failing = refusal(500, {"code": "InternalError", "message": "An internal error has occured."})

    assert isinstance(moderated, InvalidVideoPrompt)
    assert isinstance(infringing, InvalidVideoPrompt)
    assert "(IPInfringementSuspect)" in str(infringing)
    assert isinstance(size, InvalidVideoSize)
    assert isinstance(model, VideoModelNotAvailable)
    assert type(other) is InvalidRequest
    assert isinstance(key, VideoGenerationFailed)
    assert isinstance(throttled, UpstreamRateLimited)
    assert isinstance(failing, UpstreamRetryableError)
    assert failing.upstream is not None
    assert failing.upstream.code == "InternalError"
