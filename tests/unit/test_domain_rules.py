"""Pure rules of the layer: ids, backoff, prices, settings, key resolution."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.support import SETTINGS_ENV
from videos_core.auth import OwnerResolver, hash_key
from videos_core.backoff import informed_wait_seconds, schedule, wait_seconds
from videos_core.catalog import build_catalog
from videos_core.errors import Unauthorized
from videos_core.ids import is_video_id, new_video_id
from videos_core.ports import KeyRecord
from videos_core.pricing import estimate_cost
from videos_core.settings import SettingsError, load_settings

BASE_ENV = SETTINGS_ENV


def test_video_ids_are_vid_and_a_ulid_that_sorts_by_time() -> None:
    earlier, later = new_video_id(1_700_000_000_000), new_video_id(1_700_000_000_001)

    assert is_video_id(earlier)
    assert len(earlier) == 30
    assert earlier < later
    assert not is_video_id("vid_" + "I" * 26)
    assert not is_video_id(earlier.lower())
    assert not is_video_id(earlier + "0")


def test_the_backoff_is_the_seeds_five_to_twenty_seconds() -> None:
    assert schedule(6) == [5, 10, 15, 20, 20, 20]
    assert schedule(4, scale=0.1) == pytest.approx([0.5, 1.0, 1.5, 2.0])
    with pytest.raises(ValueError, match="attempt"):
        wait_seconds(-1)


@pytest.mark.parametrize(
    ("attempt", "progress", "elapsed", "expected"),
    [
        (0, 0, 5, 5),  # queued: no rate yet, the schedule
        (2, 0, 30, 15),
        (0, 50, 5, 5),  # half done in 5 s: 5 s left
        (0, 20, 5, 20),  # a fifth in 5 s: 20 s left, within the cap
        (1, 10, 10, 20),  # 90 s left by the rate: the cap
        (3, 99, 60, 60 / 99),  # about to end
        (1, 100, 10, 10),  # done (waiting on another finaliser): the schedule
        (1, 40, 0, 10),  # no time elapsed to go by: the schedule
    ],
)
def test_reported_progress_sets_the_wait_to_the_time_left(
    attempt: int, progress: int, elapsed: int, expected: float
) -> None:
    assert informed_wait_seconds(attempt, 1.0, progress, elapsed) == pytest.approx(expected)
    assert informed_wait_seconds(attempt, 0.1, progress, elapsed) == pytest.approx(
        min(expected, 2.0) if 0 < progress < 100 and elapsed else expected / 10
    )


def test_costs_are_the_seeds_table() -> None:
    entries = build_catalog({}, load_settings(BASE_ENV).catalog_defaults).entries
    table = {(m, s): estimate_cost(e.prices, "720x1280", s) for m, e in entries.items() for s in (4, 8, 12)}

    assert table == {
        ("sora-2", 4): Decimal("0.5"),
        ("sora-2", 8): Decimal("1"),
        ("sora-2", 12): Decimal("1.5"),
        ("sora-2-pro", 4): Decimal("1.6"),
        ("sora-2-pro", 8): Decimal("3.2"),
        ("sora-2-pro", 12): Decimal("4.8"),
    }


def test_a_route_can_price_one_size_differently() -> None:
    route = {"sora-2-pro": {"base_url": "https://x.example/v1", "prices_by_size": {"1792x1024": "0.5"}}}
    prices = build_catalog(route, load_settings(BASE_ENV).catalog_defaults).route("sora-2-pro").prices

    assert estimate_cost(prices, "1792x1024", 4) == Decimal("2")
    assert estimate_cost(prices, "1280x720", 4) == Decimal("1.6")


def test_settings_default_to_the_seeds_models_and_figures() -> None:
    settings = load_settings(BASE_ENV)
    catalog = build_catalog({}, settings.catalog_defaults)

    assert catalog.models == ("sora-2", "sora-2-pro")
    assert catalog.route("sora-2-pro").base_url == "http://127.0.0.1:4010/v1"
    assert catalog.route("sora-2-pro-2025-10-06").model == "sora-2-pro"
    assert (settings.retention_days, settings.download_url_ttl_seconds, settings.poll_hold_seconds) == (
        7,
        900,
        25,
    )


def test_routes_choose_the_accepted_models_and_their_upstreams() -> None:
    catalog = build_catalog({"sora-2": "https://other.example/v1"}, load_settings(BASE_ENV).catalog_defaults)

    assert catalog.models == ("sora-2",)
    assert catalog.route("sora-2").base_url == "https://other.example/v1"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"VIDEOS_TABLE": None}, "VIDEOS_TABLE"),
        ({"UPSTREAM_API_KEY_PARAMETER": None}, "UPSTREAM_API_KEY_PARAMETER"),
        # A key itself is no configuration: secrets are read from SSM, as deployed.
        ({"UPSTREAM_API_KEY": "sk-in-the-environment"}, "UPSTREAM_API_KEY_PARAMETER"),
        ({"UPSTREAM_BASE_URL": "http://x.example/v1"}, "must be https"),
        ({"ROUTES_PROFILE": "routes"}, "go together"),
        ({"ROUTES_MAX_AGE_SECONDS": "5"}, "ROUTES_MAX_AGE_SECONDS"),
        ({"DOWNLOAD_URL_TTL_SECONDS": "7200"}, "DOWNLOAD_URL_TTL_SECONDS"),
        ({"POLL_HOLD_SECONDS": "40"}, "POLL_HOLD_SECONDS"),
        ({"STATE_MACHINE_ARN": "jobs"}, "STATE_MACHINE_ARN"),
    ],
)
def test_bad_settings_name_the_variable(change: dict[str, Any], problem: str) -> None:
    env = {k: v for k, v in (BASE_ENV | change).items() if v is not None}

    with pytest.raises(SettingsError, match=problem):
        load_settings(env)


class Keys:
    def __init__(self, records: dict[str, KeyRecord]) -> None:
        self.records = records
        self.lookups = 0

    def find(self, key_hash: str) -> KeyRecord | None:
        self.lookups += 1
        return self.records.get(key_hash)

    def touch(self, key_hash: str, now: int) -> None:
        self.touched = now


def test_a_resolved_owner_is_cached_until_the_ttl_then_revocation_takes_effect() -> None:
    key = "sk-" + "a" * 30
    keys = Keys({hash_key(key): KeyRecord("alice", revoked=False)})
    now = [0.0]
    resolver = OwnerResolver(keys, ttl_seconds=60, clock=lambda: now[0])

    assert resolver.owner_of(f"Bearer {key}") == "alice"
    keys.records[hash_key(key)] = KeyRecord("alice", revoked=True)
    now[0] = 59
    assert resolver.owner_of(f"Bearer {key}") == "alice"
    now[0] = 61
    with pytest.raises(Unauthorized):
        resolver.owner_of(f"Bearer {key}")
    assert keys.lookups == 2


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer short",
        "Token sk-aaaaaaaaaaaaaaaaaaaa",
        "Bearer sk-aaaaaaaaaaaaaaaa extra",
        "Bearer " + "a" * 300,
    ],
)
def test_malformed_authorization_is_refused_without_a_lookup(header: str | None) -> None:
    keys = Keys({})

    with pytest.raises(Unauthorized):
        OwnerResolver(keys, 60).owner_of(header)
    assert keys.lookups == 0
