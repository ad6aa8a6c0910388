"""The moto AWS account the API tests run the functions against."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import logging
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import boto3
from openai import OpenAI

from local.serve.application import declared_application
from videos_core.adapters.dynamodb import to_item
from videos_core.auth import hash_key
from videos_core.ids import new_video_id
from videos_core.models.api import Variant
from videos_core.observability import logger

REGION = "us-east-1"
# The names the template's resources have in the local account (the functions' policies name them).
APPLICATION = declared_application()
BUCKET = APPLICATION.buckets["AssetsBucket"]
(STATE_MACHINE,) = (machine.name for machine in APPLICATION.state_machines.values())
# A state machine that just waits: these tests drive the API, not the workflow.
IDLE_DEFINITION = {"StartAt": "Idle", "States": {"Idle": {"Type": "Wait", "Seconds": 3600, "End": True}}}
CONTENT_TYPES: dict[Variant, str] = {
    "video": "video/mp4",
    "thumbnail": "image/jpeg",
    "spritesheet": "image/jpeg",
}


@functools.cache
def moto_client(service: str) -> Any:
    """A client of the tests' own, made once per worker: moto answers a client made before its mock
    started (its hook is in every client botocore makes), and making one costs ~20 ms."""
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    return session.client(service)  # type: ignore[call-overload]


@dataclass
class Stack:
    """The moto AWS account the functions run against, with two owners' keys."""

    videos_table: str
    keys_table: str
    state_machine_arn: str
    engine: OpenAI
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def dynamodb(self) -> Any:
        return moto_client("dynamodb")

    @property
    def s3(self) -> Any:
        return moto_client("s3")

    @property
    def stepfunctions(self) -> Any:
        return moto_client("stepfunctions")

    def add_key(self, owner: str, *, revoked: bool = False) -> str:
        key = "sk-" + secrets.token_urlsafe(24)
        item: dict[str, Any] = {"key_hash": hash_key(key), "owner": owner, "created_at": int(time.time())}
        if revoked:
            item["revoked_at"] = int(time.time())
        self.dynamodb.put_item(TableName=self.keys_table, Item=to_item(item))
        return key

    def record(self, owner: str, video_id: str) -> dict[str, Any] | None:
        from videos_core.adapters.dynamodb import from_item

        item = self.dynamodb.get_item(
            TableName=self.videos_table, Key=to_item({"owner": owner, "video_id": video_id})
        )
        return from_item(item["Item"]) if "Item" in item else None

    def seed_video(
        self,
        owner: str,
        *,
        status: str = "completed",
        upstream_id: str = "video_seeded",
        created_at: int | None = None,
        expires_at: int | None = None,
        assets: dict[Variant, bytes] | None = None,
        **fields: Any,
    ) -> str:
        """A record as the workflow leaves it, with its files in S3 when `assets` are given."""
        now = int(time.time())
        video_id = new_video_id(((created_at or now) * 1000) + secrets.randbelow(1000))
        stored = {}
        for variant, data in (assets or {}).items():
            key = f"videos/{video_id}/{variant}"
            self.s3.put_object(Bucket=BUCKET, Key=key, Body=data, ContentType=CONTENT_TYPES[variant])
            stored[variant] = {"key": key, "size": len(data), "content_type": CONTENT_TYPES[variant]}
        item = {
            "owner": owner,
            "video_id": video_id,
            "upstream_id": upstream_id,
            "status": status,
            "progress": 100 if status == "completed" else 30,
            "model": "sora-2",
            "seconds": "4",
            "size": "720x1280",
            "prompt": "A seeded video",
            "created_at": created_at or now,
            "completed_at": now if status in ("completed", "failed") else None,
            "expires_at": (expires_at or now + 86_400) if status == "completed" else None,
            "cost_estimate": Decimal("0.5"),
            "assets": stored,
            "error": {"code": "video_generation_failed", "message": "It failed."}
            if status == "failed"
            else None,
        } | fields
        self.dynamodb.put_item(TableName=self.videos_table, Item=to_item(item))
        return video_id

    def execution_status(self, video_id: str) -> str:
        arn = self.state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + video_id
        return str(self.stepfunctions.describe_execution(executionArn=arn)["status"])


@contextlib.contextmanager
def captured_logs() -> Iterator[list[dict[str, Any]]]:
    """The structured lines the layer's logger writes inside the block, parsed at its end."""
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    original = handler.setStream(buffer)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        handler.setStream(original)
        lines.extend(json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{"))


def table_of(stack: Stack, logical_id: str) -> str:
    return str(next(t for t in stack.dynamodb.list_tables()["TableNames"] if t.endswith(logical_id)))


def quota_slots(stack: Stack, owner: str) -> set[str]:
    """The video ids holding `owner`'s running-job slots."""
    table = table_of(stack, "QuotasTable")
    item = stack.dynamodb.get_item(TableName=table, Key={"owner": {"S": owner}, "period": {"S": "running"}})
    return set(item.get("Item", {}).get("video_ids", {}).get("SS", []))
