"""The `videos-api` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from local import command_line, routes_commands
from local import keys_commands as keys_app
from local.videos_commands import register as register_video_commands

# The engine and serve are imported by their commands: the client commands start without them.

app = typer.Typer(
    help="A serverless text-to-video job service (the OpenAI Videos API on AWS), runnable offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEFAULT_DATA_DIR = Path.home() / ".cache" / "videos-api" / "engine"


@app.callback()
def root() -> None:
    """A serverless text-to-video job service (the OpenAI Videos API on AWS), runnable offline."""


def fail(message: str) -> typer.Exit:
    """A usage or start-up error: exit code 2."""
    return command_line.fail(message, code=2)


@app.command()
def engine(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 4010,
    latency: Annotated[
        float, typer.Option(help="Seconds a job takes from creation to a terminal status.", min=0.0)
    ] = 6.0,
    data_dir: Annotated[
        Path, typer.Option(help="Where rendered media (cached by what determines them) and uploads are kept.")
    ] = DEFAULT_DATA_DIR,
    webhook_url: Annotated[
        str | None, typer.Option(help="POST signed video.completed / video.failed events to this URL.")
    ] = None,
    webhook_secret: Annotated[
        str | None,
        typer.Option(help="Standard Webhooks signing secret (whsec_…); generated and printed when omitted."),
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(help="Accept only this bearer key (default: any non-empty key).")
    ] = None,
    workers: Annotated[int, typer.Option(help="Render worker processes.", min=1)] = 2,
    render_cache: Annotated[
        Path | None,
        typer.Option(help="Where renders are kept, shared by content across engines (default: --data-dir)."),
    ] = None,
    s3_endpoint: Annotated[
        str | None,
        typer.Option(help="Where the Bedrock dialect writes its outputs: a local AWS endpoint's URL."),
    ] = None,
) -> None:
    """Run the built-in engine: an OpenAI-compatible Videos server that renders real MP4s."""
    from local.engine.server import PortInUseError, bind, run_engine
    from local.engine.service import EngineConfig
    from local.engine.webhooks import new_secret, secret_key

    if webhook_url is not None and webhook_secret is None:
        webhook_secret = new_secret()
        typer.echo(f"webhook secret: {webhook_secret}")
    if webhook_secret is not None:
        try:
            secret_key(webhook_secret)
        except ValueError as e:
            raise fail(f"--webhook-secret: {e}") from e
    config = EngineConfig(
        data_dir=data_dir,
        latency=latency,
        api_key=api_key,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        render_workers=workers,
        render_cache=render_cache,
        s3_endpoint=s3_endpoint,
    )
    try:
        sock = bind(host, port)
    except PortInUseError as e:
        raise fail(str(e)) from e
    typer.echo(f"engine listening on http://{host}:{port}/v1 (latency {latency:g}s, data in {data_dir})")
    run_engine(config, sock)


@app.command()
def serve(
    host: Annotated[
        str,
        typer.Option(
            help="Address the API and the playground listen on (0.0.0.0: every address, for a VM, a "
            "container or WSL); the engine and the AWS endpoint stay on 127.0.0.1."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the HTTP API.")] = 3000,
    aws_port: Annotated[
        int, typer.Option(help="Port of the local AWS endpoint (also serves downloads).")
    ] = 4566,
    engine_port: Annotated[int, typer.Option(help="Port of the built-in engine (the upstream).")] = 4010,
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="VIDEOS_API_KEY",
            help="The development key (owner 'dev'); when omitted, the one made on the first start and "
            "kept in the data directory.",
        ),
    ] = None,
    fast: Annotated[
        bool,
        typer.Option(
            "--fast",
            help="Backoff x 0.1, retries from 1 s and 2 s engine jobs: a 4 s video completes in seconds.",
        ),
    ] = False,
    webhooks: Annotated[
        bool,
        typer.Option(
            help="The engine announces each ending by signed webhook; without, the state machine's polling "
            "finds it."
        ),
    ] = True,
    data_dir: Annotated[
        Path,
        typer.Option(
            help="What serve keeps across restarts: tables, files, parameters, routes, the development "
            "key, the engine's characters; and the function logs."
        ),
    ] = Path(".videos-api"),
    reset: Annotated[
        bool, typer.Option("--reset", help="Start empty: remove what the data directory keeps first.")
    ] = False,
    render_cache: Annotated[
        Path | None,
        typer.Option(help="Where renders are kept, shared by content across engines (default: --data-dir)."),
    ] = None,
    upstream_base_url: Annotated[
        str | None,
        typer.Option(
            envvar="UPSTREAM_BASE_URL", help="A real OpenAI-compatible upstream (…/v1) instead of the engine."
        ),
    ] = None,
    upstream_api_key: Annotated[
        str | None, typer.Option(envvar="UPSTREAM_API_KEY", help="The real upstream's API key.")
    ] = None,
    routes: Annotated[
        Path | None,
        typer.Option(
            help="A routes document mapping models to providers, deployed to the local AppConfig; a route "
            "may hold its api_key, and one without base_url goes to the engine's dialect of its provider.",
        ),
    ] = None,
    allow_loopback_webhooks: Annotated[
        bool,
        typer.Option(
            "--allow-loopback-webhooks",
            help="Tenants' webhook endpoints may be http URLs on this machine (127.0.0.1, ::1, localhost), "
            "for a receiver running beside serve; without, https URLs with public addresses only.",
        ),
    ] = False,
    parameter: Annotated[
        list[str] | None,
        typer.Option(
            "--parameter",
            help="A template parameter as NAME=VALUE, as `sam deploy --parameter-overrides` takes it "
            "(repeatable), e.g. PollRequestsPerSecond=50.",
        ),
    ] = None,
) -> None:
    """Run the whole service offline: the API, a local AWS endpoint and the engine, from template.yaml."""
    from local.engine.server import PortInUseError
    from local.serve.aws_state import UnreadableStateError
    from local.serve.command import DevelopmentKeyError, ServeOptions, run_serve
    from local.serve.routes_file import RoutesFileError

    if (upstream_base_url is None) != (upstream_api_key is None):
        raise fail("--upstream-base-url and --upstream-api-key go together")
    parameters = dict(item.split("=", 1) for item in parameter or [] if "=" in item)
    if len(parameters) != len(parameter or []):
        raise fail("--parameter takes NAME=VALUE")
    options = ServeOptions(
        host=host,
        port=port,
        aws_port=aws_port,
        engine_port=engine_port,
        api_key=api_key,
        fast=fast,
        webhooks=webhooks,
        data_dir=data_dir.resolve(),
        reset=reset,
        upstream_url=upstream_base_url,
        upstream_key=upstream_api_key,
        parameters=parameters,
        render_cache=render_cache.resolve() if render_cache else None,
        routes=routes,
        allow_loopback_webhooks=allow_loopback_webhooks,
    )
    try:
        run_serve(options)
    except (PortInUseError, RoutesFileError, UnreadableStateError, DevelopmentKeyError) as e:
        raise fail(str(e)) from e
    except KeyError as e:  # a parameter the template does not declare
        raise fail(str(e.args[0])) from e


register_video_commands(app)

keys_app.register(app)
routes_commands.register(app)


@app.command()
def verify(
    file: Annotated[Path, typer.Argument(help="An MP4 or JPEG, as downloaded.", exists=True, dir_okay=False)],
    trust_anchor: Annotated[
        Path,
        typer.Option(
            help="The CA certificate (PEM) the signer must chain to (default: serve's development CA).",
            exists=True,
            dir_okay=False,
        ),
    ] = Path(".videos-api") / "content-credentials" / "ca.pem",
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Print a file's Content Credentials (C2PA manifest) and whether they validate against a trust
    anchor; exits 1 unless they are trusted."""
    from local.credentials_check import as_json as json_of
    from local.credentials_check import content_type, read_credentials

    try:
        kind = content_type(file)
    except ValueError as e:
        raise fail(str(e)) from e
    with file.open("rb") as stream:
        found = read_credentials(stream, kind, trust_anchor.read_text())
    if found is None:
        raise command_line.fail(f"{file}: no Content Credentials (C2PA manifest)")
    if as_json:
        typer.echo(json_of(found))
    else:
        rows = [
            ("status", found.state),
            ("generator", found.generator),
            ("actions", ", ".join(found.actions)),
            ("source type", found.source_type or "-"),
            ("model", f"{found.model or '-'} ({found.provider or '-'})"),
            ("job", found.job or "-"),
            ("signer", f"{found.signer or '-'} (issued by {found.issuer or '-'})"),
            ("time", found.time or "-"),
            *(
                ("ingredient", f"{i['relationship']}: {i['title']} {i['manifest']}".strip())
                for i in found.ingredients
            ),
            *(("failure", failure) for failure in found.failures),
        ]
        for name, value in rows:
            typer.echo(f"{name:<12}{value}")
    if found.state != "Trusted":
        raise typer.Exit(1)


def main() -> None:
    app()
