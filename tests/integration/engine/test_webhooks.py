"""Signed webhooks, verified with the standardwebhooks package as a receiver would."""

from __future__ import annotations

import json

import pytest
from openai import OpenAI
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.integration.engine_process import WEBHOOK_SECRET
from tests.webhook_receiver import WebhookReceiver


def test_a_completed_video_sends_a_signed_video_completed_event(
    client: OpenAI, webhook_receiver: WebhookReceiver
) -> None:
    video = client.videos.create(prompt="A lighthouse at dusk")

    [delivery] = webhook_receiver.for_video(video.id)
    event = Webhook(WEBHOOK_SECRET).verify(delivery.body, delivery.headers)

    assert event["type"] == "video.completed"
    assert event["object"] == "event"
    assert event["id"].startswith("evt_")
    assert event["data"] == {"id": video.id}
    assert delivery.headers["webhook-id"] == event["id"]
    assert client.videos.retrieve(video.id).status == "completed"


def test_a_failed_video_sends_video_failed(client: OpenAI, webhook_receiver: WebhookReceiver) -> None:
    video = client.videos.create(prompt="A lighthouse [fail]")

    [delivery] = webhook_receiver.for_video(video.id)

    assert Webhook(WEBHOOK_SECRET).verify(delivery.body, delivery.headers)["type"] == "video.failed"


def test_a_refused_delivery_is_retried_with_the_same_id(
    client: OpenAI, webhook_receiver: WebhookReceiver
) -> None:
    webhook_receiver.refuse_next = 2
    video = client.videos.create(prompt="A lighthouse, retried")

    deliveries = webhook_receiver.for_video(video.id)

    assert [d.answered for d in deliveries] == [503, 503, 200]
    assert len({d.headers["webhook-id"] for d in deliveries}) == 1
    for delivery in deliveries:
        Webhook(WEBHOOK_SECRET).verify(delivery.body, delivery.headers)
    assert json.loads(deliveries[-1].body)["data"]["id"] == video.id


def test_a_signature_with_another_secret_does_not_verify(
    client: OpenAI, webhook_receiver: WebhookReceiver
) -> None:
    video = client.videos.create(prompt="A lighthouse, forged")
    [delivery] = webhook_receiver.for_video(video.id)

    with pytest.raises(WebhookVerificationError, match="signature"):
        Webhook("whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=").verify(delivery.body, delivery.headers)
