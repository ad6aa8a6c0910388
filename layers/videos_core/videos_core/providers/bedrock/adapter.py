"""Amazon Bedrock's asynchronous invocations, through boto3's bedrock-runtime client signed with the
function's own role (no key).

Create: `StartAsyncInvoke` with the model's `modelInput` (Luma Ray 2: `prompt`, `aspect_ratio`,
`duration` "5s" or "9s", `resolution`, `loop`), `outputDataConfig.s3OutputDataConfig.s3Uri` under
OUTPUT_PREFIX of this stack's own bucket, and a `clientRequestToken` made from the job's idempotency
key (a repeat of the create is no second invocation). The job's id is the `invocationArn`. Status:
`GetAsyncInvoke`: InProgress, Completed, Failed with `failureMessage`. The output is the MP4 Bedrock
wrote at `<s3Uri>/<invocation id>/output.mp4`, copied within the bucket by S3 itself (`stored_video`),
never through the function. Errors are botocore's: ValidationException (400), AccessDeniedException
(403), ResourceNotFoundException (404), ThrottlingException and ServiceQuotaExceededException (a 429
here), InternalServerException and ServiceUnavailableException (retryable).
"""

from __future__ import annotations

import hashlib
import re
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from videos_core.adapters import aws
from videos_core.adapters.upstream_calls import Bounded, StreamedContent, status_error
from videos_core.catalog import Entry
from videos_core.errors import UpstreamErrorInfo, UpstreamRetryableError
from videos_core.models.api import VideoError
from videos_core.ports import UpstreamCreate, UpstreamJob, VariantNotOfferedError
from videos_core.providers.bedrock import OUTPUT_PREFIX, RAY2_RATIOS
from videos_core.sizes import named

# Bedrock's errors as the HTTP statuses the contract's mapping takes.
_STATUSES = {"ThrottlingException": 429, "ServiceQuotaExceededException": 429}
# Which of the contract's parameters a validation message is about, by the modelInput field it names.
_PARAMS = {"prompt": "prompt", "duration": "seconds", "aspect_ratio": "size", "resolution": "size"}
_REGION_IN_HOST = re.compile(r"^bedrock-runtime(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com$")
_OUTPUT_FILE = "output.mp4"


def region_of(base_url: str) -> str | None:
    """The AWS region of Bedrock's own endpoint; None elsewhere (the function's own region applies)."""
    found = _REGION_IN_HOST.match(urlsplit(base_url).hostname or "")
    return found.group(1) if found else None


def request_token(idempotency_key: str | None) -> str | None:
    """A clientRequestToken (letters, digits and hyphens only) standing for the job's idempotency key."""
    return None if idempotency_key is None else hashlib.sha256(idempotency_key.encode()).hexdigest()


def ray2_input(model: str, prompt: str, seconds: str, size: str) -> dict[str, Any]:
    """Luma Ray 2's modelInput for a create whose size and length its profile took."""
    aspect_ratio, resolution = named(size, model, RAY2_RATIOS)
    return {
        "prompt": prompt,
        "aspect_ratio": aspect_ratio,
        "duration": f"{seconds}s",
        "resolution": resolution,
        "loop": False,
    }


class BedrockUpstream(Bounded):
    def _runtime(self, entry: Entry) -> Any:
        client = self.clients.get(entry.base_url)
        if client is None:
            timeout = self._settings.upstream_timeout_seconds
            client = aws.bedrock_runtime(entry.base_url, region_of(entry.base_url), timeout)
            self.clients[entry.base_url] = client
        return client

    def _call(self, entry: Entry, operation: str, **params: Any) -> dict[str, Any]:
        self._timeout()  # none started past the caller's deadline
        try:
            answer: dict[str, Any] = getattr(self._runtime(entry), operation)(**params)
        except ClientError as e:
            raise _error(e) from e
        except BotoCoreError as e:
            raise UpstreamRetryableError("Amazon Bedrock could not be reached.") from e
        return answer

    def create(self, request: UpstreamCreate) -> UpstreamJob:
        entry = self.route(request.model)
        bucket = self._settings.assets_bucket
        params: dict[str, Any] = {
            "modelId": entry.upstream_model,
            "modelInput": ray2_input(request.model, request.prompt, request.seconds, request.size),
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": f"s3://{bucket}/{OUTPUT_PREFIX}"}},
        }
        token = request_token(request.idempotency_key)
        if token is not None:
            params["clientRequestToken"] = token
        started = self._call(entry, "start_async_invoke", **params)
        arn = started.get("invocationArn")
        if not isinstance(arn, str) or not arn:
            raise UpstreamRetryableError("Amazon Bedrock answered without an invocation ARN.")
        return UpstreamJob(id=arn, status="queued", progress=0)

    def _invocation(self, model: str, arn: str) -> dict[str, Any]:
        invocation = self._call(self.route(model), "get_async_invoke", invocationArn=arn)
        if invocation.get("status") not in ("InProgress", "Completed", "Failed"):
            raise UpstreamRetryableError("Amazon Bedrock answered with a malformed invocation.")
        return invocation

    def retrieve(self, model: str, upstream_id: str) -> UpstreamJob:
        invocation = self._invocation(model, upstream_id)
        status = invocation["status"]
        if status == "InProgress":
            # Bedrock reports no progress.
            return UpstreamJob(id=upstream_id, status="in_progress", progress=0)
        if status == "Completed":
            return UpstreamJob(id=upstream_id, status="completed", progress=100)
        return UpstreamJob(upstream_id, "failed", 0, _failure(invocation))

    def stored_video(self, model: str, upstream_id: str) -> str | None:
        """The key in this stack's bucket of the MP4 Bedrock wrote for a completed invocation."""
        invocation = self._invocation(model, upstream_id)
        uri = invocation.get("outputDataConfig", {}).get("s3OutputDataConfig", {}).get("s3Uri")
        if invocation["status"] != "Completed" or not isinstance(uri, str):
            raise UpstreamRetryableError("Amazon Bedrock's invocation has no output yet.")
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        if bucket != self._settings.assets_bucket or not prefix.startswith(OUTPUT_PREFIX):
            raise UpstreamRetryableError(
                f"Amazon Bedrock wrote its output outside {OUTPUT_PREFIX}/ of the bucket."
            )
        # Bedrock names the invocation's own folder in the URI it answers; the URI given holds it.
        invocation_id = upstream_id.rsplit("/", 1)[-1]
        folder = prefix.rstrip("/")
        if not folder.endswith(f"/{invocation_id}"):
            folder = f"{folder}/{invocation_id}"
        return f"{folder}/{_OUTPUT_FILE}"

    def open_content(
        self, _model: str, _upstream_id: str, variant: str
    ) -> AbstractContextManager[StreamedContent]:
        """Nothing is downloaded: Bedrock writes the video into this stack's bucket (`stored_video`)."""
        raise VariantNotOfferedError(variant)

    def delete(self, model: str, upstream_id: str) -> None:
        """Bedrock offers no way to stop an invocation: it runs to its end (and its output expires)."""


def _error(error: ClientError) -> Exception:
    """The contract's error for what Bedrock answered."""
    details = error.response.get("Error", {})
    code = str(details.get("Code") or "")
    message = str(details.get("Message") or code or "Amazon Bedrock refused the call.")
    status = _STATUSES.get(code) or int(
        error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 500
    )
    headers = error.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    kind = "invalid_request_error" if status == 400 else "upstream_error"
    param = (
        next((name for field, name in _PARAMS.items() if field in message), None) if status == 400 else None
    )
    return status_error(
        status, UpstreamErrorInfo(type=kind, code=code or None, message=message), param, headers
    )


def _failure(invocation: dict[str, Any]) -> VideoError:
    reason = str(invocation.get("failureMessage") or "The invocation failed.")
    # Bedrock's content filters blocked the input or the output.
    moderated = "content filter" in reason.lower() or "moderation" in reason.lower()
    return VideoError(code="moderation_blocked" if moderated else "video_generation_failed", message=reason)
