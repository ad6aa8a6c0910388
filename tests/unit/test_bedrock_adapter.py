"""The Bedrock adapter's translations: a size into Luma Ray 2's aspect ratio and resolution, a route's
region, the idempotency token, and botocore's errors into the contract's."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from videos_core.errors import InvalidVideoDuration, InvalidVideoSize, UpstreamRateLimited
from videos_core.ports import UpstreamNotFoundError
from videos_core.providers.bedrock import PROFILES
from videos_core.providers.bedrock.adapter import _error, ray2_input, region_of, request_token


@pytest.mark.parametrize("size", PROFILES["luma.ray-v2"].sizes)
def test_every_size_of_the_profile_is_one_luma_ray_2_takes(size: str) -> None:
    taken = ray2_input("luma-ray-2", "A heron", "9", size)
    assert taken["aspect_ratio"] in ("1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21")
    assert taken["resolution"] == f"{min(int(side) for side in size.split('x'))}p"
    assert (taken["duration"], taken["prompt"], taken["loop"]) == ("9s", "A heron", False)


def test_the_region_is_bedrocks_own_endpoints_and_none_elsewhere() -> None:
    assert region_of("https://bedrock-runtime.us-west-2.amazonaws.com") == "us-west-2"
    assert region_of("https://bedrock-runtime-fips.us-east-1.amazonaws.com") == "us-east-1"
    assert region_of("http://127.0.0.1:4010/bedrock") is None


def test_the_request_token_is_one_bedrock_takes_and_the_same_for_the_same_key() -> None:
    token = request_token("video_0123abc")
    assert token is not None
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*", token)
    assert request_token("video_0123abc") == token != request_token("video_0123abd")
    assert request_token(None) is None


def _client_error(code: str, status: int, message: str) -> ClientError:
    response = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "StartAsyncInvoke")  # type: ignore[arg-type]


def test_bedrocks_errors_become_the_contracts() -> None:
    duration = _error(_client_error("ValidationException", 400, "duration must be one of 5s, 9s"))
    ratio = _error(_client_error("ValidationException", 400, "aspect_ratio 2:1 is not supported"))
    throttled = _error(_client_error("ThrottlingException", 400, "Too many requests"))
    quota = _error(_client_error("ServiceQuotaExceededException", 400, "Quota exceeded"))
    missing = _error(_client_error("ResourceNotFoundException", 404, "No such invocation"))

    assert isinstance(duration, InvalidVideoDuration)
    assert isinstance(ratio, InvalidVideoSize)
    assert isinstance(throttled, UpstreamRateLimited)
    assert isinstance(quota, UpstreamRateLimited)
    assert isinstance(missing, UpstreamNotFoundError)
