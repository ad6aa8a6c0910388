"""Every failed AWS call becomes a domain error at its adapter: a busy or failing service a retryable
503, anything else an internal error — never a raw ClientError for the routes or the state machine."""

from __future__ import annotations

import httpx2
import openai
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from local.serve.application import rate_seconds
from videos_core.adapters.aws import error_of
from videos_core.adapters.upstream_calls import never_sent
from videos_core.errors import ApiError, ServiceUnavailable


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Call")  # type: ignore[typeddict-item]


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ProvisionedThroughputExceededException", 400),
        ("ThrottlingException", 400),
        ("TransactionConflictException", 400),
        ("SlowDown", 503),
        ("InternalError", 500),
        ("TooManyRequestsException", 429),
    ],
)
def test_a_busy_service_is_a_retryable_503(code: str, status: int) -> None:
    error = error_of(client_error(code, status), "The job store")

    assert isinstance(error, ServiceUnavailable)
    assert (error.status, error.retry_after) == (503, 1)


def test_an_unreachable_service_is_a_retryable_503() -> None:
    error = error_of(EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), "The bucket")

    assert isinstance(error, ServiceUnavailable)


def test_a_refusal_is_an_internal_error_not_a_retry() -> None:
    error = error_of(client_error("AccessDeniedException", 400), "The workflow service")

    assert type(error) is ApiError
    assert error.status == 500
    assert "AccessDeniedException" in error.message


def test_only_a_request_that_never_left_may_be_sent_again() -> None:
    request = httpx2.Request("POST", "http://127.0.0.1:9/v1/videos")
    refused = openai.APIConnectionError(request=request)
    refused.__cause__ = httpx2.ConnectError("refused")
    cut = openai.APIConnectionError(request=request)
    cut.__cause__ = httpx2.ReadError("reset")

    assert never_sent(refused.__cause__) is True
    assert never_sent(cut.__cause__) is False


def test_schedules_are_read_from_their_rate_expressions() -> None:
    assert rate_seconds("rate(5 minutes)") == 300
    assert rate_seconds("rate(1 hour)") == 3600
    with pytest.raises(ValueError, match="rate"):
        rate_seconds("cron(0 12 * * ? *)")
