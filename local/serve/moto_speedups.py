"""moto's per-call costs that serve pays once instead. Every AWS call of the local stack (and every
step of every state machine execution) runs in serve's one interpreter, so its CPU time is the
ceiling of the whole service offline; each speed-up keeps moto's behaviour and drops repeated work."""

from __future__ import annotations

import copy
import functools
import inspect
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

from moto import backends as moto_backends
from moto.core import responses as moto_responses
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoResult
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk,
    state_task_service_dynamodb,
    state_task_service_events,
)
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils import json_path

_TASK_CLIENT_MODULES = (
    lambda_eval_utils,
    state_task_service_events,
    state_task_service_dynamodb,
    state_task_service_aws_sdk,
)
# DynamoDB's item operations, whose answers moto builds in DynamoDB's own JSON (items, keys, counts).
_ITEM_OPERATIONS = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan"})
# State types whose evaluation components keep nothing of an execution (Map and Parallel keep workers).
_STATELESS_STATES = frozenset({"Task", "Choice", "Wait", "Pass", "Fail", "Succeed"})


def speed_up_moto(
    prepare_task_client: Callable[[Any], Any] = lambda client: client, *, per_request: bool = True
) -> None:
    """`prepare_task_client` is given each task client once, when it is made. `per_request` also
    drops the work moto repeats for every request it serves (the endpoint's fast path)."""
    if getattr(DomainDispatcherApplication, "_sped_up", False):
        return
    _reuse_task_clients(prepare_task_client)
    _parse_each_definition_once()
    _parse_each_json_path_once()
    if per_request:
        _remember_backends()
        _list_each_handlers_actions_once()
        _back_up_only_what_a_transaction_writes()
        _dump_item_answers_as_they_are()
        _query_only_the_items_a_key_selects()
        _copy_an_updated_item_only_for_a_stream()
    DomainDispatcherApplication._sped_up = True  # type: ignore[attr-defined]


def patched_internals() -> list[tuple[Any, str]]:
    """(owner, attribute) of every moto internal the speed-ups replace: a test fails when one of them
    is gone from the moto version installed (pyproject.toml pins the range they were written for)."""
    return [
        (moto_backends, "list_of_moto_modules"),
        (DomainDispatcherApplication, "get_backend_for_host"),
        *((module, "boto_client_for") for module in _TASK_CLIENT_MODULES),
        (AmazonStateLanguageParser, "parse"),
        (json_path, "parse"),
        (result_path, "parse"),
        (moto_responses, "method_names_from_class"),
        (DynamoDBBackend, "transact_write_items"),
        (dynamodb_models.copy, "deepcopy"),  # type: ignore[attr-defined]
        (DynamoResult, "execute_result"),
        (Table, "query"),
        (Table, "all_items"),
        (DynamoDBBackend, "update_item"),
    ]


def _remember_backends() -> None:
    """moto's server finds each request's backend under one lock, listing its package directory and
    trying every service's URL patterns each time: the same answer for the same host."""
    modules = frozenset(moto_backends.list_of_moto_modules())
    moto_backends.list_of_moto_modules = lambda: modules
    find = DomainDispatcherApplication.get_backend_for_host

    @functools.wraps(find)
    def remembered(self: DomainDispatcherApplication, host: str | None) -> Any:
        found = self.__dict__.setdefault("_backends_by_host", {})
        if host not in found:
            found[host] = find(self, host)
        return found[host]

    DomainDispatcherApplication.get_backend_for_host = remembered  # type: ignore[method-assign]


def _reuse_task_clients(prepare: Callable[[Any], Any]) -> None:
    """The state machine's tasks (Lambda, EventBridge, DynamoDB, the SDK's) make a new boto3 client for every
    call, ~40 ms each; one client per service and region serves them all (moto's client maker
    ignores the state's credentials, so they do not tell clients apart)."""
    made: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()
    for module in _TASK_CLIENT_MODULES:
        make = module.boto_client_for

        def reused(region: str, service: str, state_credentials: Any = None, _make: Any = make) -> Any:
            with lock:
                if (region, service) not in made:
                    made[(region, service)] = prepare(_make(region, service, state_credentials))
                return made[(region, service)]

        module.boto_client_for = reused  # type: ignore[attr-defined]


def _parse_each_definition_once() -> None:
    """Every execution parses its state machine's definition with ANTLR (~100 ms of this process);
    the evaluation tree of a definition made only of stateless states serves every execution."""
    parse = AmazonStateLanguageParser.parse
    parsed: dict[str, Any] = {}
    lock = threading.Lock()

    def parse_once(definition: str) -> Any:
        with lock:
            if definition not in parsed:
                parsed[definition] = parse(definition) if _only_stateless_states(definition) else None
            found = parsed[definition]
        return found if found is not None else parse(definition)

    AmazonStateLanguageParser.parse = staticmethod(parse_once)  # type: ignore[method-assign]


def _only_stateless_states(definition: str) -> bool:
    try:
        states = json.loads(definition).get("States", {})
    except (ValueError, AttributeError):
        return False
    return isinstance(states, dict) and all(
        isinstance(state, dict) and state.get("Type") in _STATELESS_STATES for state in states.values()
    )


def _parse_each_json_path_once() -> None:
    """jsonpath-ng builds a new parser (PLY tables and all) for every path of every step's input,
    result and output processing; a parsed path is immutable, so each distinct path is parsed once."""
    for module in (json_path, result_path):
        module.parse = functools.lru_cache(maxsize=4096)(module.parse)  # type: ignore[attr-defined]


def _list_each_handlers_actions_once() -> None:
    """Every request lists its response handler's methods (inspect.getmembers, ~0.3 ms) to find its
    action among them; a class's methods do not change while the endpoint runs."""
    listed = functools.cache(moto_responses.method_names_from_class)  # type: ignore[attr-defined]
    moto_responses.method_names_from_class = listed  # type: ignore[attr-defined]


# What this thread's DynamoDB call has put in place of moto's own work (see the speed-ups below).
_in_call = threading.local()


class _TablesNotCopied:
    """The `copy` module as moto's DynamoDB backend sees it, except that a table is not copied, nor an
    item while `_in_call.items_not_copied` holds."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, Table) or (
            isinstance(value, Item) and getattr(_in_call, "items_not_copied", False)
        ):
            return value
        return copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _back_up_only_what_a_transaction_writes() -> None:
    """moto backs a transaction up by copying every table it writes, whole (under load, a quarter of
    the endpoint's CPU went to copying tables of a few hundred items). The items it names are all a
    transaction can change: those are copied instead, and put back as they were if it fails. The
    endpoint's lock on DynamoDB writes (moto_fidelity) keeps others from writing in between."""
    dynamodb_models.copy = _TablesNotCopied()  # type: ignore[attr-defined,assignment]
    transact = DynamoDBBackend.transact_write_items

    @functools.wraps(transact)
    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        saved = [_saved_item(self, operation) for item in transact_items for operation in item.values()]
        try:
            transact(self, transact_items)
        except Exception:
            for restore in reversed([s for s in saved if s is not None]):
                restore()
            raise

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _saved_item(backend: DynamoDBBackend, operation: Any) -> Callable[[], None] | None:
    """What puts back the item one operation of a transaction names (and its table's stream) as it
    is now; None for an operation moto refuses before writing anything (no table, no key)."""
    try:
        table = backend.tables[operation["TableName"]]
        key = operation["Item"] if "Item" in operation else operation["Key"]
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    except (KeyError, TypeError):
        return None
    before = copy.deepcopy(table.get_item(hash_key, range_key))
    streamed = len(table.stream_shard.items) if table.stream_shard is not None else 0

    def restore() -> None:
        table.delete_item(hash_key, range_key)
        if before is not None:
            if range_key is None:
                table.items[hash_key] = before  # type: ignore[assignment]
            else:
                table.items[hash_key][range_key] = before
        if table.stream_shard is not None:
            del table.stream_shard.items[streamed:]

    return restore


def _dump_item_answers_as_they_are() -> None:
    """moto serializes every DynamoDB answer by walking botocore's model of it, value by value (a fifth
    of the endpoint's CPU under load, once transactions stopped copying tables). An item operation's
    answer is already DynamoDB's JSON: it is dumped as it is. One holding anything JSON does not take
    as it is (a binary attribute's bytes) goes through moto's serializer, as every other answer does."""
    serialize = DynamoResult.execute_result

    @functools.wraps(serialize)
    def execute_result(self: DynamoResult, context: Any) -> Any:
        if context.operation_model.name in _ITEM_OPERATIONS and isinstance(self.result, dict):
            try:
                body = json.dumps({k: v for k, v in self.result.items() if v is not None})
            except (TypeError, ValueError):
                pass
            else:
                return 200, {"Content-Type": "application/x-amz-json-1.0"}, body
        return serialize(self, context)

    DynamoResult.execute_result = execute_result  # type: ignore[method-assign,assignment]


def _query_only_the_items_a_key_selects() -> None:
    """moto answers a Query by sorting every item of the table and testing each against the key,
    where DynamoDB reads only the key's partition: a list of one owner's videos, or a job found by its
    upstream id, cost more the more jobs the table held. moto's query is given only the items the key
    can select, in moto's own order, and still tests each one itself, so its answer is unchanged."""
    query, all_items = Table.query, Table.all_items
    parameters = inspect.signature(query)

    @functools.wraps(query)
    def query_selected(self: Table, *args: Any, **kwargs: Any) -> Any:
        given = parameters.bind(self, *args, **kwargs).arguments
        _in_call.query_items = _items_the_key_selects(
            self, given["hash_key"], given.get("index_name"), given.get("hash_key_conditions") or []
        )
        try:
            return query(self, *args, **kwargs)
        finally:
            _in_call.query_items = None

    @functools.wraps(all_items)
    def all_items_or_selected(self: Table) -> list[Item]:
        selected = getattr(_in_call, "query_items", None)
        if selected is None:
            return all_items(self)
        _in_call.query_items = None
        return sorted(selected, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)

    Table.query = query_selected  # type: ignore[method-assign]
    Table.all_items = all_items_or_selected  # type: ignore[method-assign]


def _items_the_key_selects(
    table: Table,
    hash_key: DynamoType | None,
    index_name: str | None,
    conditions: list[tuple[str, DynamoType]],
) -> list[Item] | None:
    """A superset of the items a Query's partition key selects (None: every item, as moto reads them).
    The table's own key reads its partition; an index's key keeps each item whose attribute has the
    key's type and value (a number's value in any spelling, since moto compares numbers as numbers)."""
    if not index_name:
        if hash_key is None:
            return None
        partition = table.items.get(hash_key)
        if partition is None:
            return []
        return list(partition.values()) if table.range_key_attr else [partition]  # type: ignore[list-item]
    if not conditions:
        return None
    return [
        item for item in _every_item(table) if all(_may_equal(item.attrs.get(n), v) for n, v in conditions)
    ]


def _every_item(table: Table) -> Iterator[Item]:
    for partition in table.items.values():
        if table.range_key_attr:
            yield from partition.values()
        else:
            yield partition  # type: ignore[misc]


def _may_equal(value: DynamoType | None, key: DynamoType) -> bool:
    return value is not None and value.type == key.type and (value.value == key.value or key.type == "N")


def _copy_an_updated_item_only_for_a_stream() -> None:
    """moto copies every item it updates, whole, for the table's stream's old image, stream or none:
    the copy is made only for a table with a stream."""
    update = DynamoDBBackend.update_item

    @functools.wraps(update)
    def update_item(self: DynamoDBBackend, table_name: str, *args: Any, **kwargs: Any) -> Any:
        table = self.tables.get(table_name)
        if table is None or table.stream_shard is not None:
            return update(self, table_name, *args, **kwargs)
        _in_call.items_not_copied = True
        try:
            return update(self, table_name, *args, **kwargs)
        finally:
            _in_call.items_not_copied = False

    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]
