"""How much of Step Functions' execution history a job's polling loop uses, so that the loop ends
the job (as timed out) before the execution would be cut off at the history limit.

Each status check adds a known number of events: the CheckStatus task's five (entered, scheduled,
started, succeeded, exited), the Choice's two and the Wait's two; each retry of the task three more
(failed, scheduled, started). The state machine hands CheckStatus the running total and the task's
retry count ($$.State.RetryCount), so the total is an upper bound of the history, checked at every loop.
The execution's first few events (its start, the Start state and the wait before the first check)
are within END_RESERVE.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# A Standard execution fails at 25,000 history events.
HISTORY_LIMIT = 25_000
EVENTS_PER_CHECK = 9
EVENTS_PER_RETRY = 3
# StoreAssets' Retry MaxAttempts in the definition (a test keeps them agreeing).
STORE_RETRIES = 8
# A visit to StoreAssets that finds the job claimed by another: its task (5 events, and up to
# STORE_RETRIES retries of 3) and the Choice after it (2).
EVENTS_PER_STORE_VISIT = 5 + STORE_RETRIES * EVENTS_PER_RETRY + 2
# What a job's end may add after the last check: StoreAssets with its retries, an ending with its
# retries, the forced path and its counting; and the visits to StoreAssets that found the job claimed.
END_RESERVE = 1_000
LOOP_BUDGET = HISTORY_LIMIT - END_RESERVE


@dataclass(frozen=True)
class Spent:
    events: int

    def storing(self) -> Spent:
        """With the StoreAssets visit that follows a `completed` check counted in advance."""
        return Spent(self.events + EVENTS_PER_STORE_VISIT)

    @property
    def exhausted(self) -> bool:
        """No room for another loop within the budget."""
        return self.events + EVENTS_PER_CHECK > LOOP_BUDGET


def budget_spent(history: int, retries: int) -> Spent:
    """The history after this check: what was spent before it, this check and its retries."""
    return Spent(history + EVENTS_PER_CHECK + EVENTS_PER_RETRY * retries)


def floor_wait_seconds(max_generation_seconds: int) -> float:
    """The shortest wait between checks that lets a job run its whole MaxGenerationSeconds within the
    budget (with no retries); above the backoff's own steps only for very long maximums."""
    checks = LOOP_BUDGET // EVENTS_PER_CHECK
    return math.ceil(max_generation_seconds / checks) if max_generation_seconds > 0 else 0
