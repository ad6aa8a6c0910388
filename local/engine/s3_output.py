"""Where Bedrock writes an asynchronous invocation's output, and the write itself.

StartAsyncInvoke names an S3 location (`outputDataConfig.s3OutputDataConfig`: `s3Uri`, and a
`kmsKeyId` and a `bucketOwner` that may be left out). Bedrock makes a folder there named after the
invocation's id and writes the video into it as `output.mp4` (the Amazon Nova User Guide, "Video
generation access and usage": "Amazon Nova creates a folder for each invocation ID. This folder
contains the manifest.json and output.mp4 files"); GetAsyncInvoke's `s3Uri` then names that folder,
and AWS's own example reads the video at `{s3Uri}/output.mp4` (aws-doc-sdk-examples,
bedrock-runtime/models/amazon_nova/amazon_nova_reel/text_to_video.py). Here only the video is
written: `s3://bucket/prefix/<id>/output.mp4` for an `s3Uri` of `s3://bucket/prefix`.

The engine writes into the local AWS endpoint with the observer's key, so that the write is neither
faulted nor counted among the calls the service makes. boto3 is imported at the first write: an
engine that never writes starts without it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# AsyncInvokeS3OutputDataConfig.s3Uri's pattern in the service model.
S3_URI = re.compile(r"s3://[a-z0-9][\.\-a-z0-9]{1,61}[a-z0-9](/.*)?")
OUTPUT_FILE = "output.mp4"


@dataclass(frozen=True)
class S3Output:
    uri: str  # as given: s3://bucket or s3://bucket/prefix
    kms_key_id: str | None = None
    bucket_owner: str | None = None

    @property
    def bucket(self) -> str:
        return self.uri.removeprefix("s3://").split("/", 1)[0]

    def folder(self, invocation_id: str) -> str:
        """The invocation's folder, as GetAsyncInvoke names it: `s3://bucket[/prefix]/<id>`."""
        return f"{self.uri.rstrip('/')}/{invocation_id}"

    def key(self, invocation_id: str) -> str:
        """The video's object key."""
        prefix = self.uri.removeprefix("s3://").partition("/")[2].strip("/")
        return "/".join(part for part in (prefix, invocation_id, OUTPUT_FILE) if part)


class OutputNotWrittenError(Exception):
    """S3 refused the write (no such bucket, access denied, …) or could not be reached."""


class S3Writer:
    """Writes outputs into the S3 at `endpoint`, with a client per region (made at its first write)."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._clients: dict[str, S3Client] = {}
        self._lock = threading.Lock()

    def write(self, region: str, output: S3Output, invocation_id: str, video: Path) -> None:
        """Puts the video at its key; blocking (run it in a thread)."""
        from botocore.exceptions import BotoCoreError, ClientError

        extra: dict[str, str] = {}
        if output.bucket_owner:
            extra["ExpectedBucketOwner"] = output.bucket_owner
        if output.kms_key_id:
            extra |= {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": output.kms_key_id}
        try:
            self._client(region).put_object(
                Bucket=output.bucket,
                Key=output.key(invocation_id),
                Body=video.read_bytes(),
                ContentType="video/mp4",
                **extra,  # type: ignore[arg-type]
            )
        except ClientError as e:
            error = e.response.get("Error", {})
            raise OutputNotWrittenError(
                f"{error.get('Code', 'Error')}: {error.get('Message', str(e))}"
            ) from e
        except BotoCoreError as e:
            raise OutputNotWrittenError(str(e)) from e

    def _client(self, region: str) -> S3Client:
        with self._lock:
            if region not in self._clients:
                import boto3
                from botocore.config import Config

                from local.serve.aws_faults import OBSERVER_KEY
                from local.serve.credentials import SECRET_KEY

                self._clients[region] = boto3.client(
                    "s3",
                    endpoint_url=self.endpoint,
                    region_name=region,
                    aws_access_key_id=OBSERVER_KEY,
                    aws_secret_access_key=SECRET_KEY,
                    config=Config(retries={"total_max_attempts": 2}, connect_timeout=5, read_timeout=30),
                )
            return self._clients[region]
