"""Per-owner limits: running jobs at once, and estimated spend per UTC day → 429 video_quota_exceeded."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import boto3
import pytest

from tests.apigw import http_event, invoke, invoke_task
from tests.integration.api.contract import assert_error
from tests.integration.api.stack import REGION, Stack, quota_slots
from videos_core import wiring
from videos_core.adapters.quotas import DynamoQuotas, Limits
from videos_core.errors import VideoQuotaExceeded


def limit(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    wiring.reset()


def create(stack: Stack, owner: str = "alice", **body: str) -> tuple[Any, dict[str, Any]]:
    event = http_event("create_json", key=stack.keys[owner], body={"prompt": "Counted"} | body)
    return invoke("create", event), event


def quota_item(stack: Stack, owner: str, period: str) -> dict[str, Any]:
    table = next(t for t in stack.dynamodb.list_tables()["TableNames"] if t.endswith("QuotasTable"))
    item = stack.dynamodb.get_item(TableName=table, Key={"owner": {"S": owner}, "period": {"S": period}})
    return dict(item.get("Item", {}))


def today() -> str:
    return "day#" + time.strftime("%Y-%m-%d", time.gmtime())


def test_an_owner_over_the_running_job_limit_gets_429(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    limit(monkeypatch, MAX_RUNNING_JOBS="2")
    assert [create(stack)[0].status for _ in range(2)] == [200, 200]

    response, event = create(stack)

    body = assert_error(response, 429, "video_quota_exceeded", event)
    assert body["retry_after_seconds"] == 30
    assert stack.dynamodb.scan(TableName=stack.videos_table)["Count"] == 2
    assert create(stack, owner="bob")[0].status == 200


def test_a_slot_frees_when_a_job_ends(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    limit(monkeypatch, MAX_RUNNING_JOBS="1")
    running = create(stack)[0].json()["id"]
    assert create(stack)[0].status == 429

    ended = invoke_task(
        "end_failed",
        {
            "job": {"owner": "alice", "video_id": running},
            "error": {"code": "video_generation_failed", "message": "x"},
        },
    )

    assert ended["finalised"] is True
    assert create(stack)[0].status == 200


def test_deleting_a_running_job_frees_its_slot_once(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    limit(monkeypatch, MAX_RUNNING_JOBS="1")
    running = create(stack)[0].json()["id"]

    invoke("delete", http_event("delete", path=f"/v1/videos/{running}", key=stack.keys["alice"]))
    ended = invoke_task(
        "end_failed",
        {
            "job": {"owner": "alice", "video_id": running},
            "error": {"code": "video_generation_failed", "message": "x"},
        },
    )

    assert ended["finalised"] is False
    assert quota_slots(stack, "alice") == set()
    assert create(stack)[0].status == 200


def test_an_owner_over_the_daily_budget_gets_429_until_midnight(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit(monkeypatch, DAILY_BUDGET_USD="1.0")
    assert [create(stack)[0].status for _ in range(2)] == [200, 200]  # 2 x $0.50

    response, event = create(stack)
    too_dear, dear_event = create(stack, owner="bob", model="sora-2-pro", seconds="12")  # $4.80

    body = assert_error(response, 429, "video_quota_exceeded", event)
    to_midnight = 86_400 - int(time.time()) % 86_400
    assert abs(body["retry_after_seconds"] - to_midnight) <= 5
    assert_error(too_dear, 429, "video_quota_exceeded", dear_event)
    assert Decimal(quota_item(stack, "alice", today())["spent_usd"]["N"]) == 1


def test_a_failed_job_gives_its_spend_back(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    limit(monkeypatch, DAILY_BUDGET_USD="0.5")
    video = create(stack)[0].json()["id"]

    invoke_task(
        "end_failed",
        {
            "job": {"owner": "alice", "video_id": video},
            "error": {"code": "video_generation_failed", "message": "x"},
        },
    )

    assert Decimal(quota_item(stack, "alice", today())["spent_usd"]["N"]) == 0
    assert create(stack)[0].status == 200


def test_a_refused_upstream_gives_the_quota_back(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    limit(monkeypatch, MAX_RUNNING_JOBS="1")

    assert create(stack, prompt="Busy [rate-limit]")[0].status == 429
    assert create(stack)[0].status == 200


def test_a_take_is_all_or_nothing(stack: Stack) -> None:
    """Slot and spend are taken in one DynamoDB transaction (its atomicity under races is DynamoDB's;
    moto runs transactions without isolation, so a race is not reproduced here): when the budget
    refuses, no slot is taken either; when slots are gone, no spend is added."""
    table = next(t for t in stack.dynamodb.list_tables()["TableNames"] if t.endswith("QuotasTable"))
    quotas = DynamoQuotas(boto3.client("dynamodb", region_name=REGION), table, Limits(1, Decimal("1")))
    now = int(time.time())

    quotas.take("spender", "vid_a", Decimal("0.6"), now)  # the one slot, $0.60 of $1
    with pytest.raises(VideoQuotaExceeded):
        quotas.take("spender", "vid_b", Decimal("0.6"), now)  # no slot left
    assert quota_slots(stack, "spender") == {"vid_a"}
    assert Decimal(quota_item(stack, "spender", today())["spent_usd"]["N"]) == Decimal("0.6")

    quotas.free("spender", "vid_a")
    quotas.free("spender", "vid_a")  # freeing is idempotent
    with pytest.raises(VideoQuotaExceeded):
        quotas.take("spender", "vid_c", Decimal("0.6"), now)  # a free slot, but $1.20 is over budget
    assert quota_slots(stack, "spender") == set()
    assert Decimal(quota_item(stack, "spender", today())["spent_usd"]["N"]) == Decimal("0.6")
