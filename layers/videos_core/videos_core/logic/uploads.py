"""Uploading a reference image straight to storage: the service signs a PUT of exactly the bytes
announced, and a create then names the upload's id. What arrived is checked when it is used."""

from __future__ import annotations

from videos_core.ids import new_file_id
from videos_core.models.api import CreateUploadRequest, Upload
from videos_core.ports import UploadStore

# Uploads are kept a day (the bucket's lifecycle rule on uploads/).
KEPT_SECONDS = 86_400


def create_upload(
    owner: str, request: CreateUploadRequest, store: UploadStore, ttl_seconds: int, now: int
) -> Upload:
    file_id = new_file_id()
    url = store.presign_upload(owner, file_id, request.mime_type, request.bytes, ttl_seconds)
    return Upload(
        id=file_id,
        filename=request.filename,
        bytes=request.bytes,
        mime_type=request.mime_type,
        created_at=now,
        expires_at=now + ttl_seconds,
        upload_url=url,
        upload_headers={"Content-Type": request.mime_type, "Content-Length": str(request.bytes)},
    )
