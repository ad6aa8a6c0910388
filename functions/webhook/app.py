"""POST /webhooks/openai: the upstream's signed video.completed / video.failed events end a job at once
(no API key: the Standard Webhooks signature authenticates the sender). POST
/webhooks/{provider}/{token}: the providers' callbacks, authenticated by the URL's per-job token and,
for a provider that signs them (fal, Replicate), its signature (a provider's challenge is answered with
its echo)."""

import base64
import json
import time

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import wiring
from videos_core.callbacks import signed_headers
from videos_core.deadline import bounded, seconds_left
from videos_core.http import JSON, Api, time_left
from videos_core.logic.webhook import Received, callback_token, receive, receive_callback
from videos_core.logic.workflow import Finisher
from videos_core.observability import logger, metrics, traced
from videos_core.router import Response

app = Api("webhook")


def _body() -> bytes:
    raw = app.current_event.body or ""
    return base64.b64decode(raw) if app.current_event.is_base64_encoded else raw.encode()


def _finisher() -> Finisher:
    return wiring.finisher(
        app.lambda_context.aws_request_id,
        seconds_left(),
        upstream_attempts=3,
        upstream_time_left=time_left(app),
    )


@app.serves(path="/webhooks/openai")
def webhook() -> Response:
    headers = signed_headers(dict(app.current_event.headers))
    received = receive(
        _body(),
        headers,
        secret=wiring.webhook_secret(),
        deliveries=wiring.deliveries(),
        ports=_finisher(),
        now=int(time.time()),
    )
    return _answer(received)


@app.serves(path="/webhooks/{provider}/{token}")
def callback(provider: str, token: str) -> Response:
    received = receive_callback(
        provider,
        callback_token(token),
        (dict(app.current_event.headers), _body()),
        secret=wiring.webhook_secret(),
        signing_keys=wiring.signing_keys(),
        deliveries=wiring.deliveries,
        ports=_finisher,
        now=int(time.time()),
    )
    return _answer(received)


def _answer(received: Received) -> Response:
    logger.info(
        "webhook",
        extra={
            "type": received.event_type,
            "video_id": received.video_id,
            "finalised": received.outcome.finalised,
            "duplicate": received.duplicate,
        },
    )
    return Response(200, JSON, json.dumps(received.answer) if received.answer else '{"received": true}')


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@traced
@bounded
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
