"""A job survives its provider: a model may list several routes, and a job moves to the next one when
its provider refuses it at create (`logic.create`), fails it for a reason that is not the prompt's,
or keeps it past the route's `max_seconds`.

After a provider accepted a job, a move is three steps, each a conditional write, so that a crash
between any two leaves a job the next check finishes moving:
1. the next attempt is recorded and its price taken from the daily budget, atomically (the attempt
   left behind refunded when its provider failed it or its cancel was taken);
2. the next route's provider is asked for the job, with an idempotency key of the attempt's own;
3. its upstream id is recorded (or, refused, the attempt is refunded and the one after it tried).
Only a job made from a prompt alone moves after acceptance: a reference image, a character, or the
source of a remix, edit or extension is not the next provider's to have.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from videos_core.catalog import Catalog, Entry
from videos_core.errors import ApiError, VideoQuotaExceeded
from videos_core.logic.breaker import Breakers, Verdict, healthy_first
from videos_core.models.api import VideoError
from videos_core.models.record import AttemptRecord, VideoRecord
from videos_core.observability import logger
from videos_core.outcomes import record_accepted, record_attempt
from videos_core.ports import Attempts, Upstream, UpstreamCreate, UpstreamNotFoundError
from videos_core.pricing import estimate_cost
from videos_core.providers import provider
from videos_core.settings import Settings

# Failures that are the request's: the next provider would refuse the same prompt.
CONTENT_FAILURES = frozenset({"invalid_video_prompt", "moderation_blocked"})
# The error a job is moved with when it ran past its route's deadline.
TIMEOUT = "video_generation_timeout"


def refused_by_provider(error: BaseException) -> bool:
    """Whether a create's refusal is the provider's (a rate limit, a failure of its own, a timeout, a
    cut connection, a refused key, a model it does not offer) rather than the request's."""
    if isinstance(error, UpstreamNotFoundError):
        return True
    if not isinstance(error, ApiError):
        return False
    if error.upstream is not None and error.status in (404, 429):
        return True
    return error.status >= 500


def count_refusal(
    breakers: Breakers | None, entry: Entry, verdict: Verdict, error: BaseException, now: int
) -> None:
    """A refused create on its route's breaker: against the route when the refusal is its provider's,
    for it when it is the request's (the provider answered)."""
    if breakers is None:
        return
    if refused_by_provider(error):
        breakers.failed(entry, verdict, "refused", now)
    elif isinstance(error, ApiError):
        breakers.answered(entry, verdict, now)


def attempt_on(entry: Entry, upstream_id: str | None, cost: Decimal, now: int) -> AttemptRecord:
    """An attempt running on `entry` (its upstream id None until its provider accepted it)."""
    return AttemptRecord(
        route=entry.route,
        provider=entry.provider,
        upstream_id=upstream_id,
        outcome="running",
        cost=cost,
        charged=True,
        started_at=now,
    )


def refused_attempt(entry: Entry, cost: Decimal, error: BaseException, now: int) -> AttemptRecord:
    """An attempt whose provider refused the job at create (nothing of it charged)."""
    refused = AttemptRecord(
        route=entry.route,
        provider=entry.provider,
        outcome="refused",
        reason=_reason(error),
        cost=cost,
        charged=False,
        started_at=now,
    )
    record_attempt(entry.model, refused)
    return refused


@dataclass(frozen=True)
class Mover:
    """What moving a job needs."""

    settings: Settings
    catalog: Callable[[], Catalog]
    upstream: Upstream
    attempts: Attempts
    # Where a route's provider calls back (the API's domain the job was made on, the route, the job).
    callback_url: Callable[[str | None, Entry, str], str | None]
    # The routes' breakers: an open route is skipped while another is left (logic.breaker).
    breakers: Breakers | None = None


def may_move(record: VideoRecord, error: VideoError, mover: Mover) -> bool:
    """Whether a job its provider failed with `error` goes on with another route (whatever the
    breakers say: when every route left is open, the first of them is tried still)."""
    return error.code not in CONTENT_FAILURES and bool(_able_routes(record, mover))


def next_routes(record: VideoRecord, mover: Mover, now: int) -> tuple[Entry, ...]:
    """The routes after the job's own that can make it, those whose breakers are closed first, as
    many as its attempts left allow."""
    left = mover.settings.max_attempts_per_job - len(record.attempts)
    return healthy_first(_able_routes(record, mover), mover.breakers, now)[: max(left, 0)]


def _able_routes(record: VideoRecord, mover: Mover) -> tuple[Entry, ...]:
    if not record.portable or len(record.attempts) >= mover.settings.max_attempts_per_job:
        return ()
    tried = {attempt.route for attempt in record.attempts}
    routes = mover.catalog().routes(record.model)
    names = [entry.route for entry in routes]
    after = routes[names.index(record.route) + 1 :] if record.route in names else routes
    return tuple(entry for entry in after if entry.route not in tried and _takes(entry, record))


def _takes(entry: Entry, record: VideoRecord) -> bool:
    try:
        entry.capabilities.check(record.model, record.seconds, record.size, record.prompt, False)
    except ApiError:
        return False
    return True


def overdue(record: VideoRecord, mover: Mover, now: int) -> VideoError | None:
    """The timeout a job is moved with when it has run on its route past the route's `max_seconds`
    and another route may take it; None otherwise."""
    entry = mover.catalog().entry(record.model, record.route)
    holder = record.holder
    if entry is None or entry.max_seconds is None or holder is None:
        return None
    if now - holder.started_at < entry.max_seconds or not _able_routes(record, mover):
        return None
    return VideoError(
        code=TIMEOUT, message=f"Route {entry.route} did not finish the video within {entry.max_seconds} s."
    )


def pending(record: VideoRecord) -> bool:
    """Whether a move was recorded and its provider not yet asked (or its answer not yet recorded)."""
    return (
        bool(record.attempts)
        and record.attempts[-1].outcome == "running"
        and record.attempts[-1].upstream_id is None
    )


def fail_over(record: VideoRecord, error: VideoError, mover: Mover, now: int) -> VideoRecord | None:
    """Moves a job to its next route: its provider failed it with `error`, or (`error` a timeout) it
    ran on its route past the route's deadline. The record as it is after: moved (its last attempt
    running on the new route), or with no route taking it (its last attempt refused); None when the
    job stays as it was: the failure is the content's, no route is left, the budget takes no other
    attempt, or another moved or ended the job first."""
    routes = next_routes(record, mover, now) if error.code not in CONTENT_FAILURES else ()
    if not routes:
        return None
    current, refund = _left(record, error)
    for entry in routes:
        verdict = mover.breakers.admit(entry, now) if mover.breakers is not None else "closed"
        if verdict == "open" and entry is not routes[-1]:
            continue  # another won its probe: the next route is asked instead
        cost = estimate_cost(entry.prices, record.size, int(record.seconds))
        moving = current.model_copy(
            update={
                "attempts": [*current.attempts, attempt_on(entry, None, cost, now)],
                "cost_estimate": cost,
            }
        )
        try:
            if not mover.attempts.switch(record, moving, cost - refund):
                return None
        except VideoQuotaExceeded as e:
            logger.warning("%s cannot move to route %s: %s", record.video_id, entry.route, e.message)
            return None
        after = submit(moving, mover, now, verdict)
        if after is None or _moved(after):
            return after
        record = current = after
        refund = Decimal(0)
    return record


def _left(record: VideoRecord, error: VideoError) -> tuple[VideoRecord, Decimal]:
    """The job with the attempt its provider failed settled (refunded as the next one is charged); a
    job moved for its deadline keeps its attempt running until another route has the job."""
    holder = record.holder
    if error.code == TIMEOUT or holder is None or holder.outcome != "running":
        return record, Decimal(0)
    failed = holder.model_copy(update={"outcome": "failed", "reason": error.message, "charged": False})
    record_attempt(record.model, failed)
    attempts = [failed if attempt is holder else attempt for attempt in record.attempts]
    return record.model_copy(update={"attempts": attempts, "cost_estimate": Decimal(0)}), holder.cost


def submit(moving: VideoRecord, mover: Mover, now: int, verdict: Verdict = "closed") -> VideoRecord | None:
    """Asks the provider of the job's pending attempt for the job (again, after a crash: the attempt's
    own idempotency key makes it the same upstream job). The record as it is after: moved (the new
    upstream id and route recorded, an attempt left running abandoned), or the attempt refused and
    refunded; None when another moved or ended the job first."""
    attempt = moving.attempts[-1]
    entry = mover.catalog().entry(moving.model, attempt.route)
    started = time.perf_counter()
    try:
        if entry is None:
            raise ApiError(f"Route {attempt.route} is no longer deployed.")
        job = mover.upstream.via(entry.route).create(
            UpstreamCreate(
                moving.prompt,
                moving.model,
                moving.seconds,
                moving.size,
                None,
                idempotency_key=f"{moving.video_id}-{len(moving.attempts)}",
                callback_url=mover.callback_url(moving.api_domain, entry, moving.video_id),
            )
        )
    except (ApiError, UpstreamNotFoundError) as e:
        logger.warning("route %s refused %s: %s", attempt.route, moving.video_id, e)
        if entry is not None:
            count_refusal(mover.breakers, entry, verdict, e, now)
        refused = attempt.model_copy(update={"outcome": "refused", "reason": _reason(e), "charged": False})
        record_attempt(moving.model, refused)
        holder = moving.holder
        after = moving.model_copy(
            update={
                "attempts": [*moving.attempts[:-1], refused],
                "cost_estimate": holder.cost if holder is not None and holder.charged else Decimal(0),
            }
        )
        return after if mover.attempts.switch(moving, after, -attempt.cost) else None
    record_accepted(entry, time.perf_counter() - started)
    if mover.breakers is not None:
        mover.breakers.accepted(entry, verdict, now)
    attempts = [
        a.model_copy(update={"outcome": "abandoned"}) if a.outcome == "running" and a is not attempt else a
        for a in moving.attempts[:-1]
    ]
    after = moving.model_copy(
        update={
            "upstream_id": job.id,
            "route": attempt.route,
            "status": "queued",
            "progress": 0,
            "attempts": [*attempts, attempt.model_copy(update={"upstream_id": job.id})],
        }
    )
    if not mover.attempts.switch(moving, after, Decimal(0)):
        return None
    logger.info("%s moved to route %s (%s)", moving.video_id, attempt.route, job.id)
    return after


def _moved(record: VideoRecord) -> bool:
    last = record.attempts[-1]
    return last.outcome == "running" and last.upstream_id == record.upstream_id


def cancel_abandoned(record: VideoRecord, mover: Mover) -> VideoRecord:
    """Asks the providers of the attempts the job left running to stop them, where they can; one whose
    cancel is taken is refunded."""
    for attempt in record.attempts:
        if (
            attempt.outcome != "abandoned"
            or not provider(attempt.provider).cancels
            or attempt.upstream_id is None
        ):
            continue
        try:
            mover.upstream.via(attempt.route).delete(record.model, attempt.upstream_id)
        except (ApiError, UpstreamNotFoundError) as e:
            logger.warning("could not cancel %s's attempt on %s: %s", record.video_id, attempt.route, e)
            continue
        cancelled = attempt.model_copy(update={"outcome": "cancelled", "charged": False})
        record_attempt(record.model, cancelled)
        after = record.model_copy(
            update={"attempts": [cancelled if a is attempt else a for a in record.attempts]}
        )
        if mover.attempts.switch(record, after, -attempt.cost):
            record = after
    return record


def _reason(error: BaseException) -> str:
    return error.message if isinstance(error, ApiError) else "The provider lost the job being started."
