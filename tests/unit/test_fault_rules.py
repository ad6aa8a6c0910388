from __future__ import annotations

import pytest

from local.engine.faults import FaultBook, FaultKind, FaultSpecError, parse_fault


def test_a_fault_is_used_up_by_matching_requests_only() -> None:
    book = FaultBook()
    book.arm(
        parse_fault({"kind": "status", "status": 503, "method": "get", "path": "/v1/videos/*", "times": 2})
    )

    assert book.take("POST", "/v1/videos") is None
    assert book.take("GET", "/v1/videos") is None
    first = book.take("GET", "/v1/videos/video_1")
    assert first is not None
    assert (first.kind, first.status, first.retry_after) == (FaultKind.STATUS, 503, 1)
    assert book.take("GET", "/v1/videos/video_1/content") is not None
    assert book.take("GET", "/v1/videos/video_1") is None


def test_faults_apply_in_the_order_they_were_armed() -> None:
    book = FaultBook()
    book.arm(parse_fault({"kind": "reset"}))
    book.arm(parse_fault({"kind": "malformed"}))

    kinds = [fault.kind for fault in (book.take("GET", "/a"), book.take("GET", "/b")) if fault]

    assert kinds == [FaultKind.RESET, FaultKind.MALFORMED]


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"kind": "explode"},
        {"times": 0},
        {"times": True},
        {"status": 302},
        {"seconds": "1"},
        {"x": 1},
    ],
)
def test_invalid_specs_are_refused(body: object) -> None:
    with pytest.raises(FaultSpecError):
        parse_fault(body)
