"""The limits AWS enforces on the path of a request, which the offline stack enforces too (a request
AWS cannot deliver must not pass offline): API Gateway HTTP API's body size and integration time, and
Lambda's synchronous payload sizes. Step Functions' 256 KiB state and task payloads are enforced by
moto's own interpreter (States.DataLimitExceeded)."""

from __future__ import annotations

import json
from typing import Any

# API Gateway HTTP API: a request body of at most 10 MB, an answer within 30 s.
HTTP_API_MAX_BODY_BYTES = 10 * 1024 * 1024
HTTP_API_INTEGRATION_SECONDS = 30
# Lambda, synchronous invocation: the event (an HTTP body in it base64-encoded when binary) and the
# result as JSON. The response quota is 100 bytes over the request's.
LAMBDA_MAX_REQUEST_BYTES = 6 * 1024 * 1024
LAMBDA_MAX_RESPONSE_BYTES = LAMBDA_MAX_REQUEST_BYTES + 100


class PayloadTooLargeError(Exception):
    """Lambda refused the invocation before running it (RequestEntityTooLargeException)."""

    def __init__(self, size: int) -> None:
        super().__init__(
            f"Request must be smaller than {LAMBDA_MAX_REQUEST_BYTES} bytes for the Invoke operation"
            f" (it is {size})"
        )
        self.size = size


def payload_size(payload: Any) -> int:
    return len(json.dumps(payload, separators=(",", ":")).encode())


def check_request(event: Any) -> None:
    size = payload_size(event)
    if size > LAMBDA_MAX_REQUEST_BYTES:
        raise PayloadTooLargeError(size)


def response_error(result: Any) -> dict[str, str] | None:
    """The function error Lambda reports instead of a result too large to return, or None."""
    size = payload_size(result)
    if size <= LAMBDA_MAX_RESPONSE_BYTES:
        return None
    return {
        "errorType": "Function.ResponseSizeTooLarge",
        "errorMessage": f"Response payload size ({size} bytes) exceeded maximum allowed payload size "
        f"({LAMBDA_MAX_RESPONSE_BYTES} bytes).",
    }
