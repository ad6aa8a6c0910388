"""`client.webhooks.*` of the openai SDK on `/v1/webhook_endpoints`, through `serve`: an owner's
endpoints made, read, listed, changed, rotated and deleted; the secret shown only when made and kept
sealed; unknown event types, URLs that may not receive webhooks and a 11th endpoint refused; another
owner's endpoint a 404 on every route."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator

import openai
import pytest
from openai import OpenAI

from local.serve.aws_endpoint import client as aws_client
from tests.conftest import new_owner_key
from tests.support import Served
from videos_core.adapters.dynamodb import from_item
from videos_core.signing import secret_key

URL = "https://hooks.example.com/videos"


def _sdk(served: Served) -> OpenAI:
    key = new_owner_key(served, "hooks")
    return OpenAI(base_url=f"{served.api}/v1", api_key=key, max_retries=0, timeout=30)


@pytest.fixture
def owner(served: Served) -> Iterator[OpenAI]:
    with _sdk(served) as client:
        yield client


@pytest.fixture
def other(served: Served) -> Iterator[OpenAI]:
    with _sdk(served) as client:
        yield client


def test_an_endpoint_is_made_read_listed_changed_rotated_and_deleted(owner: OpenAI) -> None:
    made = owner.webhooks.create(name="App", url=URL, event_types=["video.completed", "video.failed"])

    assert made.id.startswith("we_")
    assert secret_key(made.signing_secret)  # a whsec_ secret, shown now
    assert made.signing_secret_hint == f"whsec_…{made.signing_secret[-4:]}"
    got = owner.webhooks.retrieve(made.id)
    assert "signing_secret" not in got.model_dump()
    assert (got.url, got.event_types, got.updated_at) == (
        URL,
        ["video.completed", "video.failed"],
        made.created_at,
    )
    newer = owner.webhooks.create(name="Second", url=URL, event_types=["video.failed"])
    assert [e.id for e in owner.webhooks.list()] == [newer.id, made.id]
    assert [e.id for e in owner.webhooks.list(limit=1, after=newer.id)] == [made.id]

    changed = owner.webhooks.update(made.id, name="Renamed", event_types=["video.failed"])
    assert (changed.name, changed.event_types, changed.url) == ("Renamed", ["video.failed"], URL)
    rotated = owner.webhooks.rotate_secret(made.id, keep_old_secret_active_for_24_hours=True)
    assert rotated.signing_secret != made.signing_secret
    assert owner.webhooks.retrieve(made.id).signing_secret_hint == rotated.signing_secret_hint

    deleted = owner.webhooks.delete(made.id)
    assert (deleted.id, deleted.deleted, deleted.object) == (made.id, True, "webhook_endpoint.deleted")
    with pytest.raises(openai.NotFoundError):
        owner.webhooks.retrieve(made.id)


def test_the_secret_is_kept_sealed_and_bound_to_its_endpoint(served: Served, owner: OpenAI) -> None:
    first = owner.webhooks.create(name="A", url=URL, event_types=["video.completed"])
    second = owner.webhooks.create(name="B", url=URL, event_types=["video.completed"])
    dynamodb, kms = aws_client("dynamodb", served.aws), aws_client("kms", served.aws)

    items = dynamodb.scan(TableName="videos-api-WebhookEndpointsTable")["Items"]
    stored = {item["endpoint_id"]["S"]: from_item(item) for item in items}
    sealed = bytes(stored[first.id]["sealed_secret"])
    assert first.signing_secret.encode() not in sealed
    assert base64.b64decode(first.signing_secret[6:]) not in sealed
    owner_of = stored[first.id]["owner"]
    opened = kms.decrypt(
        CiphertextBlob=sealed, EncryptionContext={"owner": owner_of, "webhook_endpoint": first.id}
    )["Plaintext"]
    assert opened.decode() == first.signing_secret
    with pytest.raises(kms.exceptions.InvalidCiphertextException):  # another endpoint's context
        kms.decrypt(
            CiphertextBlob=sealed, EncryptionContext={"owner": owner_of, "webhook_endpoint": second.id}
        )


def test_another_owners_endpoint_is_not_found_on_every_route(owner: OpenAI, other: OpenAI) -> None:
    made = owner.webhooks.create(name="Mine", url=URL, event_types=["video.completed"])

    calls: list[Callable[[], object]] = [
        lambda: other.webhooks.retrieve(made.id),
        lambda: other.webhooks.update(made.id, name="Theirs"),
        lambda: other.webhooks.rotate_secret(made.id),
        lambda: other.webhooks.delete(made.id),
    ]
    for call in calls:
        with pytest.raises(openai.NotFoundError) as refused:
            call()
        assert refused.value.code == "webhook_endpoint_not_found"
    assert list(other.webhooks.list()) == []
    assert owner.webhooks.retrieve(made.id).name == "Mine"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        # The shared serve lets loopback through (--allow-loopback-webhooks): test_webhook_urls refuses
        # it without.
        ("http://hooks.example.com/videos", "must be https"),
        ("http://10.1.2.3/hook", "must be https"),
        ("https://10.1.2.3/hook", "private"),
        ("https://192.168.0.10/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::ffff:169.254.169.254]/hook", "link-local"),
        ("https://100.64.0.1/hook", "carrier-grade NAT"),
        ("https://224.0.0.1/hook", "multicast"),
        ("https://240.0.0.1/hook", "reserved"),
        ("https://[fd00::1]/hook", "private"),
        ("https://[fe80::1]/hook", "link-local"),
        ("https://user:pw@hooks.example.com/hook", "credentials"),
    ],
)
def test_a_url_that_may_not_receive_webhooks_is_refused(owner: OpenAI, url: str, reason: str) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        owner.webhooks.create(name="Bad", url=url, event_types=["video.completed"])

    assert refused.value.code == "invalid_request"
    assert (refused.value.param, reason in refused.value.message) == ("url", True), refused.value.message


def test_an_event_type_other_than_a_videos_is_refused_by_name(owner: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        owner.webhooks.create(name="App", url=URL, event_types=["video.completed", "response.completed"])

    assert refused.value.param == "event_types"
    assert "'response.completed'" in refused.value.message


def test_an_owner_has_at_most_the_limit_of_endpoints(owner: OpenAI) -> None:
    made = [owner.webhooks.create(name=f"E{n}", url=URL, event_types=["video.failed"]) for n in range(10)]

    with pytest.raises(openai.BadRequestError) as refused:
        owner.webhooks.create(name="One too many", url=URL, event_types=["video.failed"])
    assert refused.value.code == "webhook_endpoint_limit_reached"

    owner.webhooks.delete(made[0].id)
    assert owner.webhooks.create(name="In its place", url=URL, event_types=["video.failed"]).id
