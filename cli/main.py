"""`socialcrm`: run the service, migrate, import, manage API keys, load the demo."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.db import make_engine, make_session_factory, unit_of_work
from core.errors import ConfigError
from core.logging import configure_logging
from core.settings import Settings, get_settings

app = typer.Typer(
    help="social-crm: social listening and customer care, self-hosted.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
import_app = typer.Typer(help="Import data from files.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys for /api/v1 and the web views.", no_args_is_help=True)
demo_app = typer.Typer(help="The bundled demo data set.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(keys_app, name="apikeys")
app.add_typer(demo_app, name="demo")

DEMO_DIR = Path(__file__).resolve().parent.parent / "core" / "demo"
MAX_ERRORS_SHOWN = 50


def _setup() -> tuple[Settings, Engine, sessionmaker[Session]]:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    engine = make_engine(settings.database_url)
    return settings, engine, make_session_factory(engine)


def _ready() -> tuple[Settings, Engine, sessionmaker[Session]]:
    """Settings and sessions for a database that is at the newest migration."""
    from core.migrate import check_at_head

    settings, engine, factory = _setup()
    check_at_head(engine)
    return settings, engine, factory


@app.command()
def run(
    host: Annotated[str | None, typer.Option(help="Bind address (default SOCIALCRM_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default SOCIALCRM_PORT)")] = None,
    scheduler: Annotated[
        bool, typer.Option(help="Run the in-process scheduler (score, engage jobs)")
    ] = True,
) -> None:
    """Serve the API and web views, with the in-process scheduler (embedded mode)."""
    import uvicorn

    from api.app import create_app
    from scheduler.registry import build_scheduler

    settings, _, factory = _ready()
    sched = None
    if scheduler and settings.scheduler_enabled:
        sched = build_scheduler(factory, settings)
        sched.start()
    host = host or settings.host
    port = port or settings.port
    typer.echo(f"social-crm on http://{host}:{port}  (API docs at /docs)", err=True)
    try:
        uvicorn.run(create_app(settings, factory), host=host, port=port, log_config=None)
    finally:
        if sched is not None:
            sched.shutdown(wait=False)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from core.migrate import current_revision, upgrade

    _, engine, _ = _setup()
    before = current_revision(engine)
    upgrade(engine, revision)
    after = current_revision(engine)
    typer.echo(f"database at {after}" + ("" if before == after else f" (was {before or 'empty'})"))


@db_app.command("current")
def db_current() -> None:
    """Show the database's migration revision and the newest one."""
    from core.migrate import current_revision, head_revision

    _, engine, _ = _setup()
    typer.echo(f"current: {current_revision(engine) or 'empty'}  head: {head_revision()}")


@import_app.command("mentions")
def import_mentions(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    process: Annotated[
        bool, typer.Option(help="Score and engage the new mentions right away")
    ] = True,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 1000,
) -> None:
    """Import mentions from a JSONL or CSV file (idempotent: re-running adds nothing)."""
    from cli.importer import import_file

    settings, _, factory = _ready()
    report = import_file(factory, settings, file, batch_size=batch_size, process=process)
    for err in report.errors[:MAX_ERRORS_SHOWN]:
        typer.echo(f"error: {err}", err=True)
    if len(report.errors) > MAX_ERRORS_SHOWN:
        typer.echo(f"error: ... and {len(report.errors) - MAX_ERRORS_SHOWN} more", err=True)
    typer.echo(report.summary())
    if report.errors:
        raise typer.Exit(1)


@keys_app.command("create")
def apikeys_create(
    name: Annotated[str, typer.Argument(help="Who or what the key is for")],
    replace: Annotated[
        bool, typer.Option(help="Revoke existing active keys with the same name first")
    ] = False,
) -> None:
    """Create an API key and print its secret (shown only this once)."""
    from api import auth

    _, _, factory = _ready()
    with unit_of_work(factory) as session:
        if replace:
            for key in auth.list_keys(session):
                if key.name == name and key.revoked_at is None:
                    auth.revoke_key(session, key.id)
        row, secret = auth.create_key(session, name)
    typer.echo(f"API key {row.id} ({name}): {secret}")


@keys_app.command("list")
def apikeys_list() -> None:
    """List API keys (secrets are never stored, only their hashes)."""
    from api import auth

    _, _, factory = _ready()
    with unit_of_work(factory) as session:
        for key in auth.list_keys(session):
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
            typer.echo(f"{key.id}\t{key.name}\t{key.prefix}…\t{state}\tlast used {used}")


@keys_app.command("revoke")
def apikeys_revoke(key_id: int) -> None:
    """Revoke an API key by id."""
    from api import auth

    _, _, factory = _ready()
    with unit_of_work(factory) as session:
        auth.revoke_key(session, key_id)
    typer.echo(f"API key {key_id} revoked")


@demo_app.command("load")
def demo_load(
    if_empty: Annotated[
        bool, typer.Option(help="Only load when the database holds no mentions yet")
    ] = False,
) -> None:
    """Load the bundled demo (fictional brand Lumen Mobile) and score it."""
    from cli.importer import import_file
    from collectors.repository import count_mentions

    settings, _, factory = _ready()
    with unit_of_work(factory) as session:
        existing = count_mentions(session)
    if if_empty and existing:
        typer.echo(f"demo not loaded: the database already holds {existing} mentions")
        return
    report = import_file(factory, settings, DEMO_DIR / "mentions.jsonl", process=True)
    typer.echo("demo: " + report.summary())


@app.command()
def process() -> None:
    """Score and engage every pending mention now (what the scheduler does periodically)."""
    from scheduler.jobs import process_pending

    settings, _, factory = _ready()
    report = process_pending(factory, settings)
    typer.echo(
        f"scored {report.score.scored} ({report.score.unsupported_language} unsupported "
        f"language), opened {report.engage.opened} tasks, attached {report.engage.attached}"
    )


def main() -> None:
    """Console entry point: configuration problems become one-line errors, not tracebacks."""
    try:
        app()
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
