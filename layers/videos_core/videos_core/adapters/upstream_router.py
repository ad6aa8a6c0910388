"""The upstream port over every route of the catalog: each call goes to the adapter of its model's
route's provider (the registry's `adapter`), built on first use (a function imports only the adapters
its models need). A call goes to the model's first route, or to the route `via` names: each route
has an adapter of its own, which sees the catalog as that route's calls do (`Catalog.via`)."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Self

from videos_core.catalog import Catalog
from videos_core.errors import VideoGenerationFailed
from videos_core.ports import ContentStream, Reference, UpstreamCreate, UpstreamDerive, UpstreamJob
from videos_core.providers import provider
from videos_core.settings import Settings


class RoutedUpstream:
    def __init__(
        self,
        settings: Settings,
        catalog: Callable[[], Catalog],
        api_key: Callable[[str], str],
        attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._catalog = catalog
        self._make: Callable[[type[Any], str], Any] = lambda kind, route: kind(
            settings, lambda: catalog().via(route), api_key, attempts, sleep, clock
        )
        self._adapters: dict[tuple[str, str], Any] = {}
        self._deadline: float | None = None
        self._route: str | None = None

    def until(self, deadline: float) -> Self:
        """This upstream with every call over by `deadline` (time.monotonic())."""
        return self._copy(_deadline=deadline)

    def via(self, route: str | None) -> Self:
        """This upstream calling each model's route named `route` (its first, for None)."""
        return self._copy(_route=route)

    def _copy(self, **changes: Any) -> Self:
        copy = type(self).__new__(type(self))
        copy.__dict__.update(self.__dict__ | changes)
        return copy

    def close(self) -> None:
        """Closes every adapter's connections (a container's last act; tests')."""
        for adapter in self._adapters.values():
            adapter.close()

    def _for(self, model: str) -> Any:
        entry = self._catalog().entry(model, self._route)
        if entry is None:
            raise VideoGenerationFailed(f"Model '{model}' is no longer routed to an upstream.")
        adapter = self._adapters.get((entry.provider, entry.route))
        if adapter is None:
            module, _, name = provider(entry.provider).adapter.partition(":")
            adapter = self._make(getattr(importlib.import_module(module), name), entry.route)
            self._adapters[entry.provider, entry.route] = adapter
        return adapter if self._deadline is None else adapter.until(self._deadline)

    def auth_headers(self, model: str) -> dict[str, str]:
        """The headers a call authenticates as the model's route with, as its adapter sends them (a
        REST provider's: the signing secret some providers give to their account's key alone)."""
        adapter = self._for(model)
        headers: dict[str, str] = adapter.auth_headers(adapter.route(model))
        return headers

    def create(self, request: UpstreamCreate) -> UpstreamJob:
        job: UpstreamJob = self._for(request.model).create(request)
        return job

    def remix(
        self, model: str, upstream_id: str, prompt: str, idempotency_key: str | None = None
    ) -> UpstreamJob:
        job: UpstreamJob = self._for(model).remix(model, upstream_id, prompt, idempotency_key)
        return job

    def derive(self, request: UpstreamDerive) -> UpstreamJob:
        job: UpstreamJob = self._for(request.model).derive(request)
        return job

    def create_character(self, model: str, name: str, video: Reference) -> str:
        made: str = self._for(model).create_character(model, name, video)
        return made

    def delete(self, model: str, upstream_id: str) -> None:
        self._for(model).delete(model, upstream_id)

    def retrieve(self, model: str, upstream_id: str) -> UpstreamJob:
        job: UpstreamJob = self._for(model).retrieve(model, upstream_id)
        return job

    def stored_video(self, model: str, upstream_id: str) -> str | None:
        key: str | None = self._for(model).stored_video(model, upstream_id)
        return key

    def open_content(
        self, model: str, upstream_id: str, variant: str
    ) -> AbstractContextManager[ContentStream]:
        content: AbstractContextManager[ContentStream] = self._for(model).open_content(
            model, upstream_id, variant
        )
        return content
