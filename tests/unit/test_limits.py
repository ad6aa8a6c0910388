"""The inputs the service accepts are inputs AWS can deliver to it."""

from __future__ import annotations

import base64

from local.serve.limits import HTTP_API_MAX_BODY_BYTES, LAMBDA_MAX_REQUEST_BYTES
from videos_core.http import MAX_JSON_BYTES, MAX_MULTIPART_BYTES, MAX_REFERENCE_BYTES

# API Gateway HTTP API's quota on the request line and headers together, and what the event's own
# fields (request context, route, ids) take beside them.
HEADERS_BYTES = 10 * 1024
EVENT_FIELDS_BYTES = 4 * 1024


def test_the_largest_accepted_multipart_body_fits_a_lambda_event_once_base64_encoded() -> None:
    encoded = len(base64.b64encode(b"\0" * MAX_MULTIPART_BYTES))

    assert encoded + HEADERS_BYTES + EVENT_FIELDS_BYTES <= LAMBDA_MAX_REQUEST_BYTES
    assert MAX_MULTIPART_BYTES <= HTTP_API_MAX_BODY_BYTES


def test_a_reference_image_leaves_room_for_the_other_fields_and_a_json_body_is_small() -> None:
    assert MAX_REFERENCE_BYTES < MAX_MULTIPART_BYTES
    assert MAX_JSON_BYTES * 2 < LAMBDA_MAX_REQUEST_BYTES  # JSON with every character escaped
