"""Every error the API answers with: a code, an HTTP status and the hint clients are shown.

Routes raise these and never catch them; `videos_core.http` maps them to the error body in one
place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class UpstreamErrorInfo:
    """What the upstream said, kept for `openai_error` in the error body."""

    type: str
    code: str | None
    message: str


class ApiError(Exception):
    status: ClassVar[int] = 500
    # The status on OpenAI's surface (/v1), where OpenAI answers the case with another than the seed's.
    openai_status: ClassVar[int | None] = None
    code: ClassVar[str] = "internal_error"
    # The seed's hint for the code; an error that knows better (the lengths its model makes) says so.
    default_hint: ClassVar[str] = "Retry the request; if it keeps failing, report its request_id."

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        retry_after: int | None = None,
        upstream: UpstreamErrorInfo | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.retry_after = retry_after
        self.upstream = upstream
        self.hint = hint or self.default_hint


# The seed's error table.


class VideoGenerationFailed(ApiError):
    status, code, default_hint = 500, "video_generation_failed", "Retry request"


class UpstreamRetryableError(VideoGenerationFailed):
    """The upstream failed in a way worth trying again later (429, 5xx, timeouts, cut connections).

    API callers see video_generation_failed; the state machine's Retry matches this class name."""


class UpstreamFileUnusable(VideoGenerationFailed):
    """The upstream's file cannot be stored: it is not the video (or image) it should be, or it is
    reachable only by breaking the download rules (a redirect loop, too many hops, http).

    StoreAssets tries the download again once, then ends the job failed with this message."""


class InvalidVideoPrompt(ApiError):
    status, code, default_hint = 400, "invalid_video_prompt", "Modify prompt"


class VideoGenerationTimeout(ApiError):
    """A poll's maxWaitMs ran out while the job still runs: the seed's code and status, with a hint
    that says how to keep waiting (the seed's "Simplify prompt" told the client to start again)."""

    status, code = 504, "video_generation_timeout"
    default_hint = "The video is still being made: poll again with a larger maxWaitMs (counted from creation)"


class VideoModelNotAvailable(ApiError):
    """The seed's 404; OpenAI answers a model it does not offer with a 400 on the `model` parameter
    (the openai SDK's BadRequestError)."""

    status, code, default_hint = 404, "video_model_not_available", "Use supported model"
    openai_status = 400


class InvalidVideoDuration(ApiError):
    status, code, default_hint = 400, "invalid_video_duration", 'Use "4", "8", or "12"'


class InvalidVideoSize(ApiError):
    status, code, default_hint = 400, "invalid_video_size", "Use supported size"


class VideoExpired(ApiError):
    status, code, default_hint = 410, "video_expired", "Generate new video"


class VideoQuotaExceeded(ApiError):
    status, code, default_hint = 429, "video_quota_exceeded", "Wait and retry"


# The service's own.


class UpstreamRateLimited(ApiError):
    """The provider is rate limiting this service: not the owner's quota (`video_quota_exceeded`),
    and over once its Retry-After has passed. The state machine's Retry matches this class name."""

    status, code = 429, "upstream_rate_limited"
    default_hint = "The video provider is busy; retry after the time in Retry-After"


class VideoNotFound(ApiError):
    status, code = 404, "video_not_found"
    default_hint = "Check the video id; list your videos with GET /v1/videos"


class CharacterNotFound(ApiError):
    status, code, default_hint = (
        404,
        "character_not_found",
        "Check the character id (POST /v1/videos/characters made it)",
    )


class VideoNotReady(ApiError):
    status, code, default_hint = 409, "video_not_ready", "Wait until the video is completed (poll it)"


class InvalidRequest(ApiError):
    status, code, default_hint = 400, "invalid_request", "Fix the parameter named in the error and retry"


class Unauthorized(ApiError):
    status, code, default_hint = 401, "unauthorized", "Send a valid key as 'Authorization: Bearer <key>'"


class RouteNotFound(ApiError):
    status, code, default_hint = 404, "not_found", "Check the method and path against /openapi.json"


class MethodNotAllowed(ApiError):
    status, code, default_hint = 405, "method_not_allowed", "Check the method and path against /openapi.json"


class IdempotencyInProgress(ApiError):
    status, code, default_hint = (
        409,
        "idempotency_in_progress",
        "Retry after the first request with this key finishes",
    )


class IdempotencyKeyReused(ApiError):
    status, code = 422, "idempotency_key_reused"
    default_hint = "Use a new Idempotency-Key for a different request"


class RequestTooLarge(ApiError):
    status, code, default_hint = 413, "request_too_large", "Send a smaller body"


class ServiceUnavailable(ApiError):
    status, code, default_hint = 503, "service_unavailable", "Retry after the time in Retry-After"


class WebhookEndpointNotFound(ApiError):
    status, code, default_hint = (
        404,
        "webhook_endpoint_not_found",
        "Check the endpoint id (GET /v1/webhook_endpoints lists yours)",
    )


class WebhookEndpointLimitReached(ApiError):
    status, code, default_hint = (
        400,
        "webhook_endpoint_limit_reached",
        "Delete an endpoint you no longer use, or send more event types to one endpoint",
    )


class WebhookDeliveryNotFound(ApiError):
    status, code, default_hint = (
        404,
        "webhook_delivery_not_found",
        "Check the delivery id (GET /v1/webhook_endpoints/{id}/deliveries lists the endpoint's)",
    )


class WebhookTestFailed(ApiError):
    """A test event that got no answer from the endpoint (refused, unreachable, too slow)."""

    status, code, default_hint = (
        400,
        "webhook_test_failed",
        "Check that the endpoint's URL is reachable from the service and answers within 10 s",
    )
