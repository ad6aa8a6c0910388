"""`videos-api generate | remix | edit | extend | list | get | delete | download | characters`: the
service from a terminal."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from local.client import DEFAULT_BASE_URL, ApiCallError, VideosClient
from local.command_line import fail
from local.terminal_table import Column, print_table, terminal_console

# rich (the progress bar, tables, JSON in colour) is imported where a terminal shows them: every
# command pays for what it imports at its start, and most print a line, or JSON into a pipe.

# Seconds between GETs that move the progress bar while a long poll waits for the end.
REFRESH_SECONDS = 1.0
MAX_WAIT_MS = 3_600_000

# `list`: the id and status always; the prompt cut to the width left; then, as they fit, the model, when,
# the size, the length and the progress.
VIDEO_COLUMNS = (
    Column("id", keep=True),
    Column("status", keep=True),
    Column("progress", rank=5),
    Column("model", rank=1),
    Column("seconds", rank=4),
    Column("size", rank=3),
    Column("created", rank=2),
    Column("prompt", flexible=True),
)
# `models`: the sizes wrap; the price before the other details.
MODEL_COLUMNS = (
    Column("model", keep=True),
    Column("provider", keep=True),
    Column("seconds", rank=2),
    Column("sizes", flexible=True, wrap=True),
    Column("usd/s", rank=1),
    Column("reference", rank=3),
    Column("remix/edits", rank=4),
)

BaseUrl = Annotated[
    str, typer.Option("--base-url", envvar="VIDEOS_API_BASE_URL", help="The service's root URL.")
]
ApiKey = Annotated[str, typer.Option("--api-key", envvar="VIDEOS_API_KEY", help="Your API key.")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Save the video here (with --wait).")]
Wait = Annotated[bool, typer.Option("--wait", help="Show progress until the video ends, then save it.")]
Thumbnail = Annotated[Path | None, typer.Option(help="Also save the thumbnail here (with --wait).")]
Spritesheet = Annotated[Path | None, typer.Option(help="Also save the spritesheet here (with --wait).")]


@contextmanager
def _client(base_url: str, api_key: str) -> Iterator[VideosClient]:
    """A client whose errors end the command in one readable line and a non-zero exit code."""
    try:
        with VideosClient(base_url, api_key) as client:
            yield client
    except ApiCallError as e:
        raise fail(f"{e.code}: {e.message}") from None
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        raise typer.Exit(130) from None


def _wait(client: VideosClient, video: dict[str, Any]) -> dict[str, Any]:
    """Long-polls for the end while GETs move a progress bar (status, percentage, elapsed)."""
    video_id = video["id"]
    ended: dict[str, Any] = {}
    done = threading.Event()

    def long_poll() -> None:
        try:
            while not done.is_set():
                poll = client.poll(video_id, MAX_WAIT_MS)
                if poll.finished:
                    ended["video"] = poll.video
                    break
        except ApiCallError as e:
            ended["error"] = e
        done.set()

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    threading.Thread(target=long_poll, daemon=True).start()
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task(f"{video_id} {video['status']}", total=100, completed=video["progress"])
        while not done.wait(REFRESH_SECONDS):
            current = client.get(video_id)
            progress.update(
                task, completed=current["progress"], description=f"{video_id} {current['status']}"
            )
        if "error" in ended:
            raise ended["error"]
        final: dict[str, Any] = ended["video"]
        progress.update(task, completed=final["progress"], description=f"{video_id} {final['status']}")
    return final


def _wait_and_save(
    client: VideosClient,
    video: dict[str, Any],
    output: Path | None,
    thumbnail: Path | None,
    spritesheet: Path | None,
) -> None:
    try:
        final = _wait(client, video)
    except KeyboardInterrupt:
        typer.echo(
            f"Stopped waiting; {video['id']} keeps running. Fetch it later with:\n"
            f"  videos-api get {video['id']}\n  videos-api download {video['id']} -o {output or 'video.mp4'}",
            err=True,
        )
        raise typer.Exit(130) from None
    if final["status"] != "completed":
        error = final.get("error") or {}
        raise ApiCallError(
            error.get("code", "video_generation_failed"), error.get("message", "the video failed")
        )
    for variant, target in (("video", output), ("thumbnail", thumbnail), ("spritesheet", spritesheet)):
        if target is not None:
            size = client.download(final["id"], variant, target)
            typer.echo(f"saved {variant} to {target} ({size:,} bytes)", err=True)


def _finish(
    client: VideosClient,
    video: dict[str, Any],
    wait: bool,
    output: Path | None,
    thumbnail: Path | None,
    spritesheet: Path | None,
) -> None:
    """Without --wait, the new video's id; with it, progress until the end and the files saved."""
    if not wait:
        typer.echo(video["id"])
        return
    _wait_and_save(client, video, output, thumbnail, spritesheet)


def _print_json(value: dict[str, Any]) -> None:
    terminal = terminal_console()
    if terminal is None:
        typer.echo(json.dumps(value, indent=2, ensure_ascii=False))
    else:
        terminal.print_json(json.dumps(value))


def generate(
    prompt: Annotated[str, typer.Argument(help="What the video shows (1-32,000 characters).")],
    api_key: ApiKey,
    base_url: BaseUrl = DEFAULT_BASE_URL,
    model: Annotated[
        str | None, typer.Option(help="sora-2 by default; `videos-api models` lists the others.")
    ] = None,
    seconds: Annotated[
        str | None, typer.Option(help="The length: the model's default, or one it lists.")
    ] = None,
    size: Annotated[
        str | None, typer.Option(help="WIDTHxHEIGHT: the model's default, or one it lists.")
    ] = None,
    input_reference: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="An image to guide the video.")
    ] = None,
    character: Annotated[
        list[str] | None,
        typer.Option(
            "--character", help="A character of yours to appear (its id; up to 2); name it in the prompt."
        ),
    ] = None,
    wait: Wait = False,
    output: Output = None,
    thumbnail: Thumbnail = None,
    spritesheet: Spritesheet = None,
) -> None:
    """Create a video; with --wait, watch it and save it."""
    with _client(base_url, api_key) as client:
        _finish(
            client,
            client.create(prompt, model, seconds, size, input_reference, character or []),
            wait,
            output,
            thumbnail,
            spritesheet,
        )


def remix(
    video_id: Annotated[str, typer.Argument(help="A completed video of yours.")],
    prompt: Annotated[str, typer.Argument(help="What changes.")],
    api_key: ApiKey,
    base_url: BaseUrl = DEFAULT_BASE_URL,
    wait: Wait = False,
    output: Output = None,
    thumbnail: Thumbnail = None,
    spritesheet: Spritesheet = None,
) -> None:
    """Remix a completed video with a new prompt; with --wait, watch it and save it."""
    with _client(base_url, api_key) as client:
        _finish(client, client.remix(video_id, prompt), wait, output, thumbnail, spritesheet)


def edit(
    video_id: Annotated[str, typer.Argument(help="A completed video of yours.")],
    prompt: Annotated[str, typer.Argument(help="How to re-make it.")],
    api_key: ApiKey,
    base_url: BaseUrl = DEFAULT_BASE_URL,
    wait: Wait = False,
    output: Output = None,
    thumbnail: Thumbnail = None,
    spritesheet: Spritesheet = None,
) -> None:
    """Edit a completed video: re-made with a new prompt; with --wait, watch it and save it."""
    with _client(base_url, api_key) as client:
        _finish(client, client.edit(video_id, prompt), wait, output, thumbnail, spritesheet)


def extend(
    video_id: Annotated[str, typer.Argument(help="A completed video of yours.")],
    prompt: Annotated[str, typer.Argument(help="What happens next.")],
    api_key: ApiKey,
    seconds: Annotated[
        str, typer.Option(help="The new segment's length: 4, 8, 12, 16 or 20 (the video's is the sum).")
    ] = "4",
    base_url: BaseUrl = DEFAULT_BASE_URL,
    wait: Wait = False,
    output: Output = None,
    thumbnail: Thumbnail = None,
    spritesheet: Spritesheet = None,
) -> None:
    """Extend a completed video with a new segment; with --wait, watch it and save it."""
    with _client(base_url, api_key) as client:
        _finish(client, client.extend(video_id, prompt, seconds), wait, output, thumbnail, spritesheet)


def get(video_id: str, api_key: ApiKey, base_url: BaseUrl = DEFAULT_BASE_URL) -> None:
    """Print a video as JSON."""
    with _client(base_url, api_key) as client:
        _print_json(client.get(video_id))


def delete(video_id: str, api_key: ApiKey, base_url: BaseUrl = DEFAULT_BASE_URL) -> None:
    """Delete a video: its job, files and upstream copy."""
    with _client(base_url, api_key) as client:
        client.delete(video_id)
        typer.echo(f"deleted {video_id}")


def download(
    video_id: str,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to save it.")],
    api_key: ApiKey,
    variant: Annotated[str, typer.Option(help="video, thumbnail or spritesheet.")] = "video",
    base_url: BaseUrl = DEFAULT_BASE_URL,
) -> None:
    """Save a completed video's file."""
    with _client(base_url, api_key) as client:
        size = client.download(video_id, variant, output)
        typer.echo(f"saved {variant} to {output} ({size:,} bytes)", err=True)


def list_videos(
    api_key: ApiKey,
    base_url: BaseUrl = DEFAULT_BASE_URL,
    limit: Annotated[int, typer.Option(help="How many (1-100).")] = 20,
    order: Annotated[str, typer.Option(help="desc (newest first) or asc.")] = "desc",
    after: Annotated[str | None, typer.Option(help="Start after this video id.")] = None,
) -> None:
    """List your videos as a table."""
    with _client(base_url, api_key) as client:
        page = client.list(limit, order, after)
    rows = [
        (
            video["id"],
            video["status"],
            f"{video['progress']}%",
            video["model"],
            video["seconds"],
            video["size"],
            datetime.fromtimestamp(video["created_at"], UTC).strftime("%Y-%m-%d %H:%M"),
            video["prompt"] or "",
        )
        for video in page["data"]
    ]
    print_table(terminal_console(), VIDEO_COLUMNS, rows)
    if page["has_more"]:
        typer.echo(f"more: --after {page['last_id']}", err=True)


def models(api_key: ApiKey, base_url: BaseUrl = DEFAULT_BASE_URL) -> None:
    """List the models the service accepts: provider, lengths, sizes and price (tab-separated when piped)."""
    with _client(base_url, api_key) as client:
        listed = client.models()["data"]
    terminal = terminal_console()
    rows = [
        (
            model["id"],
            model["provider"],
            ",".join(model["seconds"]),
            ", ".join(model["sizes"]) if terminal else ",".join(model["sizes"]),
            model["price_per_second"],
            "yes" if model["image_reference"] else "no",
            "yes" if model["remix"] or model["edits"] else "no",
        )
        for model in listed
    ]
    print_table(terminal, MODEL_COLUMNS, rows)


characters = typer.Typer(help="Characters a create can name (--character).", no_args_is_help=True)


@characters.command("create")
def create_character(
    name: Annotated[str, typer.Argument(help="The character's name (say it in prompts that name it).")],
    video: Annotated[Path, typer.Argument(help="A short MP4 of the character.", exists=True, dir_okay=False)],
    api_key: ApiKey,
    base_url: BaseUrl = DEFAULT_BASE_URL,
) -> None:
    """Make a character from a name and a short video; prints it as JSON."""
    with _client(base_url, api_key) as client:
        _print_json(client.create_character(name, video))


@characters.command("get")
def get_character(character_id: str, api_key: ApiKey, base_url: BaseUrl = DEFAULT_BASE_URL) -> None:
    """Print a character of yours as JSON."""
    with _client(base_url, api_key) as client:
        _print_json(client.get_character(character_id))


COMMANDS: list[tuple[str, Callable[..., None]]] = [
    ("generate", generate),
    ("remix", remix),
    ("edit", edit),
    ("extend", extend),
    ("list", list_videos),
    ("models", models),
    ("get", get),
    ("delete", delete),
    ("download", download),
]


def register(app: typer.Typer) -> None:
    for name, command in COMMANDS:
        app.command(name)(command)
    app.add_typer(characters, name="characters")
