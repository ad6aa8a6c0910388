"""Every public route: which function serves it, and what it takes and returns.

A route is added here and nowhere else in code: each function's resolver registers its handlers from
this table, and the OpenAPI document is generated from it and the contract models; a test keeps
template.yaml's routes equal to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from videos_core.models.api import (
    Character,
    CreateCharacterRequest,
    CreateUploadRequest,
    CreateVideoRequest,
    DeletedVideo,
    DownloadLink,
    DownloadQuery,
    EditVideoRequest,
    ExtendVideoRequest,
    ListQuery,
    ModelList,
    OpenAICreateVideoRequest,
    OpenAIRemixVideoRequest,
    PollQuery,
    RemixVideoRequest,
    Upload,
    Video,
    VideoList,
)
from videos_core.models.webhook_endpoints import (
    CreateWebhookEndpointRequest,
    DeletedWebhookEndpoint,
    RotateSecretRequest,
    TestWebhookEndpointRequest,
    UpdateWebhookEndpointRequest,
    WebhookDelivery,
    WebhookDeliveryList,
    WebhookEndpoint,
    WebhookEndpointList,
    WebhookEndpointListQuery,
    WebhookEndpointTestResult,
    WebhookEndpointWithSecret,
)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    summary: str
    status: int = 200
    response: type[BaseModel] | None = None
    response_is_array: bool = False
    body: type[BaseModel] | None = None
    multipart: bool = False
    # The form field a file may come in (an image as input_reference, an MP4 as video).
    upload: str | None = None
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = (401, 404)
    redirects: bool = False
    authenticated: bool = True
    extra_statuses: dict[int, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def surface(self) -> Surface:
        return "openai" if self.path.startswith("/v1/") else "seed"


Surface = Literal["seed", "openai"]


def _surfaces(
    seed: str,
    openai: str | None,
    *,
    bodies: tuple[type[BaseModel], type[BaseModel]] | None = None,
    creates: bool = False,
    **route: Any,
) -> list[Route]:
    """The route on the seed's surface and on OpenAI's. Where they differ: `bodies` (the seed's, then
    OpenAI's), and a route that `creates` answers 201 on the seed's and 200 (the spec's) on OpenAI's."""
    routes = [Route(path=seed, body=bodies[0] if bodies else None, status=201 if creates else 200, **route)]
    if openai:
        routes.append(Route(path=openai, body=bodies[1] if bodies else None, **route))
    return routes


ROUTES: tuple[Route, ...] = (
    *_surfaces(
        "/api/videos",
        "/v1/videos",
        method="POST",
        function="create",
        summary="Create a video job",
        creates=True,
        response=Video,
        bodies=(CreateVideoRequest, OpenAICreateVideoRequest),
        multipart=True,
        upload="input_reference",
        errors=(400, 401, 404, 409, 413, 422, 429, 500),
    ),
    *_surfaces(
        "/api/videos/{video_id}",
        "/v1/videos/{video_id}",
        method="GET",
        function="get",
        summary="Get a video's current status",
        response=Video,
    ),
    *_surfaces(
        "/api/videos/{video_id}/poll",
        None,
        method="GET",
        function="poll",
        summary="Wait until a video finishes (202 + Retry-After while it runs)",
        response=Video,
        query=PollQuery,
        errors=(400, 401, 404, 504),
        extra_statuses={202: "Still running; poll again after Retry-After seconds"},
    ),
    *_surfaces(
        "/api/videos/{video_id}/download",
        "/v1/videos/{video_id}/content",
        method="GET",
        function="download",
        summary="Download a video, thumbnail or spritesheet (302 to a presigned URL)",
        response=DownloadLink,
        query=DownloadQuery,
        errors=(400, 401, 404, 409, 410),
        redirects=True,
    ),
    Route(
        "GET",
        "/api/videos",
        "list",
        "List your videos (a bare array)",
        response=Video,
        response_is_array=True,
        query=ListQuery,
        errors=(400, 401),
    ),
    Route(
        "GET",
        "/v1/videos",
        "list",
        "List your videos (a list page)",
        response=VideoList,
        query=ListQuery,
        errors=(400, 401),
    ),
    *_surfaces(
        "/api/videos/{video_id}",
        "/v1/videos/{video_id}",
        method="DELETE",
        function="delete",
        summary="Delete a video: its job, files and upstream copy",
        response=DeletedVideo,
    ),
    *_surfaces(
        "/api/videos/{video_id}/remix",
        "/v1/videos/{video_id}/remix",
        method="POST",
        function="remix",
        summary="Remix a completed video with a new prompt",
        creates=True,
        response=Video,
        bodies=(RemixVideoRequest, OpenAIRemixVideoRequest),
        errors=(400, 401, 404, 409, 410, 413, 422, 429, 500),
    ),
    Route(
        "POST",
        "/v1/videos/edits",
        "edit",
        "Edit a completed video: re-made with a new prompt",
        response=Video,
        body=EditVideoRequest,
        multipart=True,
        upload="video",
        errors=(400, 401, 404, 409, 410, 413, 422, 429, 500),
    ),
    Route(
        "POST",
        "/v1/videos/extensions",
        "extend",
        "Extend a completed video with a new segment (its seconds: the stitched total)",
        response=Video,
        body=ExtendVideoRequest,
        multipart=True,
        upload="video",
        errors=(400, 401, 404, 409, 410, 413, 422, 429, 500),
    ),
    Route(
        "POST",
        "/v1/videos/characters",
        "create_character",
        "Make a character from a name and a short video (then name it in a create's characters)",
        response=Character,
        body=CreateCharacterRequest,
        multipart=True,
        upload="video",
        errors=(400, 401, 413, 500),
    ),
    Route(
        "GET",
        "/v1/videos/models",
        "list_models",
        "List the models this service accepts: what each makes (lengths, sizes, inputs) and its price",
        response=ModelList,
    ),
    Route(
        "GET",
        "/v1/videos/characters/{character_id}",
        "get_character",
        "Get a character of yours",
        response=Character,
    ),
    Route(
        "POST",
        "/v1/uploads",
        "uploads",
        "Upload a reference image straight to storage (a signed PUT), then create with its file_id",
        status=201,
        response=Upload,
        body=CreateUploadRequest,
        errors=(400, 401, 413),
    ),
    Route(
        "POST",
        "/v1/webhook_endpoints",
        "webhook_endpoints",
        "Add an endpoint that receives your videos' video.completed / video.failed events, signed",
        response=WebhookEndpointWithSecret,
        body=CreateWebhookEndpointRequest,
        errors=(400, 401),
    ),
    Route(
        "GET",
        "/v1/webhook_endpoints",
        "webhook_endpoints",
        "List your webhook endpoints, newest first",
        response=WebhookEndpointList,
        query=WebhookEndpointListQuery,
        errors=(400, 401),
    ),
    Route(
        "GET",
        "/v1/webhook_endpoints/{webhook_endpoint_id}",
        "webhook_endpoints",
        "Get a webhook endpoint of yours (its secret's hint only)",
        response=WebhookEndpoint,
    ),
    Route(
        "POST",
        "/v1/webhook_endpoints/{webhook_endpoint_id}",
        "webhook_endpoints",
        "Change a webhook endpoint's name, URL or event types (enables a disabled one)",
        response=WebhookEndpoint,
        body=UpdateWebhookEndpointRequest,
        errors=(400, 401, 404),
    ),
    Route(
        "DELETE",
        "/v1/webhook_endpoints/{webhook_endpoint_id}",
        "webhook_endpoints",
        "Delete a webhook endpoint",
        response=DeletedWebhookEndpoint,
    ),
    Route(
        "POST",
        "/v1/webhook_endpoints/{webhook_endpoint_id}/rotate_secret",
        "webhook_endpoints",
        "A new signing secret; the old one signs too for 24 hours if asked, else it stops now",
        response=WebhookEndpointWithSecret,
        body=RotateSecretRequest,
        errors=(400, 401, 404),
    ),
    Route(
        "POST",
        "/v1/webhook_endpoints/{webhook_endpoint_id}/test",
        "webhook_endpoints",
        "Send a signed test event of a type to the endpoint, and read its answer's status",
        response=WebhookEndpointTestResult,
        body=TestWebhookEndpointRequest,
        errors=(400, 401, 404),
    ),
    Route(
        "GET",
        "/v1/webhook_endpoints/{webhook_endpoint_id}/deliveries",
        "webhook_endpoints",
        "List the endpoint's deliveries, newest first, each with its attempts (kept a week; an extension)",
        response=WebhookDeliveryList,
        query=WebhookEndpointListQuery,
        errors=(400, 401, 404),
    ),
    Route(
        "POST",
        "/v1/webhook_endpoints/{webhook_endpoint_id}/deliveries/{delivery_id}/replay",
        "webhook_endpoints",
        "Send a delivery again now, under its webhook-id (an extension)",
        response=WebhookDelivery,
        errors=(401, 404),
    ),
    Route(
        "POST",
        "/webhooks/openai",
        "webhook",
        "The upstream's signed video.completed / video.failed events",
        authenticated=False,
        errors=(400, 401),
    ),
    Route(
        "POST",
        "/webhooks/{provider}/{token}",
        "webhook",
        "A provider's call when a job ends (fal, OpenRouter): the URL's per-job token authenticates it",
        authenticated=False,
        errors=(400, 401, 404),
    ),
    Route("GET", "/openapi.json", "openapi", "This document", authenticated=False, errors=()),
)


BY_KEY = {route.key: route for route in ROUTES}


def routes_of(function: str) -> list[Route]:
    return [route for route in ROUTES if route.function == function]


def routes_at(path: str) -> list[Route]:
    """The routes that serve a concrete path (`/v1/videos/vid_…`): the most specific templates it
    matches, a literal segment before a {variable}, as API Gateway chooses. At `/v1/videos/edits`
    that is POST alone, though `/v1/videos/{video_id}` matches it too."""
    segments = path.rstrip("/").split("/")
    best: tuple[bool, ...] = ()
    found: list[Route] = []
    for route in ROUTES:
        template = route.path.split("/")
        if len(template) != len(segments):
            continue
        literal = tuple(t == s for t, s in zip(template, segments, strict=True))
        if not all(
            same or (t.startswith("{") and s) for same, t, s in zip(literal, template, segments, strict=True)
        ):
            continue
        if literal > best:
            best, found = literal, []
        if literal == best:
            found.append(route)
    return found


def methods_at(path: str) -> set[str]:
    """The methods served at a concrete path."""
    return {route.method for route in routes_at(path)}
