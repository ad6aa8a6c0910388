"""`videos-api routes schema | check | apply`: the routes document (model -> provider route) as the
deployed functions read it from AWS AppConfig."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from local.command_line import Region, fail

routes = typer.Typer(help="Check and deploy the routes document (which provider serves each model).")

DEFAULT_API_KEY_PARAMETER = "/videos-api/upstream-api-key"
DEFAULT_KEYS_PATH = "/videos-api/upstream-keys/"
File = Annotated[Path, typer.Argument(help="The routes document (JSON).", exists=True, dir_okay=False)]
BaseUrl = Annotated[
    str | None,
    typer.Option(help="The stack's UpstreamBaseUrl, if it has one (for routes that name no base_url)."),
]
KeysPath = Annotated[str, typer.Option(help="The stack's UpstreamKeysPath.")]
KeyParameter = Annotated[str, typer.Option(help="The stack's UpstreamApiKeyParameter.")]


@routes.command("schema")
def schema_() -> None:
    """Print the document's JSON Schema (draft-04, as the stack's AppConfig validator holds it)."""
    from videos_core.routes_schema import schema

    typer.echo(json.dumps(schema(), indent=2))


def _checked(file: Path, base_url: str | None, keys_path: str, key_parameter: str) -> bytes:
    from local.routes_store import check
    from videos_core.adapters.routes import RoutesDocumentError
    from videos_core.catalog import Defaults

    content = file.read_bytes()
    try:
        catalog = check(content, Defaults(base_url, key_parameter, keys_path))
    except RoutesDocumentError as e:
        raise fail(f"{file}: {e}") from e
    for model in catalog.models:
        entry = catalog.entries[model]
        typer.echo(f"{model}\t{entry.provider}\t{entry.upstream_model}\t{entry.base_url}")
    return content


@routes.command("check")
def check_(
    file: File,
    upstream_base_url: BaseUrl = None,
    keys_path: KeysPath = DEFAULT_KEYS_PATH,
    api_key_parameter: KeyParameter = DEFAULT_API_KEY_PARAMETER,
) -> None:
    """Check FILE by the store's schema and every rule the functions apply; list its models."""
    _checked(file, upstream_base_url, keys_path, api_key_parameter)


@routes.command("apply")
def apply(
    file: File,
    stack: Annotated[
        str | None, typer.Option(help="A deployed stack's name (with your AWS profile).")
    ] = None,
    aws_endpoint: Annotated[
        str | None, typer.Option(help="serve's local AWS endpoint instead, e.g. http://127.0.0.1:4566.")
    ] = None,
    engine_url: Annotated[
        str, typer.Option(help="With --aws-endpoint: serve's engine, for routes that name no base_url.")
    ] = "http://127.0.0.1:4010",
    region: Region = None,
    upstream_base_url: BaseUrl = None,
    keys_path: KeysPath = DEFAULT_KEYS_PATH,
    api_key_parameter: KeyParameter = DEFAULT_API_KEY_PARAMETER,
) -> None:
    """Check FILE, then deploy it to the stack's AppConfig (taken within RoutesMaxAgeSeconds). With
    --aws-endpoint, to a running serve's, as `serve --routes` takes a file (inline keys, the engine)."""
    import boto3
    from botocore.exceptions import ClientError

    from local.routes_store import deploy, stack_store

    if (stack is None) == (aws_endpoint is None):
        raise fail("name a deployed stack (--stack) or serve's endpoint (--aws-endpoint)")
    if aws_endpoint is not None:
        content, store, appconfig = _local(
            file, aws_endpoint, engine_url, upstream_base_url, keys_path, api_key_parameter
        )
        where = aws_endpoint
    else:
        content = _checked(file, upstream_base_url, keys_path, api_key_parameter)
        store = stack_store(boto3.client("cloudformation", region_name=region), str(stack))
        appconfig, where = boto3.client("appconfig", region_name=region), str(stack)
    try:
        version = deploy(appconfig, store, content, f"videos-api routes apply {file.name}")
    except (ClientError, RuntimeError, TimeoutError) as e:
        raise fail(str(e)) from e
    typer.echo(f"deployed version {version} of the routes to {where}")


def _local(
    file: Path, aws_endpoint: str, engine_url: str, base_url: str | None, keys_path: str, key_parameter: str
) -> tuple[bytes, Any, Any]:
    """The document as serve deploys it, its inline keys stored, and serve's routes store."""
    from local.routes_store import RESOURCES, RoutesStore
    from local.serve.application import declared_application
    from local.serve.aws_endpoint import client
    from local.serve.routes_file import RoutesFileError, read_routes
    from videos_core.catalog import Defaults

    defaults = Defaults(base_url or f"{engine_url}/v1", key_parameter, keys_path)
    try:
        read = read_routes(file, defaults, engine_url)
    except RoutesFileError as e:
        raise fail(str(e)) from e
    ssm = client("ssm", aws_endpoint)
    for name, value in read.keys.items():
        ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
    refs = declared_application().refs
    return read.document, RoutesStore(*(refs[r] for r in RESOURCES)), client("appconfig", aws_endpoint)


def register(app: typer.Typer) -> None:
    app.add_typer(routes, name="routes")
