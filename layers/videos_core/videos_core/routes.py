"""Every public route: which function serves it, and what it takes and returns.

The OpenAPI document is generated from this table and the contract models; tests keep it equal
to template.yaml's routes and to the routes each function's resolver serves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from videos_core.models.api import (
    CreateUploadRequest,
    CreateVideoRequest,
    DeletedVideo,
    DownloadLink,
    DownloadQuery,
    ListQuery,
    PollQuery,
    RemixVideoRequest,
    Upload,
    Video,
    VideoList,
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
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = (401, 404)
    redirects: bool = False
    authenticated: bool = True
    extra_statuses: dict[int, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def _surfaces(seed: str, openai: str | None, **route: object) -> list[Route]:
    paths = [seed] + ([openai] if openai else [])
    return [Route(path=path, **route) for path in paths]  # type: ignore[arg-type]


ROUTES: tuple[Route, ...] = (
    *_surfaces(
        "/api/videos",
        "/v1/videos",
        method="POST",
        function="create",
        summary="Create a video job",
        status=201,
        response=Video,
        body=CreateVideoRequest,
        multipart=True,
        errors=(400, 401, 404, 429, 500),
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
        status=201,
        response=Video,
        body=RemixVideoRequest,
        errors=(400, 401, 404, 409, 410, 429, 500),
    ),
    Route(
        "POST",
        "/v1/uploads",
        "uploads",
        "Upload a reference image straight to storage (a signed PUT), then create with its file_id",
        status=201,
        response=Upload,
        body=CreateUploadRequest,
        errors=(400, 401),
    ),
    Route(
        "POST",
        "/webhooks/openai",
        "webhook",
        "The upstream's signed video.completed / video.failed events",
        authenticated=False,
        errors=(400, 401),
    ),
    Route("GET", "/openapi.json", "openapi", "This document", authenticated=False, errors=()),
)


def routes_of(function: str) -> list[Route]:
    return [route for route in ROUTES if route.function == function]


def methods_at(path: str) -> set[str]:
    """The methods served at a concrete path (`/v1/videos/vid_…`), matching templates segment by segment."""
    segments = path.rstrip("/").split("/")
    methods = set()
    for route in ROUTES:
        template = route.path.split("/")
        if len(template) == len(segments) and all(
            t == s or (t.startswith("{") and t.endswith("}") and s)
            for t, s in zip(template, segments, strict=True)
        ):
            methods.add(route.method)
    return methods
