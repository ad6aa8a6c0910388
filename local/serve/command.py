"""`videos-api serve`: the whole application offline — the HTTP API, a local AWS endpoint with the
template's resources, the state machine, and the built-in engine as upstream."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from local.engine.app import create_app
from local.engine.server import bind
from local.engine.service import EngineConfig
from local.engine.webhooks import new_secret
from local.playground.site import Playground, playground_config
from local.serve.application import STACK
from local.serve.gateway import Gateway
from local.serve.routes_file import read_routes, stack_defaults
from local.serve.stack import ENGINE_KEY, LocalStack

DEV_OWNER = "dev"
# How long a stop waits for requests in flight before it cuts them (serve stops within 3 s of a Ctrl-C).
GRACE_SECONDS = 1
# `--fast`: the status checks' backoff a tenth (the first check after a second), and a failed step's
# retries starting within a second.
FAST_PARAMETERS = {"BackoffScale": "0.1", "FirstCheckSeconds": "1", "RetryIntervalSeconds": "1"}


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    aws_port: int
    engine_port: int
    api_key: str
    fast: bool
    data_dir: Path
    # Whether the engine sends its signed webhooks (otherwise the state machine's polling finds each ending).
    webhooks: bool = True
    # A real upstream instead of the built-in engine (which then does not start).
    upstream_url: str | None = None
    upstream_key: str | None = None
    # Template parameters, as a deployment would override them.
    parameters: dict[str, str] = field(default_factory=dict)
    render_cache: Path | None = None
    # A routes document (local.serve.routes_file).
    routes: Path | None = None

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def engine_url(self) -> str:
        return f"http://{self.host}:{self.engine_port}"


class _QuietServer(uvicorn.Server):
    """Leaves signals to `serve`, which stops every server at once."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class _Api:
    """The ASGI face of the gateway, with the playground's pages beside the API."""

    def __init__(self, gateway: Gateway, playground: Playground) -> None:
        self.gateway = gateway
        self.playground = playground

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            while message["type"] != "lifespan.shutdown":
                await send({"type": f"{message['type']}.complete"})
                message = await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        request = Request(scope, receive)
        try:
            response = self.playground.answer(request) or await self.gateway(request)
        except asyncio.CancelledError:
            # serve is stopping, and its grace ran out before this request's function answered: the
            # request is cut (its client sees the connection close), and the stop goes on.
            return
        await response(scope, receive, send)


def _bind_all(options: ServeOptions) -> tuple[socket.socket, socket.socket]:
    """Binds the API and engine ports and checks the AWS port: a taken port fails before anything starts."""
    sockets: list[socket.socket] = []
    try:
        sockets.append(bind(options.host, options.port))
        sockets.append(bind(options.host, options.engine_port, "--engine-port"))
        bind(options.host, options.aws_port, "--aws-port").close()
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets[0], sockets[1]


def run_serve(options: ServeOptions) -> None:
    parameters = (FAST_PARAMETERS if options.fast else {}) | options.parameters
    upstream_url = options.upstream_url or f"{options.engine_url}/v1"
    routes = None
    if options.routes is not None:
        defaults = stack_defaults(upstream_url, parameters)
        routes = read_routes(options.routes, defaults, None if options.upstream_url else options.engine_url)
    api_socket, engine_socket = _bind_all(options)
    secret = new_secret()
    stack = LocalStack(
        host=options.host,
        aws_port=options.aws_port,
        upstream_url=upstream_url,
        upstream_key=options.upstream_key or ENGINE_KEY,
        webhook_secret=secret,
        log_dir=options.data_dir / "logs",
        parameters=parameters,
        secrets=routes.keys if routes else {},
    )
    if routes is not None:
        stack.deploy_routes(routes.document, f"serve --routes {routes.source}")
    stack.add_key(DEV_OWNER, options.api_key)
    playground = Playground(playground_config(options.api_key), stack.aws.endpoint)
    api = _Api(Gateway(stack.application, stack.functions, stack.log), playground)
    servers = [(_server(api), api_socket)]
    print(f"videos-api ({STACK}) is running{' in fast mode' if options.fast else ''}:", flush=True)
    print(f"  API           {options.api_url}   (openai SDK base_url: {options.api_url}/v1)", flush=True)
    print(f"  playground    {options.api_url}/", flush=True)
    print(f"  AWS endpoint  {stack.aws.endpoint}", flush=True)
    if options.upstream_url is None:
        engine = EngineConfig(
            data_dir=options.data_dir / "engine",
            latency=2.0 if options.fast else 6.0,
            webhook_url=f"{options.api_url}/webhooks/openai" if options.webhooks else None,
            webhook_secret=secret if options.webhooks else None,
            render_cache=options.render_cache,
            s3_endpoint=stack.aws.endpoint,
        )
        engine_app = create_app(engine)
        servers.append((_server(engine_app, lifespan="on"), engine_socket))
        webhooks = f"webhooks to {engine.webhook_url}" if options.webhooks else "no webhooks"
        print(f"  engine        {options.engine_url}/v1   ({webhooks})", flush=True)
    else:
        engine_socket.close()
        print(f"  upstream      {options.upstream_url}", flush=True)
    print(f"  logs          {options.data_dir / 'logs'}", flush=True)
    print(f"  API key       {options.api_key}   (owner '{DEV_OWNER}')", flush=True)
    schedules = stack.run_schedules()

    def stop_stack() -> None:
        # At once, beside the servers' own stop: the invocations in flight end, so their requests do.
        schedules.set()
        threading.Thread(target=stack.close, name="stop-stack", daemon=True).start()

    try:
        asyncio.run(_serve(servers, stop_stack))
    finally:
        schedules.set()
        # A second Ctrl-C (a terminal sends one to every process of the group) must not cut the cleanup short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stack.close()
        print("videos-api stopped.", flush=True)


def _server(app: ASGIApp, **options: Any) -> uvicorn.Server:
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=GRACE_SECONDS, **options)
    return _QuietServer(config)


async def _serve(
    servers: Sequence[tuple[uvicorn.Server, socket.socket]], on_stop: Callable[[], None]
) -> None:
    loop = asyncio.get_running_loop()

    def stop() -> None:
        on_stop()
        for server, _ in servers:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    await asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in servers))
    sys.stdout.flush()
