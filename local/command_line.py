"""What the `videos-api` commands share: how an error ends one, and the options they take alike."""

from __future__ import annotations

from typing import Annotated

import typer

Region = Annotated[
    str | None,
    typer.Option(envvar="AWS_REGION", help="The deployed stack's region (default: your AWS profile's)."),
]


def fail(message: str, code: int = 1) -> typer.Exit:
    """One line on stderr, and the exit to raise with it."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)
