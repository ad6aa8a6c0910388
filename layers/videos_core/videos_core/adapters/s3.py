"""Finished videos in the organisation's bucket, handed out as short-lived presigned URLs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


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

    def delete(self, keys: list[str]) -> None:
        if not keys:
            return
        try:
            response = self._client.delete_objects(
                Bucket=self._bucket, Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True}
            )
        except ClientError as e:
            raise RuntimeError(f"could not delete {keys}: {e}") from e
        if response.get("Errors"):
            raise RuntimeError(f"could not delete objects: {response['Errors']}")
