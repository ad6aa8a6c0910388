"""Reference images uploaded straight to the bucket (a presigned PUT), for those larger than what a
request body can carry to a function. Each is kept under its owner's hash (an owner's name stays out
of keys and URLs), so another owner's file id finds nothing."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from videos_core.errors import InvalidRequest, RequestTooLarge, ServiceUnavailable
from videos_core.images import image_type
from videos_core.models.api import MAX_UPLOAD_BYTES
from videos_core.ports import Reference

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PREFIX = "uploads/"


def upload_key(owner: str, file_id: str) -> str:
    return f"{PREFIX}{hashlib.sha256(owner.encode()).hexdigest()[:32]}/{file_id}"


class S3UploadStore:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def presign_upload(self, owner: str, file_id: str, content_type: str, size: int, ttl_seconds: int) -> str:
        """A URL to PUT exactly `size` bytes of `content_type` to, until it expires."""
        return self._client.generate_presigned_url(
            "put_object",
            Params={
                "Bucket": self._bucket,
                "Key": upload_key(owner, file_id),
                "ContentType": content_type,
                "ContentLength": size,
            },
            ExpiresIn=ttl_seconds,
        )

    def reference(self, owner: str, file_id: str) -> Reference:
        """The uploaded image, its type told by its bytes; InvalidRequest while nothing of this owner's is
        there (or it is not an image)."""
        try:
            found = self._client.get_object(Bucket=self._bucket, Key=upload_key(owner, file_id))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise InvalidRequest(
                    f"No upload {file_id} of yours has arrived: PUT its bytes to its upload_url first.",
                    param="input_reference",
                ) from e
            raise ServiceUnavailable("The upload could not be read; try again.", retry_after=1) from e
        except BotoCoreError as e:
            raise ServiceUnavailable("The upload could not be read; try again.", retry_after=1) from e
        body = found["Body"]
        try:
            if found["ContentLength"] > MAX_UPLOAD_BYTES:
                raise RequestTooLarge(
                    f"Upload {file_id} is {found['ContentLength']:,} bytes; at most {MAX_UPLOAD_BYTES:,}.",
                    param="input_reference",
                )
            content = body.read()
        finally:
            body.close()
        return Reference(filename=file_id, content=content, content_type=image_type(content))
