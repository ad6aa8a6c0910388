"""Assertions on the contract's error body, checked in full every time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.apigw import LambdaResponse
from tests.integration.api.stack import APPLICATION

# What no answer names: ARNs, the stack's resources, and where its secrets are stored.
INTERNAL_NAMES = (
    "arn:aws",
    *APPLICATION.tables.values(),
    *APPLICATION.buckets.values(),
    *APPLICATION.event_buses.values(),
    *(machine.name for machine in APPLICATION.state_machines.values()),
    *(APPLICATION.parameters[name] for name in ("UpstreamKeysPath", "UpstreamApiKeyParameter")),
    APPLICATION.parameters["WebhookSecretParameter"],
)

# The seed's error table, restated here so a drift in the code fails a test; but for its timeout's
# "Simplify prompt": a poll that runs out of maxWaitMs says how to keep waiting (test_poll.py).
SEED_HINTS = {
    "video_generation_failed": "Retry request",
    "invalid_video_prompt": "Modify prompt",
    "video_model_not_available": "Use supported model",
    "invalid_video_duration": 'Use "4", "8", or "12"',
    "invalid_video_size": "Use supported size",
    "video_expired": "Generate new video",
    "video_quota_exceeded": "Wait and retry",
}
OPENAI_TYPES = {401: "authentication_error", 429: "rate_limit_error"}
_UNSET: Any = object()


def assert_error(
    response: LambdaResponse,
    status: int,
    code: str,
    event: dict[str, Any],
    *,
    param: str | None = _UNSET,
    upstream: bool = False,
) -> dict[str, Any]:
    assert response.status == status, response.text
    assert response.headers["content-type"] == "application/json"
    # API Gateway's id of the request, which the logs carry: where OpenAI's clients read it.
    assert response.headers["x-request-id"] == event["requestContext"]["requestId"]
    body: dict[str, Any] = response.json()
    expected = {"statusCode", "timestamp", "path", "message", "error_code", "hint", "request_id", "error"}
    retries = status in (429, 503) or code == "idempotency_in_progress"
    if retries:
        expected.add("retry_after_seconds")
    if upstream:
        expected.add("openai_error")
    assert set(body) == expected
    assert body["statusCode"] == status
    stamped = datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - stamped).total_seconds()) < 120
    assert body["path"] == event["rawPath"]
    assert isinstance(body["message"], str)
    assert body["message"]
    assert body["error_code"] == code
    assert body["hint"] == SEED_HINTS.get(code, body["hint"])
    assert body["hint"]
    assert body["request_id"] == event["requestContext"]["requestId"]
    error_type = OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    assert body["error"]["message"] == body["message"]
    assert body["error"]["type"] == error_type
    assert body["error"]["code"] == code
    if param is not _UNSET:
        assert body["error"]["param"] == param
    if retries:
        assert body["retry_after_seconds"] >= 1
        assert int(response.headers["retry-after"]) == body["retry_after_seconds"]
    else:
        assert "retry-after" not in response.headers
    if upstream:
        assert set(body["openai_error"]) == {"type", "code", "message"}
    assert not [name for name in INTERNAL_NAMES if name in response.text]
    return body
