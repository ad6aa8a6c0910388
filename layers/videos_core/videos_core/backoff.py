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


def informed_wait_seconds(attempt: int, scale: float, progress: int, elapsed: float) -> float:
    """The wait before the next check once the upstream reports progress: the time its rate so far
    says is left (at most the schedule's cap), so a job is looked at about when it ends rather than on
    every step of the schedule; the schedule's own wait while there is no rate to go by."""
    if not 0 < progress < 100 or elapsed <= 0:
        return wait_seconds(attempt, scale)
    return min(elapsed * (100 - progress) / progress, CAP_SECONDS * scale)


def schedule(checks: int, scale: float = 1.0) -> list[float]:
    return [wait_seconds(attempt, scale) for attempt in range(checks)]
