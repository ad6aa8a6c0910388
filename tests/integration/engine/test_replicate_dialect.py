"""The engine's Replicate dialect driven by Replicate's official client, replicate, pointed at the
engine with `base_url` (the client puts `/v1/...` after it): a prediction walked from starting through
processing (its progress read from the logs) to succeeded, its output downloaded without the token,
Hailuo started from an image, a 422 in Replicate's problem-details shape, `[fail]` and `[moderation]`,
a cancel, unknown ids and models, the token's check, the webhook of an ended prediction, signed with
the account's secret the client reads and validates; then the service's adapter against the dialect."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from replicate.client import Client
from replicate.exceptions import ReplicateError
from replicate.prediction import Prediction
from replicate.webhook import InvalidSignatureError

from tests.integration.engine.test_provider_adapters import ended, routed
from tests.media import png_bytes, probe_mp4
from tests.support import HTTP
from tests.webhook_receiver import WebhookReceiver
from videos_core.errors import InvalidVideoDuration, InvalidVideoSize
from videos_core.ports import Reference, UpstreamCreate

PROMPT = "A paper boat drifting down a rain gutter"
VEO = "google/veo-3.1"


@pytest.fixture
def client(engine_url: str) -> Iterator[Client]:
    # The client builds its httpx client from these and closes nothing itself: the transport is ours.
    with httpx.HTTPTransport() as transport:
        sdk = Client(
            api_token="r8_test",
            base_url=f"{engine_url}/replicate",
            timeout=httpx.Timeout(30),
            transport=transport,
        )
        sdk.poll_interval = 0.05
        yield sdk


def data_uri(image: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(image).decode()


def walked(client: Client, prediction: Prediction) -> list[tuple[str, float | None]]:
    """Each status the prediction read, with the progress the client parsed, until it ended."""
    seen: list[tuple[str, float | None]] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        prediction.reload()
        progress = prediction.progress
        seen.append((prediction.status, progress.percentage if progress else None))
        if prediction.status in ("succeeded", "failed", "canceled"):
            break
        time.sleep(0.05)
    return seen


def test_a_prediction_runs_to_succeeded_and_its_output_downloads_without_the_token(
    client: Client,
) -> None:
    inputs = {"prompt": PROMPT, "duration": 4, "aspect_ratio": "9:16", "resolution": "720p"}
    prediction = client.models.predictions.create(model=VEO, input=inputs)
    assert prediction.status == "starting"

    seen = walked(client, prediction)

    statuses = [status for n, (status, _) in enumerate(seen) if n == 0 or seen[n - 1][0] != status]
    assert statuses[-2:] == ["processing", "succeeded"]
    progress = [percent for status, percent in seen if status == "processing" and percent is not None]
    assert progress
    assert progress == sorted(progress)
    assert all(0 < percent < 100 for percent in progress)
    assert prediction.input == inputs
    assert isinstance(prediction.output, str)
    facts = probe_mp4(HTTP.get(prediction.output, timeout=30).content)  # no token sent
    assert (facts.width, facts.height) == (720, 1280)
    assert facts.duration == pytest.approx(4, abs=0.2)
    forged = HTTP.get(prediction.output[:-4] + ("0000" if not prediction.output.endswith("0000") else "1111"))
    assert forged.status_code == 403


def test_hailuo_starts_from_an_image_in_the_images_shape(client: Client) -> None:
    image = data_uri(png_bytes(400, 400, (20, 20, 220)))
    inputs = {"prompt": "The blue square comes alive", "resolution": "512p", "first_frame_image": image}

    prediction = client.models.predictions.create(model="minimax/hailuo-02", input=inputs)
    prediction.wait()

    assert prediction.status == "succeeded"
    assert isinstance(prediction.output, str)
    facts = probe_mp4(HTTP.get(prediction.output, timeout=30).content)
    assert (facts.width, facts.height) == (512, 512)
    assert facts.duration == pytest.approx(6, abs=0.2)


@pytest.mark.parametrize(
    ("model", "change", "field"),
    [
        (VEO, {"duration": 5}, "input.duration"),
        (VEO, {"duration": "4"}, "input.duration"),
        (VEO, {"aspect_ratio": "1:1"}, "input.aspect_ratio"),
        (VEO, {"resolution": "4k"}, "input.resolution"),
        (VEO, {"prompt": None}, "input.prompt"),
        (VEO, {"image": "https://example.com/cat.png"}, "input.image"),
        ("minimax/hailuo-02", {"duration": 10, "resolution": "1080p"}, "input.duration"),
    ],
)
def test_an_invalid_input_is_replicates_422(
    client: Client, engine_url: str, model: str, change: dict[str, Any], field: str
) -> None:
    inputs = {"prompt": PROMPT, "duration": 4} if model == VEO else {"prompt": PROMPT}
    inputs = {name: value for name, value in (inputs | change).items() if value is not None}

    with pytest.raises(ReplicateError) as refused:
        client.models.predictions.create(model=model, input=inputs)
    raw = HTTP.post(
        f"{engine_url}/replicate/v1/models/{model}/predictions",
        json={"input": inputs},
        headers={"Authorization": "Bearer r8_test"},
    )

    assert (refused.value.status, refused.value.title) == (422, "Input validation failed")
    assert refused.value.detail is not None
    assert field in refused.value.detail
    assert raw.headers["content-type"].startswith("application/problem+json")
    assert raw.json()["invalid_fields"][0]["field"] == field


def test_failed_and_moderated_predictions_carry_replicates_error(client: Client) -> None:
    failed = client.models.predictions.create(model=VEO, input={"prompt": f"{PROMPT} [fail]", "duration": 4})
    moderated = client.models.predictions.create(
        model=VEO, input={"prompt": f"{PROMPT} [moderation]", "duration": 4}
    )
    failed.wait()
    moderated.wait()

    assert (failed.status, failed.error, failed.output) == ("failed", "Video generation failed.", None)
    assert moderated.status == "failed"
    assert moderated.error is not None
    assert "(E005)" in moderated.error


def test_a_cancelled_prediction_reads_canceled_and_calls_its_webhook(
    client: Client, webhook_receiver: WebhookReceiver
) -> None:
    prediction = client.models.predictions.create(
        model=VEO,
        input={"prompt": f"{PROMPT} [stall]", "duration": 4},
        webhook=webhook_receiver.url,
        webhook_events_filter=["completed"],
    )

    prediction.cancel()

    assert prediction.status == "canceled"
    assert client.predictions.get(prediction.id).status == "canceled"
    [delivery] = webhook_receiver.for_video(prediction.id)
    assert json.loads(delivery.body)["status"] == "canceled"


def test_an_ended_prediction_posts_itself_to_its_webhook(
    client: Client, webhook_receiver: WebhookReceiver
) -> None:
    prediction = client.models.predictions.create(
        model=VEO, input={"prompt": PROMPT, "duration": 4}, webhook=webhook_receiver.url
    )

    [delivery] = webhook_receiver.for_video(prediction.id)

    body = json.loads(delivery.body)
    assert (body["id"], body["status"]) == (prediction.id, "succeeded")
    assert body["output"].startswith("http")


def test_its_webhooks_are_signed_with_the_accounts_secret_as_the_client_validates_them(
    client: Client, webhook_receiver: WebhookReceiver, engine_url: str
) -> None:
    prediction = client.models.predictions.create(
        model=VEO, input={"prompt": PROMPT, "duration": 4}, webhook=webhook_receiver.url
    )
    [delivery] = webhook_receiver.for_video(prediction.id)

    secret = client.webhooks.default.secret()

    assert secret.key.startswith("whsec_")
    assert delivery.headers["webhook-id"].startswith("msg_")
    # The client raises on any failure and answers None on success.
    client.webhooks.validate(
        headers=delivery.headers, body=delivery.body.decode(), secret=secret, tolerance=300
    )
    tampered = delivery.body.replace(b"succeeded", b"failed")
    with pytest.raises(InvalidSignatureError):
        client.webhooks.validate(headers=delivery.headers, body=tampered.decode(), secret=secret)
    anonymous = HTTP.get(f"{engine_url}/replicate/v1/webhooks/default/secret")
    assert anonymous.status_code == 401


def test_unknown_predictions_and_models_are_404_and_a_missing_token_401(
    client: Client, engine_url: str
) -> None:
    with pytest.raises(ReplicateError) as unknown:
        client.predictions.get("ufawqhfynnddngldkgtslldrkq")
    with pytest.raises(ReplicateError) as no_model:
        client.models.predictions.create(model="google/veo-9", input={"prompt": PROMPT})
    anonymous = HTTP.get(f"{engine_url}/replicate/v1/predictions/ufawqhfynnddngldkgtslldrkq")

    assert (unknown.value.status, no_model.value.status) == (404, 404)
    assert anonymous.status_code == 401
    assert anonymous.json() == {
        "title": "Unauthenticated",
        "detail": "You did not pass a valid authentication token",
        "status": 401,
    }


def test_the_adapter_makes_downloads_cancels_and_fails_as_the_contract_says(engine_url: str) -> None:
    base = f"{engine_url}/replicate"
    routes = {
        "veo": {"provider": "replicate", "upstream_model": VEO, "base_url": base},
        "veo-5s": {"provider": "replicate", "upstream_model": VEO, "base_url": base, "seconds": ["5"]},
        "hailuo": {"provider": "replicate", "upstream_model": "minimax/hailuo-02", "base_url": base},
    }
    red = Reference("red.png", png_bytes(1280, 720, (220, 20, 20)), "image/png")
    with routed(engine_url, routes) as upstream:
        made = upstream.create(UpstreamCreate("A heron", "veo", "4", "1280x720", reference=red))
        moderated = upstream.create(UpstreamCreate("A heron [moderation]", "veo", "4", "1280x720"))
        failed = upstream.create(UpstreamCreate("A heron [fail]", "veo", "4", "1280x720"))
        stalled = upstream.create(UpstreamCreate("A heron [stall]", "veo", "4", "1280x720"))
        with pytest.raises(InvalidVideoDuration) as refused:
            upstream.create(UpstreamCreate("A heron", "veo-5s", "5", "1280x720"))
        with pytest.raises(InvalidVideoDuration):
            upstream.create(UpstreamCreate("A heron", "hailuo", "10", "1920x1080"))
        with pytest.raises(InvalidVideoSize):
            upstream.create(UpstreamCreate("A heron", "hailuo", "6", "1080x1920"))

        assert ended(upstream, "veo", made).status == "completed"
        with upstream.open_content("veo", made.id, "video") as content:
            facts = probe_mp4(b"".join(content.chunks()))
        outcomes = [ended(upstream, "veo", job).error for job in (moderated, failed)]
        upstream.delete("veo", stalled.id)
        cancelled = upstream.retrieve("veo", stalled.id)

    assert (facts.width, facts.height) == (1280, 720)
    assert refused.value.param == "seconds"
    assert refused.value.upstream is not None
    assert refused.value.upstream.code == "Input validation failed"
    assert [error.code if error else None for error in outcomes] == [
        "moderation_blocked",
        "video_generation_failed",
    ]
    assert outcomes[1] is not None
    assert "Video generation failed" in outcomes[1].message
    assert cancelled.status == "failed"
    assert cancelled.error is not None
    assert "canceled" in cancelled.error.message
