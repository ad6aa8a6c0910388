"""`videos-api serve`: the whole application offline — the HTTP API, a local AWS endpoint with the
template's resources, the state machine, and the built-in engine as upstream."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from local.engine.app import create_app
from local.engine.server import bind
from local.engine.service import EngineConfig
from local.keys import store_key
from local.serve.application import STACK, LocalApplication, LocalFunction, load_application
from local.serve.aws_endpoint import LocalAws
from local.serve.gateway import Gateway
from local.serve.metrics import put_emf_metrics
from local.serve.workers import Functions, Invocation, lambda_environment
from local.template import application_template

DEV_OWNER = "dev"
ENGINE_KEY = "sk-local-engine"


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    aws_port: int
    engine_port: int
    api_key: str
    fast: bool
    data_dir: Path

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
    """The ASGI face of the gateway."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            while message["type"] != "lifespan.shutdown":
                await send({"type": f"{message['type']}.complete"})
                message = await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        response = await self.gateway(Request(scope, receive))
        await response(scope, receive, send)


class InvocationLog:
    """Each invocation's output into logs/<function>.log, its metrics into the local CloudWatch."""

    def __init__(self, directory: Path, cloudwatch: Any) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.cloudwatch = cloudwatch

    def __call__(self, function: LocalFunction, invocation: Invocation) -> None:
        put_emf_metrics(self.cloudwatch, invocation.output)
        with (self.directory / f"{function.logical_id}.log").open("a") as log:
            log.write(invocation.output)
            if invocation.error is not None:
                log.write(f"ERROR {invocation.error}\n")


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


def build_application(options: ServeOptions, aws_endpoint: str) -> LocalApplication:
    parameters = {"UpstreamBaseUrl": f"{options.engine_url}/v1"}
    if options.fast:
        parameters["BackoffScale"] = "0.1"
    declared = application_template().get("Parameters", {})
    return load_application(
        application_template(),
        {k: v for k, v in parameters.items() if k in declared},
        lambda_environment(aws_endpoint),
    )


def run_serve(options: ServeOptions) -> None:
    api_socket, engine_socket = _bind_all(options)
    aws = LocalAws(options.host, options.aws_port)
    aws.start()
    application = build_application(options, aws.endpoint)
    aws.provision(application, ENGINE_KEY)
    store_key(aws.client("dynamodb"), application.tables["KeysTable"], DEV_OWNER, options.api_key)
    functions = Functions(application.functions, [str(d) for d in application.layer_dirs])
    log = InvocationLog(options.data_dir / "logs", aws.client("cloudwatch"))

    def dispatch(name: str, event: Any) -> Invocation:
        function = application.function_named(name)
        invocation = functions.invoke(function.name, event)
        log(function, invocation)
        return invocation

    aws.answer_lambda_with(dispatch)
    engine = EngineConfig(
        data_dir=options.data_dir / "engine", latency=2.0 if options.fast else 6.0, api_key=None
    )
    servers = [
        (
            _QuietServer(uvicorn.Config(_Api(Gateway(application, functions, log)), log_level="warning")),
            api_socket,
        ),
        (_QuietServer(uvicorn.Config(create_app(engine), log_level="warning", lifespan="on")), engine_socket),
    ]
    print(f"videos-api ({STACK}) is running{' in fast mode' if options.fast else ''}:", flush=True)
    print(f"  API           {options.api_url}   (openai SDK base_url: {options.api_url}/v1)", flush=True)
    print(f"  AWS endpoint  {aws.endpoint}", flush=True)
    print(f"  engine        {options.engine_url}/v1", flush=True)
    print(f"  logs          {options.data_dir / 'logs'}", flush=True)
    print(f"  API key       {options.api_key}   (owner '{DEV_OWNER}')", flush=True)
    try:
        asyncio.run(_serve(servers))
    finally:
        functions.close()
        aws.stop()
        print("videos-api stopped.", flush=True)


async def _serve(servers: Sequence[tuple[uvicorn.Server, socket.socket]]) -> None:
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server, _ in servers:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    await asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in servers))
    sys.stdout.flush()
