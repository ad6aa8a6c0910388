"""The ids the local AppConfig gives what a stack creates. CloudFormation tags each resource it creates
with its stack and logical id; the local endpoint derives the resource's id from those two tags, so the
local application knows what `Ref` of an AppConfig resource answers before the resource exists."""

from __future__ import annotations

import hashlib

STACK_TAG = "aws:cloudformation:stack-name"
LOGICAL_ID_TAG = "aws:cloudformation:logical-id"
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def stack_resource_id(stack: str, logical_id: str) -> str:
    """A 7-character id in AppConfig's own pattern (`[a-z0-9]{4,7}`), the same for the same resource."""
    number = int.from_bytes(hashlib.sha256(f"{stack}/{logical_id}".encode()).digest()[:8], "big")
    characters = []
    for _ in range(7):
        number, digit = divmod(number, len(_ALPHABET))
        characters.append(_ALPHABET[digit])
    return "".join(characters)


def stack_tags(stack: str, logical_id: str) -> dict[str, str]:
    return {STACK_TAG: stack, LOGICAL_ID_TAG: logical_id}


def id_from_tags(tags: dict[str, str] | None) -> str | None:
    if tags and STACK_TAG in tags and LOGICAL_ID_TAG in tags:
        return stack_resource_id(tags[STACK_TAG], tags[LOGICAL_ID_TAG])
    return None
