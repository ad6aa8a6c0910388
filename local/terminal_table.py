"""The command line's tables, made to fit the terminal: the columns that identify a row always shown and
never cut, one flexible column taking the width left (truncated, or wrapped), and the others shown in
order of use while they fit. Piped, every column goes out whole, tab-separated, for cut and awk.

rich is imported only when a terminal shows a table: each command is a process of its own, and most
print into a pipe or print no table."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

# What the flexible column keeps at least, before an optional column is left out for it.
FLEXIBLE_MIN = 20
# Between two columns: one space of padding on each side (no borders).
GAP = 2


@dataclass(frozen=True)
class Column:
    header: str
    # Always shown, never cut (an id, a status).
    keep: bool = False
    # Takes the width the others leave: cut with an ellipsis, or wrapped at its spaces when `wrap`.
    flexible: bool = False
    wrap: bool = False
    # Among the optional columns, the lower first.
    rank: int = 0


def fitted(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int) -> Table:
    """A table of `rows` at most `width` wide."""
    from rich.table import Table

    natural = [max([len(c.header), *(len(row[i]) for row in rows)]) for i, c in enumerate(columns)]
    flexible = next((i for i, c in enumerate(columns) if c.flexible), None)
    shown = {i for i, c in enumerate(columns) if c.keep}

    def used(indices: set[int]) -> int:
        fixed = sum(natural[i] for i in indices if i != flexible)
        room = min(FLEXIBLE_MIN, natural[flexible]) if flexible is not None else 0
        return fixed + room + GAP * (len(indices | ({flexible} if flexible is not None else set())) - 1)

    optional = sorted((c.rank, i) for i, c in enumerate(columns) if not c.keep and i != flexible)
    for _, index in optional:
        if used(shown | {index}) <= width:
            shown.add(index)
    if flexible is not None:
        shown.add(flexible)
    table = Table(box=None, pad_edge=False, padding=(0, 1), header_style="bold", expand=False)
    left = width - used(shown) + (min(FLEXIBLE_MIN, natural[flexible]) if flexible is not None else 0)
    for index in sorted(shown):
        column = columns[index]
        if index == flexible:
            table.add_column(
                column.header,
                max_width=max(left, 1),
                no_wrap=not column.wrap,
                overflow="fold" if column.wrap else "ellipsis",
            )
        else:
            table.add_column(column.header, min_width=natural[index], no_wrap=True)
    for row in rows:
        table.add_row(*(row[i] for i in sorted(shown)))
    return table


# What rich reads to treat an output as a terminal or not, whether or not it is one.
TERMINAL_OVERRIDES = ("TTY_COMPATIBLE", "FORCE_COLOR")


def terminal_console() -> Console | None:
    """rich's console of stdout when rich takes it for a terminal; None when it is not. rich is asked
    only when stdout is a terminal or one of its overrides is set."""
    if not sys.stdout.isatty() and not any(name in os.environ for name in TERMINAL_OVERRIDES):
        return None
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else None


def print_table(console: Console | None, columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> None:
    """`rows` as a table fitted to the terminal, or as tab-separated lines when the output is not one."""
    if console is None or not console.is_terminal:
        for row in rows:
            print("\t".join(row))
        return
    console.print(fitted(columns, rows, console.width))
