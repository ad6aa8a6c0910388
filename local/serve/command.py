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
from local.serve.data_dir import DataDirectory
from local.serve.development_certificate import CA_FILE
from local.serve.gateway import Gateway
from local.serve.routes_file import read_routes, stack_defaults
from local.serve.stack import ENGINE_KEY, LocalStack

DEV_OWNER = "dev"
# Where every internal call goes (the engine, the AWS endpoint, webhooks and callbacks), whatever --host.
LOOPBACK = "127.0.0.1"
# Hosts that listen on loopback too: no second socket is bound for the internal calls.
_WITH_LOOPBACK = frozenset({"0.0.0.0", "::", LOOPBACK, "localhost"})  # noqa: S104 - --host's choice
# How long a stop waits for requests in flight before it cuts them (serve stops within 3 s of a Ctrl-C).
GRACE_SECONDS = 1
# `--fast`: the status checks' backoff a tenth (the first check after a second), and a failed step's
# retries starting within a second.
FAST_PARAMETERS = {"BackoffScale": "0.1", "FirstCheckSeconds": "1", "RetryIntervalSeconds": "1"}


class DevelopmentKeyError(ValueError):
    """The --api-key given is stored revoked, or for another owner."""


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    aws_port: int
    engine_port: int
    # None: the development key kept in the data directory (made on the first start).
    api_key: str | None
    fast: bool
    data_dir: Path
    # Start empty: what the data directory keeps is removed first.
    reset: bool = False
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
    # Tenants' webhook endpoints may be http URLs on this machine (local receivers); otherwise https only.
    allow_loopback_webhooks: bool = False

    @property
    def api_url(self) -> str:
        """The API's URL on this machine."""
        host = LOOPBACK if self.host in _WITH_LOOPBACK else self.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    @property
    def internal_api_url(self) -> str:
        """The API's URL for the calls the stack makes to it (the engine's webhooks)."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def engine_url(self) -> str:
        return f"http://{LOOPBACK}:{self.engine_port}"

    @property
    def wildcard(self) -> bool:
        """Whether the API listens on every address of the machine."""
        return self.host in ("0.0.0.0", "::")  # noqa: S104 - --host's choice


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


def _bind_all(options: ServeOptions) -> tuple[list[socket.socket], socket.socket]:
    """Binds the API's ports (on --host, and on loopback for the internal calls) and the engine's, and
    checks the AWS port: a taken port fails before anything starts. The engine and the AWS endpoint
    listen on loopback only: they are the stack's own, never the users'."""
    sockets: list[socket.socket] = []
    try:
        sockets.append(bind(options.host, options.port))
        if options.host not in _WITH_LOOPBACK:
            sockets.append(bind(LOOPBACK, options.port))
        engine = bind(LOOPBACK, options.engine_port, "--engine-port")
        sockets.append(engine)
        bind(LOOPBACK, options.aws_port, "--aws-port").close()
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets[:-1], engine


def run_serve(options: ServeOptions) -> None:
    data = DataDirectory(options.data_dir)
    if options.reset:
        data.reset()
    parameters = (FAST_PARAMETERS if options.fast else {}) | options.parameters
    upstream_url = options.upstream_url or f"{options.engine_url}/v1"
    routes = None
    if options.routes is not None:
        defaults = stack_defaults(upstream_url, parameters)
        routes = read_routes(options.routes, defaults, None if options.upstream_url else options.engine_url)
    api_sockets, engine_socket = _bind_all(options)
    secret = new_secret()
    stack = LocalStack(
        host=LOOPBACK,
        aws_port=options.aws_port,
        upstream_url=upstream_url,
        upstream_key=options.upstream_key or ENGINE_KEY,
        webhook_secret=secret,
        log_dir=data.logs,
        parameters=parameters,
        secrets=routes.keys if routes else {},
        state_dir=data.aws,
        allow_loopback_webhooks=options.allow_loopback_webhooks,
        credentials_dir=data.content_credentials,
    )
    try:
        if routes is not None:
            stack.deploy_routes(routes.document, f"serve --routes {routes.source}")
        api_key = _development_key(stack, data, options.api_key)
    except BaseException:
        stack.close()
        raise
    playground = Playground(playground_config(api_key), stack.aws.endpoint)
    api = _Api(Gateway(stack.application, stack.functions, stack.log), playground)
    servers = [(_server(api), api_sockets)]
    print(f"videos-api ({STACK}) is running{' in fast mode' if options.fast else ''}:", flush=True)
    print(f"  API           {options.api_url}   (openai SDK base_url: {options.api_url}/v1)", flush=True)
    if options.wildcard:
        print(
            f"                and on every address of this machine, port {options.port} "
            f"(e.g. http://{socket.gethostname()}:{options.port})",
            flush=True,
        )
    print(f"  playground    {options.api_url}/", flush=True)
    print(f"  AWS endpoint  {stack.aws.endpoint}   (this machine only: downloads redirect here)", flush=True)
    if options.upstream_url is None:
        engine = EngineConfig(
            data_dir=data.engine,
            latency=2.0 if options.fast else 6.0,
            webhook_url=f"{options.internal_api_url}/webhooks/openai" if options.webhooks else None,
            webhook_secret=secret if options.webhooks else None,
            render_cache=options.render_cache,
            s3_endpoint=stack.aws.endpoint,
        )
        engine_app = create_app(engine)
        servers.append((_server(engine_app, lifespan="on"), [engine_socket]))
        webhooks = f"webhooks to {engine.webhook_url}" if options.webhooks else "no webhooks"
        print(f"  engine        {options.engine_url}/v1   ({webhooks})", flush=True)
    else:
        engine_socket.close()
        print(f"  upstream      {options.upstream_url}", flush=True)
    kept = "found again" if stack.aws.restored else "kept across restarts"
    print(f"  data          {options.data_dir}   ({kept}; --reset starts empty)", flush=True)
    print(f"  logs          {data.logs}", flush=True)
    if stack.signs_content_credentials:
        print(
            f"  credentials   videos are signed with a development certificate (C2PA); its CA: "
            f"{data.content_credentials / CA_FILE}",
            flush=True,
        )
    print(f"  API key       {api_key}   (owner '{DEV_OWNER}')", flush=True)
    if options.allow_loopback_webhooks:
        print(
            "  webhooks      endpoints may be http URLs on this machine (--allow-loopback-webhooks)",
            flush=True,
        )
    schedules = stack.run_schedules(catch_up=stack.aws.restored)

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


def _development_key(stack: LocalStack, data: DataDirectory, given: str | None) -> str:
    """The key given, or the one kept in the data directory (a new one if it was revoked), stored for
    the development owner unless the kept keys have it already."""
    key = given or data.development_key()
    try:
        stack.add_key(DEV_OWNER, key)
    except ValueError as e:
        if given is not None:
            raise DevelopmentKeyError(f"--api-key: {e}") from e
        data.api_key_file.unlink()
        key = data.development_key()
        stack.add_key(DEV_OWNER, key)
    return key


def _server(app: ASGIApp, **options: Any) -> uvicorn.Server:
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=GRACE_SECONDS, **options)
    return _QuietServer(config)


async def _serve(
    servers: Sequence[tuple[uvicorn.Server, list[socket.socket]]], on_stop: Callable[[], None]
) -> None:
    loop = asyncio.get_running_loop()

    def stop() -> None:
        on_stop()
        for server, _ in servers:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    await asyncio.gather(*(server.serve(sockets=sockets) for server, sockets in servers))
    sys.stdout.flush()
