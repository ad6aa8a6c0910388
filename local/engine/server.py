"""Runs the engine's ASGI app with uvicorn on a socket bound up front (a taken port is one clear error)."""

from __future__ import annotations

import asyncio
import errno
import socket

import uvicorn

from local.engine.app import create_app
from local.engine.service import EngineConfig


class PortInUseError(OSError):
    def __init__(self, host: str, port: int, flag: str = "--port") -> None:
        super().__init__(f"port {port} on {host} is already in use; choose another with {flag}")


def bind(host: str, port: int, flag: str = "--port") -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise PortInUseError(host, port, flag) from e
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def run_engine(config: EngineConfig, sock: socket.socket) -> None:
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), log_level="warning", timeout_graceful_shutdown=3, lifespan="on")
    )
    asyncio.run(server.serve(sockets=[sock]))
