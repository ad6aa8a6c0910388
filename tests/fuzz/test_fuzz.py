"""Schemathesis against `serve`, from /openapi.json: whatever it sends, no 5xx (but the contract's 504
on a spent poll) and every error in the contract's shape. FUZZ_EXAMPLES sets the examples per
operation (`make fuzz` runs a long campaign); the tally is printed."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.schemas import BaseSchema

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
ERROR_FIELDS = {"statusCode", "timestamp", "path", "message", "error_code", "hint", "request_id", "error"}


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    """Valid creates fail fast upstream instead of rendering video, so a campaign stays cheap."""
    if isinstance(body, dict) and isinstance(body.get("prompt"), str):
        body["prompt"] = body["prompt"][:480] + " [fail]"
    return body


# What the HTTP server answers a message that is not valid HTTP (a header value with a control
# character, say): it never reaches the API, as API Gateway's edge refuses it before any route.
NOT_HTTP = (400, "Invalid HTTP request received.")


def check(case: Any, key: str, tally: Counter[str]) -> None:
    response = case.call(headers={"Authorization": f"Bearer {key}"}, timeout=60)
    if (response.status_code, response.text) == NOT_HTTP:
        tally[f"{case.method} {case.path} → not HTTP, refused by the server"] += 1
        return
    tally[f"{case.method} {case.path} → {response.status_code}"] += 1
    assert response.status_code < 500 or (response.status_code == 504 and case.path.endswith("/poll")), (
        case.as_curl_command(),
        response.text,
    )
    if response.status_code >= 400:
        body = response.json()
        assert set(body) >= ERROR_FIELDS, (case.as_curl_command(), body)
        assert body["error"]["code"] == body["error_code"]
        assert body["statusCode"] == response.status_code


def test_no_input_breaks_the_service(api_schema: BaseSchema, fuzz_key: str) -> None:
    tally: Counter[str] = Counter()
    operations = [result.ok() for result in api_schema.get_all_operations()]
    for operation in operations:
        for mode in GenerationMode:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
            )
            def fuzz(case: Any) -> None:
                check(case, fuzz_key, tally)

            try:
                fuzz()
            except Unsatisfiable:
                # An operation with nothing to get wrong (no parameters, no body) has no negative cases.
                assert mode is GenerationMode.NEGATIVE
    print(f"\nfuzzed {sum(tally.values())} requests:")
    for line, count in sorted(tally.items()):
        print(f"  {count:5d}  {line}")
    assert sum(tally.values()) >= 10 * len(operations)
