"""The one backoff schedule: the seed's 5, 10, 15, 20, 20, … seconds, shortened by a scale."""

from __future__ import annotations

FIRST_SECONDS = 5.0
STEP_SECONDS = 5.0
CAP_SECONDS = 20.0


def wait_seconds(attempt: int, scale: float = 1.0) -> float:
    """The wait before status check number `attempt + 1` (attempt 0 is the wait after the first check)."""
    if attempt < 0:
        raise ValueError("attempt must be >= 0")
    return min(FIRST_SECONDS + STEP_SECONDS * attempt, CAP_SECONDS) * scale


def schedule(checks: int, scale: float = 1.0) -> list[float]:
    return [wait_seconds(attempt, scale) for attempt in range(checks)]
