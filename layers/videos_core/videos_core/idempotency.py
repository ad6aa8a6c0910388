"""Idempotency-Key on create and remix (Powertools Idempotency on DynamoDB): the same key and body
replay the first answer and start nothing new; a duplicate while the first is in flight is 409; the
same key with another body is 422. The key is scoped by owner, so owners never collide.

Imported only by the functions that take the header; the store is built on first use."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from videos_core import wiring
from videos_core.adapters import aws
from videos_core.errors import IdempotencyInProgress, IdempotencyKeyReused, InvalidRequest
from videos_core.http import JSON, Api
from videos_core.models.record import VideoRecord
from videos_core.outcomes import record_created
from videos_core.ports import Reference
from videos_core.router import Resolver, Response
from videos_core.settings import SettingsError, get_settings

if TYPE_CHECKING:
    from videos_core.logic.create import Launcher

HEADER = "idempotency-key"
# How long a key remembers its answer.
REMEMBER_SECONDS = 24 * 3600
IN_FLIGHT_RETRY_AFTER = 2
_KEY = re.compile(r"[\x21-\x7e]{1,255}")


@cache
def _config() -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath="[owner, key]",
        payload_validation_jmespath="request",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=REMEMBER_SECONDS,
    )


@cache
def _store() -> DynamoDBPersistenceLayer:
    table = get_settings().idempotency_table
    if table is None:
        raise SettingsError("this function needs IDEMPOTENCY_TABLE")
    return DynamoDBPersistenceLayer(table_name=table, boto3_client=aws.dynamodb())


def fingerprint(body: dict[str, Any], attachment: bytes | None = None) -> str:
    """What a repeat must match: the request's fields and any uploaded file's bytes."""
    canonical = json.dumps(body, sort_keys=True, default=str).encode()
    digest = hashlib.sha256(canonical)
    if attachment is not None:
        digest.update(hashlib.sha256(attachment).digest())
    return digest.hexdigest()


def once(
    owner: str, key: str | None, request: str, context: LambdaContext, run: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """`run()`'s answer, computed once per (owner, Idempotency-Key) and replayed after that."""
    if key is None:
        return run()
    if not _KEY.fullmatch(key):
        raise InvalidRequest("Idempotency-Key must be 1-255 printable characters.", param="Idempotency-Key")
    config = _config()
    config.register_lambda_context(context)

    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="call", config=config, persistence_store=_store()
    )
    def answer(call: dict[str, str]) -> dict[str, Any]:  # noqa: ARG001 - what Powertools keys and validates
        return run()

    try:
        result: dict[str, Any] = answer(call={"owner": owner, "key": key, "request": request})
    except IdempotencyAlreadyInProgressError as e:
        raise IdempotencyInProgress(
            "A request with this Idempotency-Key is still being handled.",
            param="Idempotency-Key",
            retry_after=IN_FLIGHT_RETRY_AFTER,
        ) from e
    except IdempotencyValidationError as e:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used with a different request.", param="Idempotency-Key"
        ) from e
    return result


def client_key(app: Resolver) -> str | None:
    """The request's Idempotency-Key, if it sent one."""
    return app.current_event.headers.get(HEADER)


def start_once(
    app: Api,
    owner: str,
    body: dict[str, Any],
    attachment: Reference | None,
    start: Callable[[Launcher, int, str | None], VideoRecord],
) -> Response:
    """The video `start(ports, now, client_key)` begins, answered with the route's status — or, for a
    repeated Idempotency-Key with the same body (and file), the first one's."""
    holder, key = app.lambda_context.aws_request_id, client_key(app)

    def begin() -> dict[str, Any]:
        record = start(wiring.launcher(holder, app.current_event.domain_name), int(time.time()), key)
        record_created(record)
        return record.to_video().model_dump(mode="json")

    request = fingerprint(body, attachment.content if attachment else None)
    video = once(owner, key, request, app.lambda_context, begin)
    return Response(app.matched.status, JSON, json.dumps(video))


def reset() -> None:
    _config.cache_clear()
    _store.cache_clear()
