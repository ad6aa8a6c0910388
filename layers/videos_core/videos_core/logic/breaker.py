"""A breaker per route, shared by every function (`RouteHealth`): a route whose provider keeps failing
is skipped for a cool-down rather than asked for every job, then one probe decides.

- Counted against a route: its provider's refusal at create, its failure of a job it accepted (not
  for the prompt's content), a job kept past the route's `max_seconds`. Counted for it: a job it
  accepted. The request's own refusals (400s, its content) are not counted at all.
- It opens for `cooldown_seconds` when its failures in a row reach `failures`, or when, with at
  least `minimum_attempts` in the window, `failure_percent` of them failed.
- Open, it is skipped while a closed route is left (`healthy_first`); when every route left is
  open, the first of them is tried still: a breaker turns a provider's outage into fewer failed
  calls, never into refusing every job of a model (Envoy's "panic" rule does the same).
- Past the cool-down, one caller wins the probe (a conditional write); the others go on skipping the
  route. The probe's job accepted closes it (its counts cleared); refused, it opens again.

The breaker is advice: a store that cannot be read or written leaves routes closed, and a job goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from videos_core.catalog import Entry
from videos_core.errors import ApiError
from videos_core.observability import logger, metrics
from videos_core.outcomes import route_metric
from videos_core.ports import RouteHealth, RouteState
from videos_core.settings import Settings

# What a caller may do with a route: ask it, ask it as the one probe, or skip it.
Verdict = Literal["closed", "probe", "open"]
# Why an attempt counted against its route.
Failure = Literal["refused", "failed", "timed_out"]
T = TypeVar("T")


@dataclass(frozen=True)
class BreakerRules:
    failures: int
    failure_percent: int
    minimum_attempts: int
    window_seconds: int
    cooldown_seconds: int

    @classmethod
    def of(cls, settings: Settings) -> BreakerRules:
        return cls(
            settings.route_breaker_failures,
            settings.route_breaker_failure_percent,
            settings.route_breaker_minimum_attempts,
            settings.route_breaker_window_seconds,
            settings.route_breaker_cooldown_seconds,
        )

    def trips(self, state: RouteState) -> bool:
        if state.streak >= self.failures:
            return True
        return (
            state.attempts >= self.minimum_attempts
            and state.failures * 100 >= self.failure_percent * state.attempts
        )


@dataclass(frozen=True)
class Breakers:
    health: RouteHealth
    rules: BreakerRules

    def _window(self, now: int) -> int:
        return now // self.rules.window_seconds

    def is_open(self, entry: Entry, now: int) -> bool:
        """Whether the route is skipped now (open, or its probe is out); reads only."""
        state = self._state(entry, now)
        if state is None or state.open_until is None:
            return False
        return now < state.open_until or (state.probe_until or 0) > now

    def admit(self, entry: Entry, now: int) -> Verdict:
        """Whether to ask the route: closed, or the one probe of a cooled-down breaker (claimed here)."""
        state = self._state(entry, now)
        if state is None or state.open_until is None:
            return "closed"
        if now < state.open_until:
            return "open"
        until = now + self.rules.cooldown_seconds
        claimed = _advice(lambda: self.health.claim_probe(entry.model, entry.route, now, until), False)
        return "probe" if claimed else "open"

    def accepted(self, entry: Entry, verdict: Verdict, now: int) -> None:
        """The route's provider took a job."""
        keep = self._keep_until(now)
        _advice(lambda: self.health.count(entry.model, entry.route, False, self._window(now), keep), None)
        if verdict == "probe":
            _advice(lambda: self.health.close(entry.model, entry.route, self._window(now)), None)
            _emit("RouteBreakerClosed", entry)
            logger.info("route %s of %s is closed again: its probe was accepted", entry.route, entry.model)

    def answered(self, entry: Entry, verdict: Verdict, now: int) -> None:
        """The route's provider refused the request itself (a 400, its content): it is up, so a probe
        closes the breaker; nothing is counted."""
        if verdict == "probe":
            _advice(lambda: self.health.close(entry.model, entry.route, self._window(now)), None)
            _emit("RouteBreakerClosed", entry)

    def failed(self, entry: Entry, verdict: Verdict, reason: Failure, now: int) -> None:
        """The route failed an attempt for `reason`: counted, and the breaker opened when it trips."""
        _emit("RouteFailures", entry, reason=reason)
        keep = self._keep_until(now)
        state = _advice(
            lambda: self.health.count(entry.model, entry.route, True, self._window(now), keep), None
        )
        until = now + self.rules.cooldown_seconds
        if verdict == "probe":
            _advice(lambda: self.health.reopen(entry.model, entry.route, until), None)
        elif not self._opens(entry, state, until):
            return
        logger.warning(
            "route %s of %s is open for %d s", entry.route, entry.model, self.rules.cooldown_seconds
        )
        _emit("RouteBreakerOpened", entry)

    def _opens(self, entry: Entry, state: RouteState | None, until: int) -> bool:
        """Whether this failure opened the breaker: it was closed, it trips, and no other opened it first."""
        if state is None or state.open_until is not None or not self.rules.trips(state):
            return False
        return _advice(lambda: self.health.trip(entry.model, entry.route, until), False)

    def _state(self, entry: Entry, now: int) -> RouteState | None:
        return _advice(lambda: self.health.state(entry.model, entry.route, self._window(now), now), None)

    def _keep_until(self, now: int) -> int:
        return now + 2 * self.rules.window_seconds + self.rules.cooldown_seconds


def healthy_first(routes: Sequence[Entry], breakers: Breakers | None, now: int) -> tuple[Entry, ...]:
    """The routes whose breakers are not open, in order; when every one is open, the first alone."""
    if breakers is None or len(routes) < 2:
        return tuple(routes)
    closed = tuple(entry for entry in routes if not breakers.is_open(entry, now))
    return closed or tuple(routes[:1])


def _advice(read: Callable[[], T], otherwise: T) -> T:
    try:
        return read()
    except ApiError as e:
        logger.warning("the routes' breakers could not be read or written: %s", e)
        return otherwise


def _emit(name: str, entry: Entry, **dimensions: str) -> None:
    route_metric(name, MetricUnit.Count, 1, entry.model, entry.route, **dimensions)
    if name == "RouteBreakerOpened":
        # The same, across routes, for the alarm (an alarm watches one set of dimensions).
        with single_metric(
            name="RouteBreakersOpened", unit=MetricUnit.Count, value=1, namespace=metrics.namespace
        ) as metric:
            metric.add_dimension("service", "videos-api")
