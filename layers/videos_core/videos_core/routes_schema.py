"""The routes document's JSON Schema, as AWS AppConfig's JSON_SCHEMA validator takes it (draft-04): the
store refuses a document that breaks it before it is deployed, and `videos-api routes check` runs it
with the rest of the catalog's rules. Generated from `catalog.RoutesDocument`, so the schema and the
code cannot disagree. It says the document's shape; which providers and profiles exist is the
registry's to say, checked by the store's other validator (the ValidateRoutes function) and by
`routes check`, so that a provider added to the registry changes nothing here."""

from __future__ import annotations

from typing import Any

from videos_core.catalog import RoutesDocument

DRAFT_04 = "http://json-schema.org/draft-04/schema#"
_BARE_URL = RoutesDocument.model_json_schema()["$defs"]["Route"]["properties"]["base_url"]["anyOf"][0]


def schema() -> dict[str, Any]:
    generated = RoutesDocument.model_json_schema(ref_template="#/definitions/{model}")
    definitions = generated.pop("$defs")
    # A route may be a bare URL (an OpenAI-compatible server), alone or in a model's list of routes.
    route, routes = generated["additionalProperties"]["anyOf"]
    either = {"anyOf": [route, _BARE_URL]}
    generated["additionalProperties"] = {"anyOf": [*either["anyOf"], routes | {"items": either}]}
    document = {"$schema": DRAFT_04, **generated, "definitions": definitions}
    converted: dict[str, Any] = _draft_04(document)
    return converted


def _draft_04(node: Any) -> Any:
    """Draft 2020-12's keywords in draft-04's terms: a numeric exclusive bound becomes a bound with a
    boolean flag; `const` becomes a one-value `enum`; documentation-only keywords go."""
    if isinstance(node, list):
        return [_draft_04(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            converted["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            converted[key] = True
        elif key == "const":
            converted["enum"] = [value]
        elif key in ("title", "default") and not isinstance(value, dict):
            continue
        elif key == "propertyNames":
            # Draft-04 names keys by pattern alone: a key must match one, and nothing else is taken.
            pattern = value.get("pattern") or f"^.{{{value['minLength']},{value['maxLength']}}}$"
            converted["patternProperties"] = {pattern: _draft_04(node["additionalProperties"])}
            converted["additionalProperties"] = False
        elif key == "patternProperties":
            converted[key] = _draft_04(value)
            converted["additionalProperties"] = False
        elif key == "additionalProperties" and "propertyNames" in node:
            continue
        else:
            converted[key] = _draft_04(value)
    return converted
