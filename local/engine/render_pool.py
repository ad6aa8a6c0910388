"""Renders off the request path, in worker processes, each distinct render once."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import multiprocessing.pool
import signal
from pathlib import Path

from local.engine.render import ASSET_FILES, RenderResult, RenderSpec, render
from local.process_names import ENGINE_RENDER, name_this_process


def _start_worker() -> None:
    name_this_process(ENGINE_RENDER)
    # The engine stops its renderers itself: a terminal's Ctrl-C, sent to the whole group, is not theirs.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class RenderPool:
    def __init__(self, cache_dir: Path, workers: int) -> None:
        self.cache_dir = cache_dir
        self._workers = workers
        self._pool: multiprocessing.pool.Pool | None = None
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
            self.renders += 1
            future = self._submit(spec)
            self._in_flight[key] = future
            future.add_done_callback(lambda _: self._in_flight.pop(key, None))
        else:
            self.cache_hits += 1
        # Shielded: a deleted job's cancellation must not cancel a render other jobs share.
        return await asyncio.shield(future)

    def _submit(self, spec: RenderSpec) -> asyncio.Future[RenderResult]:
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = context.Pool(self._workers, initializer=_start_worker)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[RenderResult] = loop.create_future()

        def settle(outcome: RenderResult | BaseException) -> None:
            if future.done():
                return
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

        def deliver(outcome: RenderResult | BaseException) -> None:  # on the pool's result thread
            with contextlib.suppress(RuntimeError):  # the engine's loop has closed: no one waits
                loop.call_soon_threadsafe(settle, outcome)

        self._pool.apply_async(render, (spec, self.cache_dir), callback=deliver, error_callback=deliver)
        return future

    def close(self) -> None:
        """Stops the renderers at once: a render cut short leaves nothing in the cache."""
        if self._pool is not None:
            self._pool.terminate()
