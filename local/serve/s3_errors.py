"""S3's error answers: an XML document of the error's Code, Message, the fields that error carries,
and the request's ids, which come in headers too. S3 answers a HEAD with the status and headers alone."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable
from xml.sax.saxutils import escape

Headers = list[tuple[str, str]]


def s3_error(
    code: str, message: str, fields: Iterable[tuple[str, str]] = (), *, head: bool = False
) -> tuple[Headers, bytes]:
    request_id = secrets.token_hex(8).upper()
    host_id = base64.b64encode(secrets.token_bytes(48)).decode()
    elements = [("Code", code), ("Message", message), *fields, ("RequestId", request_id), ("HostId", host_id)]
    xml = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in elements)
    body = b"" if head else f'<?xml version="1.0" encoding="UTF-8"?>\n<Error>{xml}</Error>'.encode()
    headers = [
        ("Content-Type", "application/xml"),
        ("x-amz-request-id", request_id),
        ("x-amz-id-2", host_id),
    ]
    return headers, body
