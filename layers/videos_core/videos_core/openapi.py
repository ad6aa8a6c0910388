"""The OpenAPI 3.1 document of the service, generated from the route table and the contract models."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from videos_core.models.api import ErrorBody
from videos_core.routes import ROUTES, Route

_REF = "#/components/schemas/{model}"
_ERROR_DESCRIPTIONS = {
    400: "Invalid parameter",
    401: "Missing, malformed, unknown or revoked API key",
    404: "No such video or character (or another owner's)",
    409: "Not completed yet, or a request with the same Idempotency-Key still in flight",
    410: "Past retention",
    413: "The body (or an image in it) is larger than is accepted here",
    422: "The Idempotency-Key was used with a different request",
    429: "Rate limited or over quota (see Retry-After)",
    500: "The upstream failed",
    503: "AWS or the upstream failing for a moment: nothing was kept; retry after Retry-After",
    504: "maxWaitMs spent",
}


class _Schemas:
    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def ref(self, model: type[BaseModel]) -> dict[str, str]:
        schema = model.model_json_schema(ref_template=_REF)
        for name, definition in schema.pop("$defs", {}).items():
            self.components[name] = definition
        self.components[model.__name__] = schema
        return {"$ref": _REF.format(model=model.__name__)}


def _parameters(route: Route) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", route.path)
    ]
    if route.query is not None:
        properties = route.query.model_json_schema()["properties"]
        parameters += [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in properties.items()
        ]
    return parameters


def _request_body(route: Route, schemas: _Schemas) -> dict[str, Any] | None:
    if route.body is None:
        return None
    content: dict[str, Any] = {"application/json": {"schema": schemas.ref(route.body)}}
    if route.multipart:
        form = route.body.model_json_schema(ref_template=_REF)
        schemas.components.update(form.pop("$defs", {}))
        form.pop("title", None)
        # An object is sent as `name[key]` fields (`input_reference[file_id]`, `video[id]`); the
        # route's upload field may carry a file instead.
        if route.upload is not None:
            file = {"type": "string", "format": "binary"}
            given = form["properties"].get(route.upload)
            form["properties"][route.upload] = {"anyOf": [file, given]} if given else file
        content["multipart/form-data"] = {"schema": form}
    return {"required": True, "content": content}


def _responses(route: Route, schemas: _Schemas) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    schema: dict[str, Any] = {"type": "object"}
    if route.response is not None:
        schema = schemas.ref(route.response)
    description = "The link (with redirect=false)" if route.redirects else route.summary
    success = {"type": "array", "items": schema} if route.response_is_array else schema
    responses[str(route.status)] = {
        "description": description,
        "content": {"application/json": {"schema": success}},
    }
    if route.redirects:
        responses["302"] = {
            "description": "Redirect to a presigned download URL",
            "headers": {"Location": {"schema": {"type": "string"}}},
        }
    for status, description in route.extra_statuses.items():
        responses[str(status)] = {
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
    error = schemas.ref(ErrorBody)
    # Every route that reads the store (all but the document itself) may find it throttled.
    for status in (*route.errors, 503) if route.authenticated else route.errors:
        responses[str(status)] = {
            "description": _ERROR_DESCRIPTIONS[status],
            "content": {"application/json": {"schema": error}},
        }
    return responses


def _operation_id(route: Route) -> str:
    return f"{route.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', route.path.lower()).strip('_')}"


def openapi_document() -> dict[str, Any]:
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        operation: dict[str, Any] = {
            "operationId": _operation_id(route),
            "summary": route.summary,
            "tags": ["seed" if route.path.startswith("/api/") else "openai-compatible"],
            "parameters": _parameters(route),
            "responses": _responses(route, schemas),
        }
        body = _request_body(route, schemas)
        if body is not None:
            operation["requestBody"] = body
        operation["security"] = [{"bearerAuth": []}] if route.authenticated else []
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "videos-api",
            "version": "1.0.0",
            "description": "The OpenAI Videos API (Sora) surface as a serverless job service.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas.components,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
