"""Renders off the request path, in worker processes, each distinct render once."""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from local.engine.render import ASSET_FILES, RenderResult, RenderSpec, render
from local.process_names import ENGINE_RENDER, name_this_process


class RenderPool:
    def __init__(self, cache_dir: Path, workers: int) -> None:
        self.cache_dir = cache_dir
        self._workers = workers
        self._executor: ProcessPoolExecutor | None = None
        self._in_flight: dict[str, asyncio.Future[RenderResult]] = {}
        self.renders = 0
        self.cache_hits = 0

    def _cached(self, spec: RenderSpec) -> RenderResult | None:
        directory = self.cache_dir / spec.key()
        try:
            return RenderResult(directory, {name: (directory / name).stat().st_size for name in ASSET_FILES})
        except FileNotFoundError:
            return None

    async def render(self, spec: RenderSpec) -> RenderResult:
        cached = self._cached(spec)
        if cached is not None:
            self.cache_hits += 1
            return cached
        key = spec.key()
        future = self._in_flight.get(key)
        if future is None:
            if self._executor is None:
                context = multiprocessing.get_context("spawn")
                self._executor = ProcessPoolExecutor(
                    self._workers,
                    mp_context=context,
                    initializer=name_this_process,
                    initargs=(ENGINE_RENDER,),
                )
            self.renders += 1
            future = asyncio.wrap_future(self._executor.submit(render, spec, self.cache_dir))
            self._in_flight[key] = future
            future.add_done_callback(lambda _: self._in_flight.pop(key, None))
        else:
            self.cache_hits += 1
        # Shielded: a deleted job's cancellation must not cancel a render other jobs share.
        return await asyncio.shield(future)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
