"""Helpers shared by the test scopes: free ports, processes started and stopped cleanly."""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent

# The tests' own calls to the engine, the AWS endpoint and serve share one client, from every thread:
# httpx's module functions build a client, and with it a TLS context (~35 ms of CPU), for each call.
# It keeps no cookies, so that no call carries what an earlier one was answered.
HTTP = httpx.Client(cookies=http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[])))


# How many times `serving` picks free ports for serve, when one is taken before serve binds it.
PORT_ATTEMPTS = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_serving(
    url: str, process: subprocess.Popen[bytes], timeout: float = 90.0, log: Path | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode} before serving{_tail(log)}")
        with contextlib.suppress(httpx.HTTPError):
            HTTP.get(url, timeout=1.0)
            return
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not start within {timeout}s{_tail(log)}")


def _tail(log: Path | None, lines: int = 40) -> str:
    """The end of a process's output, for the error that says it did not start."""
    if log is None or not log.exists():
        return ""
    return "; its output ended:\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def serve_args(
    ports: tuple[int, int, int], api_key: str | None, data_dir: Path, *, fast: bool = True
) -> list[str]:
    """`videos-api serve` on the given API, AWS and engine ports (no `api_key`: the one it keeps)."""
    port, aws, engine = ports
    return [
        "serve",
        *(["--fast"] if fast else []),
        "--port",
        str(port),
        "--aws-port",
        str(aws),
        "--engine-port",
        str(engine),
        *(["--api-key", api_key] if api_key is not None else []),
        "--data-dir",
        str(data_dir),
    ]


@contextlib.contextmanager
def running(
    args: Sequence[str], ready_url: str, log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Runs `videos-api ARGS` until the block ends, its output in `log`; a real upstream's variables
    reach it only through `env`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("UPSTREAM_")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "local", *args],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environment | {"PYTHONUNBUFFERED": "1"} | (env or {}),
        )
        try:
            wait_until_serving(ready_url, process, log=log)
            yield process
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass(frozen=True)
class Served:
    """A running `videos-api serve`: its API, local AWS endpoint and engine."""

    api: str
    aws: str
    engine: str
    data_dir: Path
    ports: tuple[int, int, int]


@contextlib.contextmanager
def serving(
    api_key: str,
    data_dir: Path,
    *extra_args: str,
    fast: bool = True,
    env: dict[str, str] | None = None,
    render_cache: Path | None = None,
) -> Iterator[Served]:
    """`videos-api serve` on free ports until the block ends, its output in data_dir/serve.log. A port
    found free can be taken before serve binds it (any connection's own end may get it): serve then
    refuses to start, and is started again on other ports."""
    log = data_dir / "serve.log"
    for attempt in range(1, PORT_ATTEMPTS + 1):
        ports = (free_port(), free_port(), free_port())
        api, aws, engine = (f"http://127.0.0.1:{port}" for port in ports)
        args = [*serve_args(ports, api_key, data_dir, fast=fast), *extra_args]
        if render_cache is not None:
            args += ["--render-cache", str(render_cache)]
        started = contextlib.ExitStack()
        try:
            started.enter_context(running(args, f"{api}/openapi.json", log, env))
        except RuntimeError:
            if attempt == PORT_ATTEMPTS or "already in use" not in log.read_text():
                raise
            continue
        with started:
            yield Served(api, aws, engine, data_dir, ports)
        return


# What every function's settings need, as the tests give them (no table or bucket is reached).
SETTINGS_ENV = {
    "VIDEOS_TABLE": "videos",
    "KEYS_TABLE": "keys",
    "ASSETS_BUCKET": "assets",
    "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:jobs",
    "EVENT_BUS_NAME": "bus",
    "UPSTREAM_BASE_URL": "http://127.0.0.1:4010/v1",
    "UPSTREAM_API_KEY_PARAMETER": "/videos-api/upstream-api-key",
}
