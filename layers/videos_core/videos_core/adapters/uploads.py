"""Files uploaded straight to the bucket (a presigned PUT), for those larger than what a request body
can carry to a function: reference images, and the videos edits and extensions start from. Each is
kept under its owner's hash (an owner's name stays out of keys and URLs), so another owner's file id
finds nothing."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from videos_core.adapters.aws import missing_object
from videos_core.errors import InvalidRequest, RequestTooLarge, ServiceUnavailable
from videos_core.images import image_type
from videos_core.models.api import MAX_UPLOAD_BYTES, MAX_VIDEO_UPLOAD_BYTES
from videos_core.mp4 import mp4_type
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
        content = self._read(owner, file_id, "input_reference", MAX_UPLOAD_BYTES)
        return Reference(filename=file_id, content=content, content_type=image_type(content))

    def video(self, owner: str, file_id: str) -> Reference:
        """The uploaded MP4 an edit or an extension starts from, told by its bytes."""
        content = self._read(owner, file_id, "video", MAX_VIDEO_UPLOAD_BYTES)
        return Reference(filename=f"{file_id}.mp4", content=content, content_type=mp4_type(content))

    def _read(self, owner: str, file_id: str, param: str, limit: int) -> bytes:
        try:
            found = self._client.get_object(Bucket=self._bucket, Key=upload_key(owner, file_id))
        except ClientError as e:
            if missing_object(e):
                raise InvalidRequest(
                    f"No upload {file_id} of yours has arrived: PUT its bytes to its upload_url first.",
                    param=param,
                ) from e
            raise ServiceUnavailable("The upload could not be read; try again.", retry_after=1) from e
        except BotoCoreError as e:
            raise ServiceUnavailable("The upload could not be read; try again.", retry_after=1) from e
        body = found["Body"]
        try:
            if found["ContentLength"] > limit:
                raise RequestTooLarge(
                    f"Upload {file_id} is {found['ContentLength']:,} bytes; at most {limit:,}.", param=param
                )
            return body.read()
        finally:
            body.close()
