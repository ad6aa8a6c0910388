"""`videos-api keys create | list | revoke`, on serve's local endpoint or a deployed stack."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from local.command_line import Region, fail
from local.keys import create_key, list_keys, revoke_key
from local.terminal_table import Column, print_table, terminal_console

keys = typer.Typer(help="Manage API keys (shown once, stored hashed).", no_args_is_help=True)

Endpoint = Annotated[
    str | None, typer.Option(help="A local AWS endpoint, e.g. http://127.0.0.1:4566 (serve's default).")
]
Stack = Annotated[
    str | None, typer.Option(help="A deployed stack's name: its keys table is used, with your AWS profile.")
]


# `keys list`: the id, and whether it is revoked, always; the owner's name takes the width left.
KEY_COLUMNS = (
    Column("id", keep=True),
    Column("owner", flexible=True),
    Column("created", rank=2),
    Column("last used", rank=1),
    Column("revoked", keep=True),
)


def _keys_table(aws_endpoint: str | None, stack: str | None, region: str | None) -> tuple[Any, str]:
    from local.keys_table import keys_table  # boto3, for these commands only

    return keys_table(aws_endpoint, stack, region)


def _when(epoch: int | None) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M") if epoch else "-"


@keys.command("create")
def create(
    owner: Annotated[str, typer.Option(help="Who the key belongs to.")],
    aws_endpoint: Endpoint = None,
    stack: Stack = None,
    region: Region = None,
) -> None:
    """Create a key for OWNER; the key is the last line printed (and never shown again)."""
    dynamodb, table = _keys_table(aws_endpoint, stack, region)
    try:
        key = create_key(dynamodb, table, owner)
    except ValueError as e:
        raise fail(str(e)) from e
    typer.echo(f"Created a key for owner '{owner}' in {table}. It is shown only this once:")
    typer.echo(key)


@keys.command("list")
def list_(aws_endpoint: Endpoint = None, stack: Stack = None, region: Region = None) -> None:
    """List keys: id, owner, created, last used, revoked (never the keys themselves)."""
    dynamodb, table = _keys_table(aws_endpoint, stack, region)
    rows = [
        (info.id, info.owner, _when(info.created_at), _when(info.last_used_at), _when(info.revoked_at))
        for info in list_keys(dynamodb, table)
    ]
    print_table(terminal_console(), KEY_COLUMNS, rows)


@keys.command("revoke")
def revoke(
    key: Annotated[str, typer.Argument(help="The key, or its id as `keys list` shows it (key_…).")],
    aws_endpoint: Endpoint = None,
    stack: Stack = None,
    region: Region = None,
) -> None:
    """Revoke a key; it stops working within the key cache's lifetime (60 s by default)."""
    dynamodb, table = _keys_table(aws_endpoint, stack, region)
    try:
        info = revoke_key(dynamodb, table, key)
    except ValueError as e:
        raise fail(str(e)) from e
    typer.echo(f"revoked {info.id} of owner '{info.owner}'")


def register(app: typer.Typer) -> None:
    app.add_typer(keys, name="keys")
