"""`socialcrm sentiment rescore` and `socialcrm sentiment categories`: the commands of the
sentiment group that need the database (the rest live in sentiment/cli.py)."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from sqlalchemy.orm import Session, sessionmaker

from core.db import unit_of_work
from core.errors import ConflictError, InvalidError, NotFoundError, validation_message
from core.settings import Settings
from sentiment.schemas import (
    CATEGORY_HINTS,
    CategoryCreate,
    CategoryRead,
    CategoryUpdate,
    RescoreReport,
)

categories_app = typer.Typer(
    help="The complaint taxonomy negative mentions are sorted into (no retraining needed).",
    no_args_is_help=True,
)


def _ready() -> tuple[Settings, sessionmaker[Session]]:
    from cli.main import _ready as ready

    settings, _, factory = ready()
    return settings, factory


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def rescore(
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Mentions per batch")] = 256,
    since: Annotated[
        datetime | None, typer.Option(help="Only mentions posted at or after this time (UTC)")
    ] = None,
    categories: Annotated[
        bool,
        typer.Option(
            "--categories/--no-categories",
            help="Also re-categorise negative results categorised under an older taxonomy",
        ),
    ] = True,
    max_batches: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many batches (resume later)")
    ] = None,
) -> None:
    """Score every mention the configured model version has not scored, batch by batch.

    Each batch is committed on its own (read, score outside any transaction, store), so an
    interrupted run loses at most one batch and the next run carries on where it stopped.
    Results of older model versions are kept; the newest result is the one the inbox, reports
    and exports use.
    """
    from scheduler.jobs import score_batch
    from sentiment import service
    from sentiment.categories import load_categoriser
    from sentiment.classifier import load_model

    settings, factory = _ready()
    model = load_model(settings)
    categoriser = load_categoriser(settings)
    with unit_of_work(factory) as session:
        total = service.pending_count(session, model, since=since)
    typer.echo(f"{model.name} {model.version}: {total} mentions to score")
    report = RescoreReport()
    started = time.perf_counter()
    while max_batches is None or report.batches < max_batches:
        batch = score_batch(factory, model, limit=batch_size, categoriser=categoriser, since=since)
        done = batch.scored + batch.unsupported_language
        if done == 0:
            break
        report.batches += 1
        report.scored += batch.scored
        report.unsupported_language += batch.unsupported_language
        processed = report.scored + report.unsupported_language
        rate = processed / max(time.perf_counter() - started, 1e-9)
        typer.echo(
            f"batch {report.batches}: {processed}/{total} scored "
            f"({rate:.0f}/s, {max(0, total - processed)} left)"
        )
    if categories and (max_batches is None or report.batches < max_batches):
        after = 0
        while True:
            with unit_of_work(factory) as session:
                changed, after = service.recategorise(
                    session, categoriser, after_id=after, limit=batch_size, since=since
                )
            if changed == 0:
                break
            report.recategorised += changed
            typer.echo(f"re-categorised {report.recategorised} complaints")
    with unit_of_work(factory) as session:
        report.remaining = service.pending_count(session, model, since=since)
    typer.echo(json.dumps(report.model_dump()))


def _show(c: CategoryRead) -> str:
    state = "" if c.enabled else "\t(disabled)"
    return f"{c.key}\t{c.name}\t{len(c.examples)} example(s){state}"


@categories_app.command("list")
def list_categories(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List the complaint categories in order."""
    from sentiment import service

    _, factory = _ready()
    with unit_of_work(factory) as session:
        rows = [CategoryRead.model_validate(c) for c in service.list_categories(session)]
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return
    for row in rows:
        typer.echo(_show(row))


@categories_app.command("add")
def add_category(
    key: Annotated[str, typer.Argument(help="Stable id, e.g. billing (a-z, 0-9, _ and -)")],
    name: Annotated[str, typer.Option(help="What agents and reports show")],
    description: Annotated[str, typer.Option(help="What complaints of this kind are about")] = "",
    example: Annotated[
        list[str] | None, typer.Option(help="An example complaint (repeatable)")
    ] = None,
    disabled: Annotated[bool, typer.Option(help="Create it switched off")] = False,
) -> None:
    """Add a category: new complaints can fall into it at once."""
    from sentiment import service

    _, factory = _ready()
    try:
        data = CategoryCreate(
            key=key,
            name=name,
            description=description,
            examples=example or [],
            enabled=not disabled,
        )
        with unit_of_work(factory) as session:
            row = CategoryRead.model_validate(service.create_category(session, data))
    except (ValueError, ConflictError, InvalidError) as exc:
        _fail(validation_message(exc, hints=CATEGORY_HINTS))
    typer.echo(f"added {_show(row)}")


@categories_app.command("update")
def update_category(
    key: str,
    name: Annotated[str | None, typer.Option()] = None,
    description: Annotated[str | None, typer.Option()] = None,
    example: Annotated[
        list[str] | None, typer.Option(help="Replace the examples (repeatable)")
    ] = None,
    enabled: Annotated[bool | None, typer.Option("--enabled/--disabled")] = None,
    position: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Change a category's name, words, order or whether it is used."""
    from sentiment import service

    fields = {
        "name": name,
        "description": description,
        "examples": example,
        "enabled": enabled,
        "position": position,
    }
    _, factory = _ready()
    try:
        data = CategoryUpdate(**{k: v for k, v in fields.items() if v is not None})
        with unit_of_work(factory) as session:
            row = CategoryRead.model_validate(service.update_category(session, key, data))
    except NotFoundError as exc:
        _fail(str(exc), 2)
    except (ValueError, InvalidError) as exc:
        _fail(validation_message(exc, hints=CATEGORY_HINTS))
    typer.echo(f"updated {_show(row)}")


@categories_app.command("remove")
def remove_category(key: str) -> None:
    """Remove a category (results and tasks keep the key they were given)."""
    from sentiment import service

    _, factory = _ready()
    try:
        with unit_of_work(factory) as session:
            service.delete_category(session, key)
    except NotFoundError as exc:
        _fail(str(exc), 2)
    typer.echo(f"removed {key}")


@categories_app.command("import")
def import_categories(
    taxonomy: Annotated[
        str, typer.Argument(help="Taxonomy JSON file, or a bundled one: default, airline")
    ],
    replace: Annotated[
        bool, typer.Option(help="Remove the categories the file does not name")
    ] = False,
) -> None:
    """Create or update categories from a taxonomy file."""
    from sentiment import service
    from sentiment.categories import load_taxonomy_file

    _, factory = _ready()
    try:
        specs = load_taxonomy_file(Path(taxonomy))
        with unit_of_work(factory) as session:
            created, updated, removed = service.import_taxonomy(session, specs, replace=replace)
    except (ValueError, InvalidError, ConflictError) as exc:
        _fail(validation_message(exc, hints=CATEGORY_HINTS))
    typer.echo(f"{created} created, {updated} updated, {removed} removed")
