"""Jobs' ends delivered to a tenant's endpoint, through the shared `serve` (started with
--allow-loopback-webhooks, so a receiver on this machine may be one): the openai SDK's `test` and a
video's `video.completed` and `video.failed` that `client.webhooks.unwrap` accepts; a receiver down for
two attempts gets the event on the third under the same webhook-id; the endpoint's deliveries list their
attempts, a replay sends one again, and another owner finds none of it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest
from openai import OpenAI

from tests.conftest import new_owner_key
from tests.support import Served
from tests.webhook_receiver import Delivery, WebhookReceiver


def _unwrapped(sdk: OpenAI, delivery: Delivery, secret: str) -> tuple[str, str]:
    """The type and video of a delivery the SDK accepts (its event union has no video type: read as sent)."""
    seen = sdk.webhooks.unwrap(delivery.body, delivery.headers, secret=secret).model_dump()
    return seen["type"], seen["data"]["id"]


# A prompt other tests of the run render too (renders are shared); "[fail]" makes the engine fail it.
PROMPT = "Soon gone"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


def _sdk(served: Served) -> OpenAI:
    return OpenAI(
        base_url=f"{served.api}/v1", api_key=new_owner_key(served, "hooked"), max_retries=0, timeout=30
    )


def test_a_video_s_end_reaches_the_endpoint_signed_retried_listed_and_replayed(
    served: Served, receiver: WebhookReceiver
) -> None:
    with _sdk(served) as sdk, _sdk(served) as other:
        endpoint = sdk.webhooks.create(
            name="Local", url=receiver.url, event_types=["video.completed", "video.failed"]
        )
        secret = endpoint.signing_secret

        tested = sdk.webhooks.test(endpoint.id, event_type="video.failed")
        assert (tested.status_code, tested.event_type, tested.webhook_endpoint_id) == (
            200,
            "video.failed",
            endpoint.id,
        )
        [sample] = receiver.deliveries
        assert _unwrapped(sdk, sample, secret)[0] == "video.failed"

        receiver.refuse_next = 2  # down for the next two attempts, whichever video's they are
        completed = sdk.videos.create(prompt=PROMPT)
        failed = sdk.videos.create(prompt=f"{PROMPT} [fail]")

        got = {video.id: receiver.for_video(video.id, timeout=60) for video in (completed, failed)}
        for video, kind in ((completed, "video.completed"), (failed, "video.failed")):
            # Every attempt of one delivery under one webhook-id, the last one through and verified.
            assert len({d.headers["webhook-id"] for d in got[video.id]}) == 1
            assert _unwrapped(sdk, got[video.id][-1], secret) == (kind, video.id)
        assert sum(d.answered == 503 for tries in got.values() for d in tries) == 2

        path = f"/webhook_endpoints/{endpoint.id}/deliveries"
        listed = sdk.get(path, cast_to=httpx.Response).json()
        by_video = {d["video_id"]: d for d in listed["data"]}
        assert set(by_video) == set(got)
        for video_id, tries in got.items():
            logged = by_video[video_id]
            assert (logged["id"], logged["status"]) == (tries[-1].headers["webhook-id"], "delivered")
            assert [a["status_code"] for a in logged["attempts"]] == [d.answered for d in tries]

        done = by_video[completed.id]
        replayed = sdk.post(f"{path}/{done['id']}/replay", cast_to=httpx.Response).json()
        assert [a["status_code"] for a in replayed["attempts"]][len(done["attempts"]) :] == [200]
        again = receiver.deliveries[-1]
        assert again.headers["webhook-id"] == done["id"]
        assert _unwrapped(sdk, again, secret) == ("video.completed", completed.id)

        for call in (
            lambda: other.get(path, cast_to=httpx.Response),
            lambda: other.post(f"{path}/{done['id']}/replay", cast_to=httpx.Response),
            lambda: other.webhooks.test(endpoint.id, event_type="video.completed"),
        ):
            with pytest.raises(openai.NotFoundError):
                call()
        with pytest.raises(openai.NotFoundError):
            sdk.post(f"{path}/msg_{'0' * 32}/replay", cast_to=httpx.Response)
