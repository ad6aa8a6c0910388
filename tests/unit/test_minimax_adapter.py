"""The MiniMax adapter's translation of MiniMax's `base_resp` codes (on an HTTP 200 as on an error)
into the contract's errors: the key refused is this service's credentials, a rate limit and a server's
failure are worth another try, content moderation is the prompt refused, an invalid parameter names it."""

from __future__ import annotations

import pytest

from videos_core.errors import (
    ApiError,
    InvalidRequest,
    InvalidVideoDuration,
    InvalidVideoPrompt,
    InvalidVideoSize,
    UpstreamRateLimited,
    UpstreamRetryableError,
    VideoGenerationFailed,
    VideoModelNotAvailable,
)
from videos_core.providers.minimax.adapter import refusal


@pytest.mark.parametrize(
    ("code", "said", "kind", "param"),
    [
        (1000, "unknown error", UpstreamRetryableError, None),
        (1001, "request timeout", UpstreamRetryableError, None),
        (1013, "internal service error", UpstreamRetryableError, None),
        (1033, "system error", UpstreamRetryableError, None),
        (1002, "rate limit", UpstreamRateLimited, None),
        (2045, "rate growth limit", UpstreamRateLimited, None),
        (1004, "not authorized", VideoGenerationFailed, None),
        (2049, "invalid api key", VideoGenerationFailed, None),
        (1008, "insufficient balance", VideoGenerationFailed, None),
        (1026, "input new_sensitive", InvalidVideoPrompt, "prompt"),
        (1027, "output new_sensitive", InvalidVideoPrompt, "prompt"),
        (1042, "invisible character ratio limit", InvalidRequest, None),
        (2013, "invalid params, duration 8 is not supported: use 6 or 10", InvalidVideoDuration, "seconds"),
        (2013, "invalid params, resolution 4K is not supported", InvalidVideoSize, "size"),
        (2013, "invalid params, first_frame_image is required", InvalidRequest, "input_reference"),
        (2013, "invalid params, model MiniMax-Hailuo-9 is not supported", VideoModelNotAvailable, "model"),
    ],
)
def test_each_minimax_code_is_the_contracts_error(
    code: int, said: str, kind: type[ApiError], param: str | None
) -> None:
    error = refusal({"status_code": code, "status_msg": said}, 200, {})

    assert type(error) is kind
    assert isinstance(error, ApiError)
    assert error.param == param
    assert error.upstream is not None
    assert (error.upstream.code, error.upstream.message) == (str(code), f"{said} ({code})")


def test_a_refused_key_is_this_services_credentials_and_a_rate_limit_keeps_its_retry_after() -> None:
    refused = refusal({"status_code": 1004, "status_msg": "login fail"}, 200, {})
    limited = refusal({"status_code": 1002, "status_msg": "rate limit"}, 429, {"retry-after": "2"})

    assert "credentials" in str(refused)
    assert isinstance(limited, UpstreamRateLimited)
    assert limited.retry_after == 2


def test_an_unknown_code_is_taken_by_the_http_status_it_came_with() -> None:
    on_a_200 = refusal({"status_code": 9999, "status_msg": "something new"}, 200, {})
    on_a_503 = refusal({"status_code": 9999, "status_msg": "something new"}, 503, {})

    assert type(on_a_200) is VideoGenerationFailed
    assert type(on_a_503) is UpstreamRetryableError
