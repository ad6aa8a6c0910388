"""What a tenant does with the deliveries to an endpoint of theirs: sends it a test event and reads the
answer, lists its deliveries with their attempts, and replays one (sent again now under the same
`webhook-id`). Each goes through the endpoint's owner first, so another owner's ids are not found."""

from __future__ import annotations

import re

from videos_core.errors import WebhookDeliveryNotFound, WebhookTestFailed
from videos_core.ids import new_video_id
from videos_core.logic.deliveries import (
    Deliverer,
    Delivery,
    LoggedDelivery,
    VideoEvent,
    attempt,
    send,
    webhook_id,
)
from videos_core.logic.webhook_endpoints import checked_event_types, find_endpoint
from videos_core.models.api import list_page
from videos_core.models.webhook_endpoints import (
    TestWebhookEndpointRequest,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookDeliveryList,
    WebhookEndpointListQuery,
    WebhookEndpointTestResult,
)

# What `deliveries.webhook_id` makes.
DELIVERY_ID = re.compile(r"msg_[0-9a-f]{32}")


def test_endpoint(
    owner: str, endpoint_id: str, request: TestWebhookEndpointRequest, deliverer: Deliverer, now: int
) -> WebhookEndpointTestResult:
    """A signed event of the asked type about a video that does not exist, sent once and not logged; the
    receiver's status, whatever it is. No answer at all is a 400 saying why."""
    (event_type,) = checked_event_types([request.event_type], param="event_type")
    endpoint = find_endpoint(owner, endpoint_id, deliverer.store)
    event = VideoEvent(owner, new_video_id(now * 1000), event_type, now)
    delivery = Delivery(webhook_id(event.event_id, endpoint.id), owner, endpoint.id, event)
    made = send(endpoint, delivery, deliverer.box, deliverer.post, now)
    if made.status is None:
        raise WebhookTestFailed(f"The endpoint did not answer: {made.failure}", param="webhook_endpoint_id")
    return WebhookEndpointTestResult(
        webhook_endpoint_id=endpoint.id, event_type=event_type, status_code=made.status
    )


def list_deliveries(
    owner: str, endpoint_id: str, query: WebhookEndpointListQuery, deliverer: Deliverer
) -> WebhookDeliveryList:
    endpoint = find_endpoint(owner, endpoint_id, deliverer.store)
    found, has_more = deliverer.log.list(endpoint.id, query.limit, query.after)
    data = [view(logged) for logged in found]
    return list_page(WebhookDeliveryList, data, has_more)


def replay_delivery(
    owner: str, endpoint_id: str, delivery_id: str, deliverer: Deliverer, now: int
) -> WebhookDelivery:
    """Sends a delivery again now, to the endpoint as it is now (disabled or not: its owner asks), and
    logs the attempt; its status stays what it was unless this one goes through."""
    endpoint = find_endpoint(owner, endpoint_id, deliverer.store)
    logged = deliverer.log.get(delivery_id) if DELIVERY_ID.fullmatch(delivery_id) else None
    if logged is None or (logged.delivery.owner, logged.delivery.endpoint_id) != (owner, endpoint.id):
        raise WebhookDeliveryNotFound(f"No delivery with id '{delivery_id}'.", param="delivery_id")
    attempt(endpoint, logged.delivery, deliverer, now, failed=logged.status)
    replayed = deliverer.log.get(delivery_id)
    return view(replayed or logged)


def view(logged: LoggedDelivery) -> WebhookDelivery:
    delivery, event = logged.delivery, logged.delivery.event
    return WebhookDelivery(
        id=delivery.webhook_id,
        webhook_endpoint_id=delivery.endpoint_id,
        event_id=event.event_id,
        event_type=event.event_type,
        video_id=event.video_id,
        created_at=logged.created_at,
        status=logged.status,
        attempts=[
            WebhookDeliveryAttempt(
                attempted_at=a.attempted_at,
                status_code=a.status_code,
                duration_ms=a.duration_ms,
                failure=a.failure,
            )
            for a in logged.attempts
        ],
    )
