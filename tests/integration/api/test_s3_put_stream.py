"""S3AssetStore.put_stream against moto: a file within a part in one request, a larger one in parts of
exactly 8 MiB whatever the chunks, the object equal to the stream, and nothing left behind when the
stream breaks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from videos_core.adapters.s3 import PART_BYTES, S3AssetStore

BUCKET = "put-stream-test"
MIB = 1024 * 1024


class RecordingS3:
    """The S3 client, noting the size of each part and each whole object uploaded through it."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.parts: list[int] = []
        self.puts: list[int] = []

    def put_object(self, **request: Any) -> Any:
        self.puts.append(len(request["Body"]))
        return self.client.put_object(**request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def upload_part(self, **request: Any) -> Any:
        self.parts.append(len(request["Body"]))
        return self.client.upload_part(**request)


@pytest.fixture
def store() -> Iterator[tuple[S3AssetStore, Any]]:
    with mock_aws():
        s3 = RecordingS3(boto3.client("s3", region_name="us-east-1"))
        s3.create_bucket(Bucket=BUCKET)
        yield S3AssetStore(s3, BUCKET), s3  # type: ignore[arg-type]


def put_and_check(store: tuple[S3AssetStore, Any], chunk_sizes: list[int]) -> Any:
    """Streams chunks of these sizes in; the object is what was sent, typed and encrypted. The client."""
    assets, s3 = store
    chunks = [os.urandom(size) for size in chunk_sizes]

    size = assets.put_stream("videos/o/v/video.mp4", iter(chunks), "video/mp4")

    body = s3.get_object(Bucket=BUCKET, Key="videos/o/v/video.mp4")
    assert size == sum(chunk_sizes)
    assert body["Body"].read() == b"".join(chunks)
    assert (body["ContentType"], body["ServerSideEncryption"]) == ("video/mp4", "AES256")
    return s3


@pytest.mark.parametrize(
    "chunk_sizes",
    [
        [MIB] * 8,  # exactly one part
        [MIB] * 17,  # two whole parts and a rest
        [3 * MIB, 7 * MIB + 1, 5, 9 * MIB, 1],  # chunks across part boundaries
        [20 * MIB],  # one chunk larger than two parts
    ],
)
def test_a_file_past_a_part_is_uploaded_in_whole_parts(
    store: tuple[S3AssetStore, Any], chunk_sizes: list[int]
) -> None:
    s3 = put_and_check(store, chunk_sizes)

    whole, rest = divmod(sum(chunk_sizes), PART_BYTES)
    assert s3.parts == [PART_BYTES] * whole + ([rest] if rest else [])
    assert s3.puts == []


@pytest.mark.parametrize(
    "chunk_sizes",
    [
        [MIB] * 7 + [MIB - 1],  # a byte short of a part
        [5, 100_000, 3],
        [],  # nothing: an empty object
    ],
)
def test_a_file_within_a_part_is_one_request(store: tuple[S3AssetStore, Any], chunk_sizes: list[int]) -> None:
    s3 = put_and_check(store, chunk_sizes)

    assert (s3.puts, s3.parts) == ([sum(chunk_sizes)], [])


def test_a_broken_stream_leaves_no_upload(store: tuple[S3AssetStore, Any]) -> None:
    assets, s3 = store

    def broken() -> Iterator[bytes]:
        yield os.urandom(9 * MIB)
        raise ConnectionError("cut")

    with pytest.raises(ConnectionError):
        assets.put_stream("videos/o/v/video.mp4", broken(), "video/mp4")

    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_uploads_left_by_a_crashed_attempt_are_aborted(store: tuple[S3AssetStore, Any]) -> None:
    assets, s3 = store
    for key in ("videos/o/v/video.mp4", "videos/o/v/thumbnail.jpg", "videos/o/other/video.mp4"):
        s3.create_multipart_upload(Bucket=BUCKET, Key=key)

    assert assets.abort_uploads("videos/o/v/") == 2

    left = s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
    assert [upload["Key"] for upload in left] == ["videos/o/other/video.mp4"]
