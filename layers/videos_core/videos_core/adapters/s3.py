"""Finished videos in the organisation's bucket: streamed in constant memory (one request for a file
within a part, a multipart upload past it), handed out as short-lived presigned URLs."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from videos_core.adapters.aws import error_of
from videos_core.errors import ServiceUnavailable, UpstreamFileUnusable

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


# S3's smallest part (but the last); one part is all a copy holds in memory.
PART_BYTES = 8 * 1024 * 1024
# The largest object one CopyObject copies.
MAX_COPY_BYTES = 5 * 1024**3


class S3AssetStore:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def presign(self, key: str, content_type: str, filename: str, ttl_seconds: int) -> str:
        return self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": key,
                "ResponseContentType": content_type,
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
            },
            ExpiresIn=ttl_seconds,
        )

    def put_stream(
        self, key: str, chunks: Iterator[bytes], content_type: str, on_part: Callable[[], None] = lambda: None
    ) -> int:
        """Uploads `chunks` as `key`: in one PutObject when they fit in a part, else part by part
        (`on_part` is called before each request that sends data); a failed multipart upload is
        aborted (no parts are left)."""
        try:
            return self._put_stream(key, chunks, content_type, on_part)
        except (ClientError, BotoCoreError) as e:
            raise error_of(e, "The bucket") from e

    def _put_stream(
        self, key: str, chunks: Iterator[bytes], content_type: str, on_part: Callable[[], None]
    ) -> int:
        # Chunks wait in a list and are joined once per part: one copy of each byte, at most a part
        # and a chunk held at a time.
        pending: list[bytes] = []
        pending_size = 0
        for chunk in chunks:
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size >= PART_BYTES:
                return self._put_parts(key, b"".join(pending), chunks, content_type, on_part)
        # A file within one part goes up in one request.
        on_part()
        self._client.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=b"".join(pending),
            ContentType=content_type,
            ServerSideEncryption="AES256",
        )
        return pending_size

    def _put_parts(
        self, key: str, head: bytes, chunks: Iterator[bytes], content_type: str, on_part: Callable[[], None]
    ) -> int:
        """A file larger than a part, by multipart upload: `head` first, then the rest of `chunks`."""
        upload = self._client.create_multipart_upload(
            Bucket=self._bucket, Key=key, ContentType=content_type, ServerSideEncryption="AES256"
        )
        upload_id = upload["UploadId"]
        parts: list[dict[str, Any]] = []
        size = 0
        try:
            pending: list[bytes] = []
            pending_size = 0
            for chunk in itertools.chain([head], chunks):
                pending.append(chunk)
                pending_size += len(chunk)
                size += len(chunk)
                if pending_size >= PART_BYTES:
                    data = b"".join(pending)
                    for start in range(0, len(data) - PART_BYTES + 1, PART_BYTES):
                        on_part()
                        self._upload_part(key, upload_id, parts, data[start : start + PART_BYTES])
                    rest = data[len(data) - len(data) % PART_BYTES :]
                    pending, pending_size = ([rest] if rest else []), len(rest)
            if pending:
                on_part()
                self._upload_part(key, upload_id, parts, b"".join(pending))
            self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
            )
        except BaseException:
            # What failed is what the caller learns of, not a failed abort (the next attempt aborts it).
            with contextlib.suppress(ClientError, BotoCoreError):
                self._client.abort_multipart_upload(Bucket=self._bucket, Key=key, UploadId=upload_id)
            raise
        return size

    def abort_uploads(self, prefix: str) -> int:
        """Aborts the multipart uploads left under `prefix` by an attempt that died mid-copy; their count."""
        try:
            return self._abort_uploads(prefix)
        except (ClientError, BotoCoreError) as e:
            raise error_of(e, "The bucket") from e

    def _abort_uploads(self, prefix: str) -> int:
        aborted = 0
        for page in self._client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self._bucket, Prefix=prefix
        ):
            for upload in page.get("Uploads", []):
                self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
                aborted += 1
        return aborted

    def _upload_part(self, key: str, upload_id: str, parts: list[dict[str, Any]], body: bytes) -> None:
        number = len(parts) + 1
        response = self._client.upload_part(
            Bucket=self._bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
        )
        parts.append({"PartNumber": number, "ETag": response["ETag"]})

    def read(self, key: str) -> Iterator[bytes]:
        """An object's bytes, a part at a time."""
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=key)["Body"]
            with contextlib.closing(body):
                yield from body.iter_chunks(PART_BYTES)
        except (ClientError, BotoCoreError) as e:
            raise error_of(e, "The bucket") from e

    def copy_within(self, source: str, key: str, content_type: str) -> int:
        """Copies `source` to `key` within the bucket, by S3 itself (nothing passes through here); the
        copy's size. A file past CopyObject's 5 GiB is not what any provider makes, and is refused."""
        try:
            size = self._client.head_object(Bucket=self._bucket, Key=source)["ContentLength"]
            if size > MAX_COPY_BYTES:
                raise UpstreamFileUnusable(
                    f"The provider's file is {size} bytes, past the {MAX_COPY_BYTES} a copy takes."
                )
            self._client.copy_object(
                Bucket=self._bucket,
                Key=key,
                CopySource={"Bucket": self._bucket, "Key": source},
                MetadataDirective="REPLACE",
                ContentType=content_type,
                ServerSideEncryption="AES256",
            )
        except (ClientError, BotoCoreError) as e:
            raise error_of(e, "The bucket") from e
        return size

    def delete(self, keys: list[str]) -> None:
        if not keys:
            return
        try:
            response = self._client.delete_objects(
                Bucket=self._bucket, Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True}
            )
        except (ClientError, BotoCoreError) as e:
            raise error_of(e, "The bucket") from e
        if response.get("Errors"):
            raise ServiceUnavailable(f"The bucket kept some files: {response['Errors']}", retry_after=1)
