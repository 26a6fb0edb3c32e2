"""`socialcrm export`: pull exports for the CRM, streamed page by page."""

from __future__ import annotations

import contextlib
import enum
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, TextIO

import typer

from core.db import unit_of_work
from core.timeutil import parse_datetime

app = typer.Typer(help="Export data for the CRM.", no_args_is_help=True)


class Format(enum.StrEnum):
    csv = "csv"
    jsonl = "jsonl"


@app.callback()
def _export() -> None:
    """Export data for the CRM."""


@contextlib.contextmanager
def _open_output(path: Path | None) -> Iterator[TextIO]:
    """stdout, or a file that appears only once complete (written aside, then renamed)."""
    if path is None:
        yield sys.stdout
        return
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as out:
            yield out
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


@app.command("complaints")
def complaints(
    since: Annotated[
        str | None,
        typer.Option(help="Only complaints posted at or after (ISO date/time, UTC)"),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="csv or jsonl")] = Format.csv,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False, help="File to write (default: stdout)"),
    ] = None,
    page_size: Annotated[int, typer.Option(min=1, max=1000, help="Rows per query")] = 500,
) -> None:
    """Export complaints (negative customer mentions), oldest first, one page at a time."""
    from cli.main import _ready
    from engagement.complaints import ComplaintWriter, list_complaints

    try:
        start = parse_datetime(since) if since else None
    except ValueError:
        raise typer.BadParameter(f"not an ISO date/time: {since!r}", param_hint="--since") from None
    _, _, factory = _ready()
    cursor: str | None = None
    with _open_output(output) as out:
        writer = ComplaintWriter(out, fmt.value)
        while True:
            # One short transaction per page: a long export never holds a snapshot open.
            with unit_of_work(factory) as session:
                page = list_complaints(session, since=start, cursor=cursor, limit=page_size)
            writer.write(page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        out.flush()
    target = str(output) if output else "stdout"
    typer.echo(f"exported {writer.count} complaints to {target}", err=True)
