"""IAM's evaluation of identity-based policies, for the offline stack: an explicit Deny wins, then any
Allow whose Action, Resource and Condition all match, and otherwise the request is implicitly denied.

It covers what the template's policies use — Action/NotAction, Resource/NotResource with `*` and `?`
wildcards, and the condition operators below — and refuses a policy that uses anything else, so a
policy is never judged more kindly offline than AWS would judge it."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any


@cache
def _wildcard(pattern: str) -> re.Pattern[str]:
    """IAM's wildcards: `*` any run of characters (`/` and `:` included), `?` any one; nothing else."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.S)


def _like(value: str, pattern: str) -> bool:
    return _wildcard(pattern).fullmatch(value) is not None


def _any_like(value: str, patterns: tuple[str, ...]) -> bool:
    return any(_like(value, pattern) for pattern in patterns)


# Condition operators this evaluator knows; each may carry an IfExists suffix and a set prefix.
_STRING_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": operator.eq,
    "StringNotEquals": operator.ne,
    "StringLike": _like,
    "StringNotLike": lambda value, pattern: not _like(value, pattern),
    "Bool": lambda value, pattern: value.lower() == pattern.lower(),
}
_NEGATED = {"StringNotEquals", "StringNotLike"}
_SET_PREFIXES = ("ForAllValues:", "ForAnyValue:")

RequestContext = Mapping[str, str | Sequence[str]]


class PolicyError(ValueError):
    """A policy this evaluator cannot judge faithfully."""


def _as_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(item) for item in value)


@dataclass(frozen=True)
class Condition:
    operator: str  # e.g. "ForAllValues:StringEquals", "StringEqualsIfExists"
    key: str
    values: tuple[str, ...]

    def __post_init__(self) -> None:
        base = self.operator
        for prefix in _SET_PREFIXES:
            base = base.removeprefix(prefix)
        if self.operator == "Null":
            if not set(self.values) <= {"true", "false"}:
                raise PolicyError(f"Null on {self.key} takes true or false, not {list(self.values)}")
        elif base.removesuffix("IfExists") not in _STRING_OPERATORS:
            raise PolicyError(f"condition operator {self.operator} is not supported offline")

    def holds(self, context: RequestContext) -> bool:
        if self.operator == "Null":
            # "true": the key is absent from the request's context; "false": it is present.
            return any((value == "true") == (self.key not in context) for value in self.values)
        if_exists = self.operator.endswith("IfExists")
        base = self.operator.removesuffix("IfExists")
        set_prefix = next((p for p in _SET_PREFIXES if base.startswith(p)), None)
        base = base.removeprefix(set_prefix or "")
        test = _STRING_OPERATORS[base]
        present = self.key in context
        if not present:
            # As IAM judges a key the request does not carry ("IAM JSON policy elements: Condition
            # operators"): the values do not match, so a plain test is false and a negated one true;
            # ...IfExists holds; ForAllValues over no values holds, ForAnyValue does not.
            return if_exists or set_prefix == "ForAllValues:" or (base in _NEGATED and set_prefix is None)
        raw = context[self.key]
        values = (raw,) if isinstance(raw, str) else tuple(raw)

        def matches(value: str) -> bool:
            if base in _NEGATED:
                return all(test(value, pattern) for pattern in self.values)
            return any(test(value, pattern) for pattern in self.values)

        if set_prefix == "ForAllValues:":
            return all(matches(value) for value in values)
        if set_prefix == "ForAnyValue:":
            return any(matches(value) for value in values)
        if len(values) != 1:
            raise PolicyError(f"{self.key} has several values; use ForAllValues or ForAnyValue")
        return matches(values[0])


@dataclass(frozen=True)
class Statement:
    """One statement of a role's, named (`<Role>.<Sid>`, `<Role>.<ManagedPolicy>.<Sid>`) so that tests
    can point at it."""

    name: str
    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    conditions: tuple[Condition, ...] = ()

    @classmethod
    def parse(cls, name: str, raw: Mapping[str, Any]) -> Statement:
        known = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}
        unknown = set(raw) - known
        if unknown:
            raise PolicyError(f"statement {name} has {sorted(unknown)}, not supported offline")
        if raw.get("Effect") not in ("Allow", "Deny"):
            raise PolicyError(f"statement {name} has no Effect Allow or Deny")
        conditions = tuple(
            Condition(operator, key, _as_list(values))
            for operator, keys in (raw.get("Condition") or {}).items()
            for key, values in keys.items()
        )
        return cls(
            name=name,
            effect=raw["Effect"],
            actions=_as_list(raw.get("Action")),
            not_actions=_as_list(raw.get("NotAction")),
            resources=_as_list(raw.get("Resource")),
            not_resources=_as_list(raw.get("NotResource")),
            conditions=conditions,
        )

    def applies_to(self, action: str, resource: str, context: RequestContext) -> bool:
        """Whether the statement speaks of this request (actions compare without case, as IAM's do)."""
        action = action.lower()
        actions = tuple(a.lower() for a in self.actions)
        not_actions = tuple(a.lower() for a in self.not_actions)
        return (
            (not actions or _any_like(action, actions))
            and not (not_actions and _any_like(action, not_actions))
            and (not self.resources or _any_like(resource, self.resources))
            and not (self.not_resources and _any_like(resource, self.not_resources))
            and all(condition.holds(context) for condition in self.conditions)
        )


@dataclass(frozen=True)
class Decision:
    allowed: bool
    statement: str | None  # the statement that allowed or explicitly denied it
    explicit_deny: bool = False


@dataclass(frozen=True)
class Policy:
    """Everything attached to one role (its inline and managed policies), as a flat list of statements."""

    principal: str  # the role's ARN, as AWS names it in an AccessDenied message
    statements: tuple[Statement, ...]
    revoked: frozenset[str] = field(default=frozenset())

    def without(self, names: frozenset[str]) -> Policy:
        return Policy(self.principal, self.statements, self.revoked | names)

    def decide(self, action: str, resource: str, context: RequestContext) -> Decision:
        allowed: str | None = None
        for statement in self.statements:
            if statement.name in self.revoked or not statement.applies_to(action, resource, context):
                continue
            if statement.effect == "Deny":
                return Decision(False, statement.name, explicit_deny=True)
            allowed = allowed or statement.name
        return Decision(allowed is not None, allowed)


def raw_statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A policy document's statements as written (IAM takes one statement or a list of them)."""
    raw = document.get("Statement", [])
    return [raw] if isinstance(raw, Mapping) else list(raw)


def parse_document(prefix: str, document: Mapping[str, Any]) -> tuple[Statement, ...]:
    """A policy document's statements, named `<prefix>.<Sid>` (or `<prefix>[<index>]` without one)."""
    statements = raw_statements(document)
    return tuple(
        Statement.parse(
            f"{prefix}.{statement['Sid']}" if "Sid" in statement else f"{prefix}[{index}]", statement
        )
        for index, statement in enumerate(statements)
    )
