"""Tenants' webhook endpoints (OpenAI's `/v1/webhook_endpoints`): where a job's end is delivered,
signed with the endpoint's own secret. The secret is shown when it is made (create, rotation) and only
its hint after; it is kept sealed. Each endpoint is its owner's: another owner's id is not found."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from videos_core import signing
from videos_core.errors import InvalidRequest, WebhookEndpointLimitReached, WebhookEndpointNotFound
from videos_core.ids import new_webhook_endpoint_id
from videos_core.models.api import list_page
from videos_core.models.webhook_endpoints import (
    EVENT_TYPES,
    CreateWebhookEndpointRequest,
    DeletedWebhookEndpoint,
    RotateSecretRequest,
    UpdateWebhookEndpointRequest,
    WebhookEndpoint,
    WebhookEndpointList,
    WebhookEndpointListQuery,
    WebhookEndpointWithSecret,
)
from videos_core.ports import EndpointStore, SecretBox, StoredEndpoint
from videos_core.webhook_urls import RefusedUrlError, check_url

# How long a rotation that keeps the old secret signs with both (OpenAI's 24 hours).
KEEP_OLD_SECRET_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Endpoints:
    """What the endpoints' logic works with: the store, the sealing key and the stack's rules."""

    store: EndpointStore
    box: SecretBox
    limit: int
    allow_loopback: bool


def sealing_context(owner: str, endpoint_id: str) -> dict[str, str]:
    return {"owner": owner, "webhook_endpoint": endpoint_id}


def create_endpoint(
    owner: str, request: CreateWebhookEndpointRequest, endpoints: Endpoints, now: int
) -> WebhookEndpointWithSecret:
    url, event_types = _url(request.url, endpoints), checked_event_types(request.event_types)
    endpoint_id, secret = new_webhook_endpoint_id(), signing.new_secret()
    stored = StoredEndpoint(
        id=endpoint_id,
        name=request.name,
        url=url,
        event_types=event_types,
        created_at=now,
        updated_at=now,
        secret_hint=signing.hint(secret),
        sealed_secret=endpoints.box.seal(secret, sealing_context(owner, endpoint_id)),
    )
    if not endpoints.store.add(owner, stored, endpoints.limit):
        raise WebhookEndpointLimitReached(
            f"You have {endpoints.limit} webhook endpoints, the most allowed.", param="url"
        )
    return WebhookEndpointWithSecret(**view(stored).model_dump(), signing_secret=secret)


def get_endpoint(owner: str, endpoint_id: str, store: EndpointStore) -> WebhookEndpoint:
    return view(find_endpoint(owner, endpoint_id, store))


def list_endpoints(owner: str, query: WebhookEndpointListQuery, store: EndpointStore) -> WebhookEndpointList:
    found, has_more = store.list(owner, query.limit, query.after)
    data = [view(endpoint) for endpoint in found]
    return list_page(WebhookEndpointList, data, has_more)


def update_endpoint(
    owner: str, endpoint_id: str, request: UpdateWebhookEndpointRequest, endpoints: Endpoints, now: int
) -> WebhookEndpoint:
    """Changes what the request names; an update that changes something enables a disabled endpoint
    (its owner has looked at it)."""
    stored = find_endpoint(owner, endpoint_id, endpoints.store)
    name = stored.name if request.name is None else request.name
    url = stored.url if request.url is None else _url(request.url, endpoints)
    types = stored.event_types if request.event_types is None else checked_event_types(request.event_types)
    changed = (name, url, types) != (stored.name, stored.url, stored.event_types)
    if not changed and stored.status == "enabled":
        return view(stored)
    updated = dataclasses.replace(
        stored,
        name=name,
        url=url,
        event_types=types,
        updated_at=now,
        status="enabled",
        disabled_reason=None,
        failing_since=None,
    )
    _replace(owner, updated, endpoints.store)
    return view(updated)


def delete_endpoint(owner: str, endpoint_id: str, store: EndpointStore) -> DeletedWebhookEndpoint:
    if not (_plausible(endpoint_id) and store.remove(owner, endpoint_id)):
        raise _not_found(endpoint_id)
    return DeletedWebhookEndpoint(id=endpoint_id)


def rotate_secret(
    owner: str, endpoint_id: str, request: RotateSecretRequest, endpoints: Endpoints, now: int
) -> WebhookEndpointWithSecret:
    """A new secret; the old one signs too for 24 hours when the request keeps it, else it stops now
    (so does a secret an earlier rotation kept)."""
    stored = find_endpoint(owner, endpoint_id, endpoints.store)
    secret = signing.new_secret()
    keep = request.keep_old_secret_active_for_24_hours
    rotated = dataclasses.replace(
        stored,
        secret_hint=signing.hint(secret),
        sealed_secret=endpoints.box.seal(secret, sealing_context(owner, endpoint_id)),
        sealed_previous_secret=stored.sealed_secret if keep else None,
        previous_secret_until=now + KEEP_OLD_SECRET_SECONDS if keep else None,
        updated_at=now,
    )
    _replace(owner, rotated, endpoints.store)
    return WebhookEndpointWithSecret(**view(rotated).model_dump(), signing_secret=secret)


def signing_secrets(owner: str, endpoint: StoredEndpoint, box: SecretBox, now: int) -> list[str]:
    """The secrets a delivery to `endpoint` is signed with now: its own, and the one a rotation kept
    while it is kept."""
    context = sealing_context(owner, endpoint.id)
    found = [box.open(endpoint.sealed_secret, context)]
    until = endpoint.previous_secret_until
    if endpoint.sealed_previous_secret is not None and until is not None and now < until:
        found.append(box.open(endpoint.sealed_previous_secret, context))
    return found


def find_endpoint(owner: str, endpoint_id: str, store: EndpointStore) -> StoredEndpoint:
    found = store.get(owner, endpoint_id) if _plausible(endpoint_id) else None
    if found is None:
        raise _not_found(endpoint_id)
    return found


def view(stored: StoredEndpoint) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=stored.id,
        name=stored.name,
        url=stored.url,
        event_types=list(stored.event_types),
        created_at=stored.created_at,
        updated_at=stored.updated_at,
        signing_secret_hint=stored.secret_hint,
        status=stored.status,
        disabled_reason=stored.disabled_reason,
    )


def _replace(owner: str, endpoint: StoredEndpoint, store: EndpointStore) -> None:
    if not store.replace(owner, endpoint):
        raise _not_found(endpoint.id)


def _url(url: str, endpoints: Endpoints) -> str:
    try:
        return check_url(url, allow_loopback=endpoints.allow_loopback)
    except RefusedUrlError as e:
        raise InvalidRequest(str(e), param="url") from e


def checked_event_types(requested: list[str], param: str = "event_types") -> tuple[str, ...]:
    unknown = [name for name in requested if name not in EVENT_TYPES]
    if unknown:
        raise InvalidRequest(
            f"Unknown event type '{unknown[0]}': an endpoint takes {' and '.join(EVENT_TYPES)}.",
            param=param,
        )
    return tuple(sorted(set(requested)))


def _plausible(endpoint_id: str) -> bool:
    return endpoint_id.startswith("we_") and endpoint_id[3:].isalnum() and len(endpoint_id) <= 64


def _not_found(endpoint_id: str) -> WebhookEndpointNotFound:
    return WebhookEndpointNotFound(
        f"No webhook endpoint with id '{endpoint_id}'.", param="webhook_endpoint_id"
    )
