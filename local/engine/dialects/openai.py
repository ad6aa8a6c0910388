"""OpenAI's Videos API over the engine, under `/v1`: what the openai SDK sends and parses, from OpenAI's
published OpenAPI document. Any non-empty bearer key is accepted unless the engine was started with one."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local.engine.dialects import Dialect, MediaFile
from local.engine.errors import EngineError
from local.engine.jobs import Job
from local.engine.params import (
    parse_base,
    parse_character,
    parse_create,
    parse_list,
    parse_remix,
    parse_variant,
)
from local.engine.service import Engine

Endpoint = Callable[[Request], Awaitable[Response]]


def _authorized(api_key: str | None, endpoint: Endpoint) -> Endpoint:
    """Any non-empty bearer key is accepted unless the engine was started with one."""

    async def guarded(request: Request) -> Response:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise EngineError(
                401,
                "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.",
                code="missing_api_key",
            )
        if api_key is not None and not secrets.compare_digest(key.strip(), api_key):
            raise EngineError(401, "Incorrect API key provided.", code="invalid_api_key")
        return await endpoint(request)

    return guarded


class _VideosApi:
    """OpenAI's Videos endpoints over the engine. A create or remix that carries an Idempotency-Key
    makes one job per key: a repeat (a client's retry after a timeout, say) answers with that job,
    for as long as the job exists (deleting it frees its key)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.jobs_by_key: dict[str, str] = {}

    def _once(self, request: Request, start: Callable[[], Job]) -> Response:
        key = request.headers.get("idempotency-key")
        if key is not None and self.jobs_by_key.get(key) in self.engine.jobs:
            return JSONResponse(self.engine.get(self.jobs_by_key[key]).view())
        job = start()
        if key is not None:
            self.jobs_by_key[key] = job.id
        return JSONResponse(job.view())

    async def create(self, request: Request) -> Response:
        params = await parse_create(request)
        return self._once(request, lambda: self.engine.create(params))

    async def list_videos(self, request: Request) -> Response:
        jobs, has_more = self.engine.list(parse_list(request))
        return JSONResponse(
            {
                "object": "list",
                "data": [job.view() for job in jobs],
                "first_id": jobs[0].id if jobs else None,
                "last_id": jobs[-1].id if jobs else None,
                "has_more": has_more,
            }
        )

    async def retrieve(self, request: Request) -> Response:
        job = self.engine.read_status(request.path_params["video_id"])
        view = job.view()
        headers = {}
        if view["status"] in ("queued", "in_progress"):
            headers["openai-poll-after-ms"] = str(max(100, int(job.latency * 100)))
        return JSONResponse(view, headers=headers)

    async def delete(self, request: Request) -> Response:
        video_id = request.path_params["video_id"]
        self.engine.delete(video_id)
        return JSONResponse({"id": video_id, "object": "video.deleted", "deleted": True})

    async def remix(self, request: Request) -> Response:
        prompt = await parse_remix(request)
        return self._once(request, lambda: self.engine.remix(request.path_params["video_id"], prompt))

    async def edit(self, request: Request) -> Response:
        params = await parse_base(request, extension=False)
        return self._once(request, lambda: self.engine.edit(params))

    async def extend(self, request: Request) -> Response:
        params = await parse_base(request, extension=True)
        return self._once(request, lambda: self.engine.extend(params))

    async def create_character(self, request: Request) -> Response:
        name, video = await parse_character(request)
        return JSONResponse(self.engine.characters.create(name, video).view())

    async def get_character(self, request: Request) -> Response:
        return JSONResponse(self.engine.characters.get(request.path_params["character_id"]).view())

    async def content(self, request: Request) -> Response:
        path, media_type = self.engine.asset(request.path_params["video_id"], parse_variant(request))
        return MediaFile(path, media_type=media_type)

    def routes(self, api_key: str | None) -> list[Route]:
        return [
            Route("/v1/videos", _authorized(api_key, self.create), methods=["POST"]),
            Route("/v1/videos", _authorized(api_key, self.list_videos), methods=["GET"]),
            # Before /v1/videos/{video_id}: a literal path wins, as on OpenAI's API.
            Route("/v1/videos/edits", _authorized(api_key, self.edit), methods=["POST"]),
            Route("/v1/videos/extensions", _authorized(api_key, self.extend), methods=["POST"]),
            Route("/v1/videos/characters", _authorized(api_key, self.create_character), methods=["POST"]),
            Route(
                "/v1/videos/characters/{character_id}",
                _authorized(api_key, self.get_character),
                methods=["GET"],
            ),
            Route("/v1/videos/{video_id}", _authorized(api_key, self.retrieve), methods=["GET"]),
            Route("/v1/videos/{video_id}", _authorized(api_key, self.delete), methods=["DELETE"]),
            Route("/v1/videos/{video_id}/remix", _authorized(api_key, self.remix), methods=["POST"]),
            Route("/v1/videos/{video_id}/content", _authorized(api_key, self.content), methods=["GET"]),
        ]


DIALECT = Dialect("openai", "/v1", lambda engine, api_key: _VideosApi(engine).routes(api_key), "sora-2")
