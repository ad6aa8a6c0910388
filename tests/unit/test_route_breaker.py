"""The routes' breakers' rules (logic.breaker) on an in-memory store: when one opens, who probes it,
what closes it, and which routes a job is asked of."""

from __future__ import annotations

import pytest

from tests.unit.fakes import RouteHealthStore
from tests.unit.test_domain_rules import BASE_ENV
from videos_core.catalog import Catalog, Entry, build_catalog
from videos_core.logic.breaker import BreakerRules, Breakers, healthy_first
from videos_core.settings import load_settings

RULES = BreakerRules(
    failures=3, failure_percent=50, minimum_attempts=6, window_seconds=60, cooldown_seconds=30
)
NOW = 1_800_000_000


def two_routes() -> tuple[Entry, ...]:
    settings = load_settings(BASE_ENV)
    document = {
        "two": [{"name": "first", "upstream_model": "sora-2"}, {"name": "second", "upstream_model": "sora-2"}]
    }
    catalog: Catalog = build_catalog(document, settings.catalog_defaults)
    return catalog.routes("two")


@pytest.fixture
def breakers() -> Breakers:
    return Breakers(RouteHealthStore(), RULES)


def test_failures_in_a_row_open_a_route_and_an_acceptance_between_them_does_not(breakers: Breakers) -> None:
    first, _ = two_routes()
    for _ in range(2):
        breakers.failed(first, "closed", "refused", NOW)
    breakers.accepted(first, "closed", NOW)
    breakers.failed(first, "closed", "failed", NOW)
    breakers.failed(first, "closed", "timed_out", NOW)
    assert not breakers.is_open(first, NOW)

    breakers.failed(first, "closed", "refused", NOW)

    assert breakers.is_open(first, NOW)
    assert breakers.admit(first, NOW + RULES.cooldown_seconds - 1) == "open"


def test_a_failure_share_over_the_window_opens_a_route_only_past_the_minimum(breakers: Breakers) -> None:
    first, _ = two_routes()
    for _ in range(2):
        breakers.accepted(first, "closed", NOW)
        breakers.failed(first, "closed", "failed", NOW)
    assert not breakers.is_open(first, NOW)  # 2 of 4: under the minimum of 6

    breakers.accepted(first, "closed", NOW + RULES.window_seconds)  # the previous window still counts
    breakers.failed(first, "closed", "failed", NOW + RULES.window_seconds)

    assert breakers.is_open(first, NOW + RULES.window_seconds)


def test_failures_two_windows_old_are_forgotten(breakers: Breakers) -> None:
    first, _ = two_routes()
    for _ in range(2):
        breakers.accepted(first, "closed", NOW)
        breakers.failed(first, "closed", "failed", NOW)
    later = NOW + 2 * RULES.window_seconds
    for _ in range(2):
        breakers.accepted(first, "closed", later)
    breakers.failed(first, "closed", "failed", later)

    assert not breakers.is_open(first, later)


def test_one_probe_after_the_cool_down_and_its_acceptance_closes_the_route(breakers: Breakers) -> None:
    first, _ = two_routes()
    for _ in range(RULES.failures):
        breakers.failed(first, "closed", "refused", NOW)
    cooled = NOW + RULES.cooldown_seconds

    assert breakers.admit(first, cooled) == "probe"
    assert breakers.admit(first, cooled) == "open"  # another caller, while the probe is out
    assert breakers.is_open(first, cooled)

    breakers.accepted(first, "probe", cooled)

    assert breakers.admit(first, cooled) == "closed"
    breakers.failed(first, "closed", "refused", cooled)  # its old failures were cleared
    assert not breakers.is_open(first, cooled)


def test_a_probe_refused_opens_the_route_again(breakers: Breakers) -> None:
    first, _ = two_routes()
    for _ in range(RULES.failures):
        breakers.failed(first, "closed", "refused", NOW)
    cooled = NOW + RULES.cooldown_seconds
    assert breakers.admit(first, cooled) == "probe"

    breakers.failed(first, "probe", "refused", cooled)

    assert breakers.admit(first, cooled + RULES.cooldown_seconds - 1) == "open"
    assert breakers.admit(first, cooled + RULES.cooldown_seconds) == "probe"


def test_a_probe_the_request_itself_was_refused_at_closes_the_route(breakers: Breakers) -> None:
    first, _ = two_routes()
    for _ in range(RULES.failures):
        breakers.failed(first, "closed", "refused", NOW)
    cooled = NOW + RULES.cooldown_seconds
    assert breakers.admit(first, cooled) == "probe"

    breakers.answered(first, "probe", cooled)

    assert breakers.admit(first, cooled) == "closed"


def test_open_routes_are_skipped_while_one_is_closed_and_the_first_is_tried_when_none_is(
    breakers: Breakers,
) -> None:
    first, second = two_routes()
    for _ in range(RULES.failures):
        breakers.failed(first, "closed", "refused", NOW)
    assert healthy_first((first, second), breakers, NOW) == (second,)

    for _ in range(RULES.failures):
        breakers.failed(second, "closed", "refused", NOW)

    assert healthy_first((first, second), breakers, NOW) == (first,)
    assert healthy_first((first, second), None, NOW) == (first, second)
