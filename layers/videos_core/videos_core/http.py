"""The HTTP glue every endpoint function shares: the resolver with its one error mapping, typed
parsing of bodies and queries, the caller's owner, and JSON responses."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from pydantic import BaseModel, ValidationError
from python_multipart.multipart import Field as FormField
from python_multipart.multipart import File as FormFile
from python_multipart.multipart import FormParser, MultipartState

from videos_core import deadline, wiring
from videos_core.auth import bearer_key
from videos_core.errors import (
    ApiError,
    InvalidRequest,
    InvalidVideoDuration,
    InvalidVideoPrompt,
    InvalidVideoSize,
    MethodNotAllowed,
    RequestTooLarge,
    RouteNotFound,
)
from videos_core.images import image_type
from videos_core.models.api import ErrorBody, OpenAIErrorDetail, UpstreamError
from videos_core.mp4 import mp4_type
from videos_core.observability import logger
from videos_core.ports import Reference
from videos_core.router import Handler, Request, Resolver, Response
from videos_core.routes import BY_KEY, Route, Surface, methods_at, routes_at, routes_of

M = TypeVar("M", bound=BaseModel)

JSON = "application/json"
DEFAULT_RETRY_AFTER = 5
# Bounds on what a request may carry.
# A JSON body is not base64-encoded in the event, but each character may be escaped (doubled).
MAX_JSON_BYTES = 2 * 1024 * 1024
# What reaches a function: Lambda takes an event of at most 6 MiB, in which a multipart body travels
# base64-encoded (a third larger) beside up to 10 KiB of headers. 4 MiB of body is what fits.
MAX_MULTIPART_BYTES = 4 * 1024 * 1024
MAX_REFERENCE_BYTES = MAX_MULTIPART_BYTES - 64 * 1024
MAX_JSON_DEPTH = 16
MAX_FORM_LIST = 16
# Body fields whose validation errors have codes of their own (the seed's table).
_FIELD_ERRORS: dict[str, type[ApiError]] = {
    "prompt": InvalidVideoPrompt,
    "seconds": InvalidVideoDuration,
    "size": InvalidVideoSize,
}
_OPENAI_TYPES = {401: "authentication_error", 429: "rate_limit_error"}
# Where OpenAI's surface begins: its errors follow OpenAI's statuses where they differ from the seed's.
OPENAI_PREFIX = "/v1/"
# The header every answer carries the request's id in (API Gateway's, which the logs carry as their
# correlation id): where OpenAI's clients read it (`request_id` on the openai SDK's responses and errors).
REQUEST_ID_HEADER = "x-request-id"

# What an answer needs after the work is done: shaping it, and the function's logs and metrics.
ANSWER_MARGIN_SECONDS = 2.0
# Between the end of a wait and its AWS calls' deadline: time to start the read that ends it.
LAST_READ_SECONDS = 0.5
# How long API Gateway waits for a function's answer (an HTTP API's integration timeout).
API_GATEWAY_WAIT_SECONDS = 30.0


def _openai_type(status: int) -> str:
    return _OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")


def error_response(app: Resolver, error: ApiError) -> Response:
    event = app.current_event
    status = error.status
    if error.openai_status is not None and event.raw_path.startswith(OPENAI_PREFIX):
        status = error.openai_status
    retry_after = error.retry_after
    if status in (429, 503):
        retry_after = retry_after or DEFAULT_RETRY_AFTER
    body = ErrorBody(
        statusCode=status,
        timestamp=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        path=event.raw_path,
        message=error.message,
        error_code=error.code,
        hint=error.hint,
        request_id=event.request_id,
        retry_after_seconds=retry_after,
        openai_error=UpstreamError(**vars(error.upstream)) if error.upstream else None,
        error=OpenAIErrorDetail(
            message=error.message, type=_openai_type(status), param=error.param, code=error.code
        ),
    )
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    # The seed's optional fields are left out when unset; every other field is always there.
    absent = {name for name in ("retry_after_seconds", "openai_error") if getattr(body, name) is None}
    return Response(status, JSON, body.model_dump_json(exclude=absent), headers)


class Api(Resolver):
    """One function's resolver: its handlers registered from the route table, and every failure
    answered in the contract's error body.

    A request whose path a more specific route serves with other methods (API Gateway sends a
    `GET /v1/videos/edits` to `GET /v1/videos/{video_id}`), like one no route matches (the function
    behind the API's `$default` route), answers 405 with the methods that serve the path, else 404.
    """

    def __init__(self, function: str) -> None:
        super().__init__()
        self.function = function
        self.on_error = self._on_error
        self.on_not_found = self._on_not_found

    def serves(
        self, surface: Surface | None = None, path: str | None = None, method: str | None = None
    ) -> Callable[[Handler], Handler]:
        """Registers the handler for every route of this function (on one surface, or at one path or
        method, where they are answered by different handlers)."""
        routes = [
            r
            for r in routes_of(self.function)
            if surface in (None, r.surface) and path in (None, r.path) and method in (None, r.method)
        ]
        if not routes:
            raise LookupError(f"the route table gives {self.function} no route on {surface}")

        def register(handler: Handler) -> Handler:
            for route in routes:
                self.route(route.method, route.path)(handler)
            return handler

        return register

    @property
    def matched(self) -> Route:
        """The table's route of the request being handled."""
        return BY_KEY[self.current_route or ""]

    def body_model(self, kind: type[M]) -> type[M]:
        """The body the matched route takes (the surfaces' prompt limits differ), a `kind`."""
        body = self.matched.body
        if body is None or not issubclass(body, kind):
            raise TypeError(f"{self.matched.key} takes {body}, not a {kind.__name__}")
        return body

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        request = Request(event)
        answer = self._answer(request, event, context)
        if request.request_id:
            answer.setdefault("headers", {})[REQUEST_ID_HEADER] = request.request_id
        return answer

    def _answer(self, request: Request, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        served = [r for r in routes_at(request.raw_path) if r.method == request.http_method]
        if served and served[0].function == self.function:
            return super().resolve(event, context)
        self.current_event, self.lambda_context, self.current_route = request, context, None
        if served:
            # Another function's route (API Gateway never sends it here): unknown to this one.
            unknown = RouteNotFound(f"No route {request.http_method} {request.raw_path}.")
            return error_response(self, unknown).to_lambda()
        return self._on_not_found().to_lambda()

    def _on_error(self, error: Exception) -> Response:
        if isinstance(error, ApiError):
            return error_response(self, error)
        logger.exception("unhandled error")
        return error_response(self, ApiError("The service failed to handle the request."))

    def _on_not_found(self) -> Response:
        event = self.current_event
        allowed = sorted(methods_at(event.raw_path))
        if not allowed:
            return error_response(self, RouteNotFound(f"No route {event.http_method} {event.raw_path}."))
        if event.http_method == "OPTIONS":
            # What the path serves (RFC 9110's OPTIONS). A browser's CORS preflight reaches the API's
            # $default route too: API Gateway answers it itself only when no route matches OPTIONS,
            # and adds the CorsConfiguration's headers to this answer (a 2xx, as a preflight needs).
            return Response(204, None, "", {"Allow": ", ".join([*allowed, "OPTIONS"])})
        response = error_response(
            self,
            MethodNotAllowed(
                f"{event.http_method} is not served at {event.raw_path}; use {', '.join(allowed)}."
            ),
        )
        response.headers["Allow"] = ", ".join(allowed)
        return response


def json_response(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, JSON, model.model_dump_json(), headers)


def time_left(app: Resolver) -> float:
    """Seconds this invocation may still spend before answering: within its own time limit and API
    Gateway's wait, leaving time to send the answer, and ending early enough that a read started
    then still comes before its AWS calls' deadline (which keeps its own time for the answer)."""
    remaining_ms: int = app.lambda_context.get_remaining_time_in_millis()
    answer_by = min(remaining_ms / 1000, API_GATEWAY_WAIT_SECONDS) - ANSWER_MARGIN_SECONDS
    return max(0.0, min(answer_by, deadline.seconds_left() - LAST_READ_SECONDS))


def owner_of(app: Resolver) -> str:
    """The caller, resolved from their API key; never taken from a header or body field."""
    key = bearer_key(app.current_event.headers.get("authorization"))
    return wiring.owners().owner_of_key(key)


def validation_error(error: ValidationError, *, where: str) -> ApiError:
    """The first problem of a body or query, as the contract's error naming the parameter."""
    first = error.errors()[0]
    param = str(first["loc"][0]) if first["loc"] else None
    if first["type"] == "extra_forbidden":
        return InvalidRequest(f"Unknown {where} parameter '{param}'.", param=param)
    kind = _FIELD_ERRORS.get(param or "", InvalidRequest) if where == "body" else InvalidRequest
    return kind(f"Invalid {where} parameter '{param}': {first['msg']}.", param=param)


def parse_query(app: Resolver, model: type[M]) -> M:
    try:
        return model.model_validate(app.current_event.query_string_parameters or {})
    except ValidationError as e:
        raise validation_error(e, where="query") from e


# The fields a form may carry a file in, and how each file's type is told from its bytes.
_FILE_TYPES: dict[str, Callable[[bytes], str]] = {"input_reference": image_type, "video": mp4_type}


def parse_body(app: Resolver, model: type[M], *, attachment: str | None = None) -> tuple[M, Reference | None]:
    """A JSON, multipart or url-encoded body as `model`, and the file a form carries in the field
    `attachment` (an image as `input_reference`, an MP4 as `video`), where one is taken. In a form,
    `name[key]` fields make an object, as the openai SDK sends them (`video[id]`)."""
    fields, file = _read_body(app, attachment)
    if "input_reference" in fields and (file is not None or not isinstance(fields["input_reference"], dict)):
        raise InvalidRequest(
            "input_reference must be an image file (multipart/form-data), or an object with the "
            '"file_id" of an image uploaded with POST /v1/uploads or an "image_url" that is a data: URL.',
            param="input_reference",
        )
    try:
        return model.model_validate(fields), file
    except ValidationError as e:
        raise validation_error(e, where="body") from e


def _raw_body(app: Resolver) -> bytes:
    event = app.current_event
    if not event.body:
        raise InvalidRequest("A request body is required.", param="body")
    if event.is_base64_encoded:
        try:
            return base64.b64decode(event.body, validate=True)
        except binascii.Error as e:
            raise InvalidRequest("The body is not valid base64.", param="body") from e
    return event.body.encode()


def _read_body(app: Resolver, attachment: str | None) -> tuple[dict[str, Any], Reference | None]:
    content_type = app.current_event.headers.get("content-type", JSON)
    media_type = content_type.split(";")[0].strip().lower()
    raw = _raw_body(app)
    limit = MAX_MULTIPART_BYTES if media_type == "multipart/form-data" else MAX_JSON_BYTES
    if len(raw) > limit:
        raise RequestTooLarge(
            f"The body is {len(raw):,} bytes; at most {limit:,} are accepted here.", param="body"
        )
    if media_type == JSON:
        return _json_fields(raw), None
    if media_type == "multipart/form-data":
        return _multipart_fields(raw, content_type, attachment)
    if media_type == "application/x-www-form-urlencoded":
        return _urlencoded_fields(raw), None
    raise InvalidRequest(
        f"Unsupported content type '{media_type}'; send application/json or multipart/form-data.",
        param="content-type",
    )


def _json_fields(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as e:
        raise InvalidRequest("The body is not valid JSON.", param="body") from e
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object.", param="body")
    if _depth(body) > MAX_JSON_DEPTH:
        raise InvalidRequest(f"The body nests deeper than {MAX_JSON_DEPTH} levels.", param="body")
    return body


def _depth(value: Any) -> int:
    """How deeply JSON nests, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        children = (
            current.values() if isinstance(current, dict) else current if isinstance(current, list) else ()
        )
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _urlencoded_fields(raw: bytes) -> dict[str, Any]:
    try:
        pairs = parse_qsl(raw.decode(), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError) as e:
        raise InvalidRequest("The form body could not be parsed.", param="body") from e
    return _unique(pairs)


# A form's field of a list of objects, as the openai SDK writes `characters`: `name[][key]` (each key
# again starts the next object) or `name[N][key]`.
_LIST_FIELD = re.compile(r"(\w+)\[(\d*)\]\[(\w+)\]")


def _unique(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Form fields as a body: each once, `name[key]` fields as the object `name`, and `name[][key]`
    fields as its list of objects."""
    fields: dict[str, Any] = {}
    for name, value in pairs:
        listed = _LIST_FIELD.fullmatch(name)
        if listed:
            _add_to_list(fields, listed.group(1), listed.group(2), listed.group(3), value)
            continue
        parent, bracket, rest = name.partition("[")
        if bracket and not (rest.endswith("]") and rest[:-1]):
            raise InvalidRequest(
                f"Parameter '{name}' is malformed: an object's field is name[key].", param=parent
            )
        into, field = (fields.setdefault(parent, {}), rest[:-1]) if bracket else (fields, name)
        if not isinstance(into, dict) or field in into:
            raise InvalidRequest(f"Parameter '{name}' is given more than once.", param=parent)
        into[field] = value
    return fields


def _add_to_list(fields: dict[str, Any], parent: str, index: str, key: str, value: str) -> None:
    items = fields.setdefault(parent, [])
    if not isinstance(items, list):
        raise InvalidRequest(f"Parameter '{parent}' is given more than once.", param=parent)
    at = int(index) if index else len(items) - 1 if items and key not in items[-1] else len(items)
    if at == len(items) and at < MAX_FORM_LIST:
        items.append({})
    if at >= len(items) or key in items[at]:
        raise InvalidRequest(
            f"Parameter '{parent}[{index}][{key}]' is out of order or repeated.", param=parent
        )
    items[at][key] = value


def _boundary(content_type: str) -> bytes:
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.lower() == "boundary" and value.strip('"'):
            return value.strip('"').encode()
    raise InvalidRequest("A multipart body needs a boundary in its Content-Type.", param="content-type")


def _multipart_fields(
    raw: bytes, content_type: str, attachment: str | None
) -> tuple[dict[str, Any], Reference | None]:
    pairs: list[tuple[str, str]] = []
    files: list[FormFile] = []

    def on_field(field: FormField) -> None:
        name, value = field.field_name or b"", field.value or b""
        pairs.append((name.decode(errors="replace"), value.decode(errors="replace")))

    boundary = _boundary(content_type)
    try:
        try:
            parser = FormParser("multipart/form-data", on_field, files.append, boundary=boundary)
            parser.write(raw)
            parser.finalize()
        except Exception as e:  # python-multipart raises several unrelated types for malformed bodies
            raise InvalidRequest("The multipart body could not be parsed.", param="body") from e
        if getattr(parser.parser, "state", None) != MultipartState.END:
            raise InvalidRequest("The multipart body is incomplete.", param="body")
        return _unique(pairs), _file_of(files, attachment)
    finally:
        for file in files:
            file.close()


def _file_of(files: list[FormFile], attachment: str | None) -> Reference | None:
    found = None
    for file in files:
        name = (file.field_name or b"").decode(errors="replace")
        if name != attachment or found is not None:
            raise InvalidRequest(f"Unexpected file field '{name}'.", param=name)
        file.file_object.seek(0)
        content = file.file_object.read()
        if len(content) > MAX_REFERENCE_BYTES:
            raise RequestTooLarge(f"{name} may be at most {MAX_REFERENCE_BYTES:,} bytes.", param=name)
        found = Reference(
            filename=(file.file_name or name.encode()).decode(errors="replace"),
            content=content,
            content_type=_FILE_TYPES[name](content),
        )
    return found
