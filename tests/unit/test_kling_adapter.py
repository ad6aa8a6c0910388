"""The Kling adapter's translations: a route's key into the JWT Kling's API takes (read back by a JWT
library), each size of its profiles into Kling's aspect ratio and mode, and Kling's error codes, with
their HTTP statuses, into the contract's errors."""

from __future__ import annotations

import json

import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import OctKey
from joserfc.jws import extract_compact

from tests.support import SETTINGS_ENV
from videos_core.adapters.upstream_calls import status_error
from videos_core.catalog import Defaults, build_catalog
from videos_core.errors import (
    InvalidRequest,
    InvalidVideoDuration,
    InvalidVideoPrompt,
    UpstreamRateLimited,
    UpstreamRetryableError,
    VideoGenerationFailed,
)
from videos_core.ports import UpstreamCreate, UpstreamNotFoundError
from videos_core.providers.kling import PROFILES
from videos_core.providers.kling.adapter import KlingUpstream, _task_body
from videos_core.providers.kling.tokens import api_token
from videos_core.settings import load_settings

NOW = 1_790_000_000
SECRET = "sk-unit-test-0123456789abcdef"
DEFAULTS = Defaults(None, "/videos-api/upstream-api-key", "/videos-api/upstream-keys/")
CATALOG = build_catalog(
    {family: {"provider": "kling", "upstream_model": family} for family in PROFILES}, DEFAULTS
)


def test_a_token_is_an_hs256_jwt_of_the_access_key_signed_with_the_secret_key() -> None:
    token = api_token(f"ak-unit-test:{SECRET}", NOW)

    read = jwt.decode(token, OctKey.import_key(SECRET), algorithms=["HS256"])

    assert read.header == {"alg": "HS256", "typ": "JWT"}
    assert read.claims == {"iss": "ak-unit-test", "exp": NOW + 1800, "nbf": NOW - 5}
    with pytest.raises(BadSignatureError):
        jwt.decode(token, OctKey.import_key("sk-another-secret-0123456789"), algorithms=["HS256"])


def test_a_key_without_its_secret_still_names_its_access_key() -> None:
    token = api_token("ak-alone", NOW)

    assert json.loads(extract_compact(token.encode()).payload)["iss"] == "ak-alone"
    assert token != api_token(f"ak-alone:{SECRET}", NOW)


@pytest.mark.parametrize(("family", "size"), [(f, s) for f, p in PROFILES.items() for s in p.sizes])
def test_every_size_of_the_profiles_is_an_aspect_ratio_and_mode_kling_takes(family: str, size: str) -> None:
    body = _task_body(CATALOG.route(family), UpstreamCreate("A heron", family, "5", size))

    assert body["aspect_ratio"] in ("16:9", "9:16", "1:1")
    assert (body["model_name"], body["prompt"], body["duration"]) == (family, "A heron", "5")
    if family == "kling-v2-1-master":
        assert "mode" not in body
    else:
        assert body["mode"] == ("std" if min(int(side) for side in size.split("x")) == 720 else "pro")
    assert body.get("sound") == ("on" if family == "kling-v2-6" else None)


@pytest.mark.parametrize(
    ("status", "code", "message", "error"),
    [
        (401, 1004, "Authorization has expired", VideoGenerationFailed),
        (403, 1103, "No permission for the model", VideoGenerationFailed),
        (429, 1102, "Resource pack depleted or expired", UpstreamRateLimited),
        (429, 1302, "Requests are too frequent", UpstreamRateLimited),
        (400, 1201, "duration must be one of 5, 10", InvalidVideoDuration),
        (400, 1201, "callback_url must be an http(s) URL", InvalidRequest),
        (400, 1301, "Trigger the content security policy of the platform", InvalidVideoPrompt),
        (404, 1203, "Task does not exist", UpstreamNotFoundError),
        (500, 5000, "Internal server error", UpstreamRetryableError),
        (504, 5002, "Server timeout", UpstreamRetryableError),
    ],
)
def test_klings_errors_are_the_contracts(
    status: int, code: int, message: str, error: type[Exception]
) -> None:
    upstream = KlingUpstream(load_settings(SETTINGS_ENV), lambda: CATALOG, lambda _: f"ak:{SECRET}")
    body = {"code": code, "message": message, "request_id": "3f0c0e3a"}

    info, param = upstream.error_info(body, status)

    assert isinstance(status_error(status, info, param, {}), error)
    assert (info.code, info.message) == (str(code), message)
