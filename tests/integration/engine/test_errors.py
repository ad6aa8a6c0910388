"""Bad requests get OpenAI's error shape with the right status, through the SDK and raw HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from tests.support import HTTP, free_port, running


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({}, "prompt", "missing_required_parameter"),
        ({"prompt": ""}, "prompt", "invalid_value"),
        ({"prompt": "   "}, "prompt", "invalid_value"),
        ({"prompt": 42}, "prompt", "invalid_type"),
        ({"prompt": "x", "seconds": 4}, "seconds", "invalid_type"),
        ({"prompt": "x", "seconds": "6"}, "seconds", "invalid_value"),
        ({"prompt": "x", "size": "640x480"}, "size", "invalid_value"),
        ({"prompt": "x", "colour": "red"}, "colour", "unknown_parameter"),
    ],
)
def test_invalid_json_create_is_a_400_naming_the_parameter(
    http: httpx.Client, body: dict[str, Any], param: str, code: str
) -> None:
    response = http.post("/v1/videos", json=body)

    assert response.status_code == 400
    error = error_of(response)
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"prompt"'])
def test_a_body_that_is_not_a_json_object_is_a_400(http: httpx.Client, raw: bytes) -> None:
    response = http.post("/v1/videos", content=raw, headers={"content-type": "application/json"})

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_json"


def test_an_unknown_model_is_a_404(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.videos.create(prompt="x", model="sora-3")

    assert (caught.value.code, caught.value.param) == ("model_not_found", "model")


def test_invalid_multipart_create_through_the_sdk_is_a_400(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.videos.create(prompt="x", seconds="5")  # type: ignore[arg-type]

    assert caught.value.param == "seconds"


def test_an_input_reference_that_is_not_an_image_is_a_400(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.videos.create(prompt="x", input_reference=("ref.png", b"GIF89a not really", "image/png"))

    assert caught.value.param == "input_reference"


def test_an_input_reference_url_is_never_fetched(http: httpx.Client) -> None:
    response = http.post(
        "/v1/videos", data={"prompt": "x", "input_reference[image_url]": "http://169.254.169.254/latest"}
    )

    assert response.status_code == 400
    assert error_of(response)["param"] == "input_reference"


def test_an_unknown_video_is_a_404(client: OpenAI, http: httpx.Client) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.videos.retrieve("video_doesnotexist")
    assert caught.value.code == "video_not_found"

    for method, path in [
        ("DELETE", "/v1/videos/video_nope"),
        ("GET", "/v1/videos/video_nope/content"),
        ("POST", "/v1/videos/video_nope/remix"),
    ]:
        response = http.request(method, path, json={"prompt": "x"} if method == "POST" else None)
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "video_not_found"


def test_content_of_an_unfinished_video_is_a_409(client: OpenAI) -> None:
    video = client.videos.create(prompt="not yet")

    with pytest.raises(openai.ConflictError) as caught:
        client.videos.download_content(video.id)

    assert caught.value.code == "video_not_ready"


def test_an_unknown_variant_is_a_400(client: OpenAI, http: httpx.Client) -> None:
    video = client.videos.create(prompt="variants")

    response = http.get(f"/v1/videos/{video.id}/content", params={"variant": "poster"})

    assert response.status_code == 400
    assert error_of(response)["param"] == "variant"


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ({"limit": "-1"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"order": "up"}, "order"),
        ({"after": "video_unknown"}, "after"),
    ],
)
def test_bad_list_queries_are_400s(http: httpx.Client, query: dict[str, str], param: str) -> None:
    response = http.get("/v1/videos", params=query)

    assert response.status_code == 400
    assert error_of(response)["param"] == param


def test_a_missing_key_is_a_401(engine_url: str) -> None:
    for headers in [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}]:
        response = HTTP.get(f"{engine_url}/v1/videos", headers=headers)
        assert response.status_code == 401
        assert error_of(response)["code"] == "missing_api_key"


def test_unknown_routes_and_methods_answer_in_the_error_shape(http: httpx.Client) -> None:
    assert http.get("/v1/nothing").status_code == 404
    error_of(http.get("/v1/nothing"))
    response = http.put("/v1/videos")
    assert response.status_code == 405
    error_of(response)


@pytest.fixture(scope="module")
def keyed_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    data: Path = tmp_path_factory.mktemp("keyed-engine")
    url = f"http://127.0.0.1:{port}"
    with running(
        ["engine", "--port", str(port), "--api-key", "sk-right", "--data-dir", str(data)],
        f"{url}/_stats",
        data / "engine.log",
    ):
        yield url


def test_an_engine_started_with_a_key_accepts_only_that_key(keyed_engine: str) -> None:
    with (
        OpenAI(base_url=f"{keyed_engine}/v1", api_key="sk-wrong", max_retries=0) as wrong,
        OpenAI(base_url=f"{keyed_engine}/v1", api_key="sk-right", max_retries=0) as right,
    ):
        with pytest.raises(openai.AuthenticationError) as caught:
            wrong.videos.list()
        assert caught.value.code == "invalid_api_key"
        assert right.videos.list().data == []
