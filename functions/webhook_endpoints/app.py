"""/v1/webhook_endpoints: the caller's webhook endpoints — create, list, retrieve, update, delete,
rotate_secret and test, as the openai SDK's `client.webhooks.*` calls them, and each endpoint's deliveries
(listed, replayed). One function serves them all: each needs the same grants (the endpoints' table, the
key their secrets are sealed with, the deliveries' log)."""

import time

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import wiring
from videos_core.deadline import bounded
from videos_core.http import Api, json_response, owner_of, parse_body, parse_query
from videos_core.logic import endpoint_deliveries
from videos_core.logic import webhook_endpoints as logic
from videos_core.models.webhook_endpoints import (
    CreateWebhookEndpointRequest,
    RotateSecretRequest,
    TestWebhookEndpointRequest,
    UpdateWebhookEndpointRequest,
    WebhookEndpointListQuery,
)
from videos_core.observability import logger, metrics, traced
from videos_core.router import Response

app = Api("webhook_endpoints")
ONE = "/v1/webhook_endpoints/{webhook_endpoint_id}"


@app.serves(path="/v1/webhook_endpoints", method="POST")
def create() -> Response:
    owner = owner_of(app)
    request, _ = parse_body(app, CreateWebhookEndpointRequest)
    return json_response(logic.create_endpoint(owner, request, wiring.endpoints(), int(time.time())))


@app.serves(path="/v1/webhook_endpoints", method="GET")
def list_all() -> Response:
    owner = owner_of(app)
    query = parse_query(app, WebhookEndpointListQuery)
    return json_response(logic.list_endpoints(owner, query, wiring.endpoints().store))


@app.serves(path=ONE, method="GET")
def retrieve(webhook_endpoint_id: str) -> Response:
    return json_response(logic.get_endpoint(owner_of(app), webhook_endpoint_id, wiring.endpoints().store))


@app.serves(path=ONE, method="POST")
def update(webhook_endpoint_id: str) -> Response:
    owner = owner_of(app)
    request, _ = parse_body(app, UpdateWebhookEndpointRequest)
    updated = logic.update_endpoint(owner, webhook_endpoint_id, request, wiring.endpoints(), int(time.time()))
    return json_response(updated)


@app.serves(path=ONE, method="DELETE")
def delete(webhook_endpoint_id: str) -> Response:
    return json_response(logic.delete_endpoint(owner_of(app), webhook_endpoint_id, wiring.endpoints().store))


@app.serves(path=f"{ONE}/rotate_secret")
def rotate_secret(webhook_endpoint_id: str) -> Response:
    owner = owner_of(app)
    # The SDK sends {} when nothing is asked; a bare POST asks nothing too.
    request = parse_body(app, RotateSecretRequest)[0] if app.current_event.body else RotateSecretRequest()
    rotated = logic.rotate_secret(owner, webhook_endpoint_id, request, wiring.endpoints(), int(time.time()))
    return json_response(rotated)


@app.serves(path=f"{ONE}/test")
def test(webhook_endpoint_id: str) -> Response:
    owner = owner_of(app)
    request, _ = parse_body(app, TestWebhookEndpointRequest)
    tested = endpoint_deliveries.test_endpoint(
        owner, webhook_endpoint_id, request, wiring.deliverer(), int(time.time())
    )
    return json_response(tested)


@app.serves(path=f"{ONE}/deliveries", method="GET")
def deliveries(webhook_endpoint_id: str) -> Response:
    owner = owner_of(app)
    query = parse_query(app, WebhookEndpointListQuery)
    return json_response(
        endpoint_deliveries.list_deliveries(owner, webhook_endpoint_id, query, wiring.deliverer())
    )


@app.serves(path=f"{ONE}/deliveries/{{delivery_id}}/replay")
def replay(webhook_endpoint_id: str, delivery_id: str) -> Response:
    replayed = endpoint_deliveries.replay_delivery(
        owner_of(app), webhook_endpoint_id, delivery_id, wiring.deliverer(), int(time.time())
    )
    return json_response(replayed)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@traced
@bounded
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
