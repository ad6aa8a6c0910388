"""The contract of `/v1/webhook_endpoints`: what the openai SDK's `client.webhooks.*` sends and parses."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field

from videos_core.models.api import _Model, _not_blank

# The events a job's end gives (OpenAI's names); an endpoint subscribes to some of them.
EVENT_TYPES = ("video.completed", "video.failed")
# A URL's length as browsers and proxies take it; a name's as a dashboard shows it.
MAX_URL_CHARS = 2048
MAX_NAME_CHARS = 128

EndpointName = Annotated[
    str, Field(strict=True, min_length=1, max_length=MAX_NAME_CHARS), AfterValidator(_not_blank)
]
EndpointUrl = Annotated[str, Field(strict=True, min_length=1, max_length=MAX_URL_CHARS)]
# Checked by the logic, so that an unknown type is a 400 that names it.
EventTypes = Annotated[list[Annotated[str, Field(strict=True)]], Field(min_length=1, max_length=16)]


class CreateWebhookEndpointRequest(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: EndpointName
    url: EndpointUrl
    event_types: EventTypes


class UpdateWebhookEndpointRequest(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: EndpointName | None = None
    url: EndpointUrl | None = None
    event_types: EventTypes | None = None


class RotateSecretRequest(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    keep_old_secret_active_for_24_hours: bool = False


class WebhookEndpointListQuery(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    limit: int = Field(default=20, ge=1, le=100)
    after: str | None = Field(default=None, min_length=1, max_length=64)


class WebhookEndpoint(_Model):
    id: str
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    name: str
    url: str
    event_types: list[str]
    created_at: int
    updated_at: int
    signing_secret_hint: str
    # Extensions: an endpoint that failed for days on end is disabled, and says why; an update enables it.
    status: Literal["enabled", "disabled"] = "enabled"
    disabled_reason: str | None = None


class WebhookEndpointWithSecret(WebhookEndpoint):
    signing_secret: str


class WebhookEndpointList(_Model):
    object: Literal["list"] = "list"
    data: list[WebhookEndpoint]
    first_id: str | None
    last_id: str | None
    has_more: bool


class DeletedWebhookEndpoint(_Model):
    id: str
    object: Literal["webhook_endpoint.deleted"] = "webhook_endpoint.deleted"
    deleted: bool = True


class TestWebhookEndpointRequest(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Checked by the logic, so that an unknown type is a 400 that names it.
    event_type: Annotated[str, Field(strict=True, min_length=1, max_length=64)]


class WebhookEndpointTestResult(_Model):
    object: Literal["webhook_endpoint.test"] = "webhook_endpoint.test"
    webhook_endpoint_id: str
    event_type: str
    status_code: int
    success: Literal[True] = True


# Extensions: each delivery to an endpoint, with its attempts.
class WebhookDeliveryAttempt(_Model):
    attempted_at: int
    status_code: int | None
    duration_ms: int
    failure: str | None


class WebhookDelivery(_Model):
    id: str  # the delivery's webhook-id
    object: Literal["webhook_delivery"] = "webhook_delivery"
    webhook_endpoint_id: str
    event_id: str
    event_type: str
    video_id: str
    created_at: int
    # pending: failed so far and tried again; failed: given up after the retry window.
    status: Literal["pending", "delivered", "failed"]
    attempts: list[WebhookDeliveryAttempt]


class WebhookDeliveryList(_Model):
    object: Literal["list"] = "list"
    data: list[WebhookDelivery]
    first_id: str | None
    last_id: str | None
    has_more: bool
