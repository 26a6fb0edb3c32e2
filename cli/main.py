"""`socialcrm`: run the service, migrate, import, manage API keys, load the demo."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cli.customers import app as customers_app
from cli.export import app as export_app
from cli.replies import app as replies_app
from cli.reports import app as reports_app
from cli.sentiment import categories_app, rescore
from cli.tasks import app as tasks_app
from cli.webhooks import app as webhooks_app
from core.db import make_engine, make_session_factory, unit_of_work
from core.errors import ConfigError, InvalidError, NotFoundError
from core.logging import configure_logging
from core.settings import Settings, get_settings
from sentiment.cli import app as sentiment_app

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
sources_app = typer.Typer(
    help="Collector sources (X, Reddit, App Store, RSS, drop folders).", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(keys_app, name="apikeys")
app.add_typer(demo_app, name="demo")
app.add_typer(sources_app, name="sources")
sentiment_app.command("rescore")(rescore)
sentiment_app.add_typer(categories_app, name="categories")
app.add_typer(sentiment_app, name="sentiment")
app.add_typer(customers_app, name="customers")
app.add_typer(tasks_app, name="tasks")
app.add_typer(replies_app, name="replies")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(export_app, name="export")
app.add_typer(reports_app, name="reports")

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
        bool, typer.Option(help="Run the scheduler in this process (embedded mode)")
    ] = True,
) -> None:
    """Serve the API and web views, with the in-process scheduler (embedded mode)."""
    import uvicorn

    from api.app import create_app
    from scheduler.context import JobContext
    from scheduler.registry import build_scheduler

    settings, engine, factory = _ready()
    web = create_app(settings, factory)
    sched = None
    if scheduler and settings.scheduler_enabled:
        sched = build_scheduler(engine, JobContext(factory, settings))
        sched.start()
        web.state.scheduler = sched
    host = host or settings.host
    port = port or settings.port
    typer.echo(f"social-crm on http://{host}:{port}  (API docs at /docs)", err=True)
    try:
        uvicorn.run(web, host=host, port=port, log_config=None)
    finally:
        if sched is not None:
            sched.shutdown(wait=False)


@app.command("scheduler")
def scheduler_process() -> None:
    """Run only the scheduler (collection, scoring, engagement jobs) in this process."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    from scheduler.context import JobContext
    from scheduler.registry import build_scheduler

    settings, engine, factory = _ready()
    sched = build_scheduler(engine, JobContext(factory, settings), BlockingScheduler)
    typer.echo("scheduler running (Ctrl-C stops it)", err=True)
    try:
        sched.start()
    except (KeyboardInterrupt, SystemExit):
        sched.shutdown(wait=False)


@app.command()
def collect(
    source: Annotated[int, typer.Option("--source", help="Source id to collect now")],
    force: Annotated[
        bool, typer.Option(help="Run even if paused or waiting for a rate-limit reset")
    ] = False,
) -> None:
    """Run one collection of one source by hand."""
    from scheduler.jobs import collect_source

    settings, _, factory = _ready()
    result = collect_source(factory, settings, source, force=force)
    line = (
        f"source {source}: {result.status}; fetched {result.fetched}, new {result.inserted}, "
        f"requests {result.requests}, skipped items {result.skipped_items}"
    )
    if result.retry_at:
        line += f"; next run not before {result.retry_at:%Y-%m-%d %H:%M:%S} UTC"
    if result.error:
        line += f"; error: {result.error}"
    typer.echo(line)
    if result.status in ("not_found", "disabled", "retrying", "rate_limited"):
        raise typer.Exit(1)


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
    """Load the bundled demo (fictional brand Lumen Mobile): mentions, team, history."""
    from cli.demo import load_demo

    settings, _, factory = _ready()
    load_demo(factory, settings, typer.echo, if_empty=if_empty)


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


def _parse_config(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"--config is not JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise typer.BadParameter("--config must be a JSON object")
    return value


def _source_line(s: Any) -> str:
    last = f"{s.last_run_at:%Y-%m-%d %H:%M}" if s.last_run_at else "never"
    ok = f"{s.last_success_at:%Y-%m-%d %H:%M}" if s.last_success_at else "never"
    nxt = f"{s.next_run_at:%Y-%m-%d %H:%M}" if s.next_run_at else "on schedule"
    state = s.status if s.enabled else ("disabled" if s.status == "disabled" else "paused")
    err = f"  error: {s.last_error.splitlines()[0][:120]}" if s.last_error else ""
    return (
        f"{s.id}\t{s.platform}\t{s.name}\t{state}\tevery {s.schedule_seconds}s\t"
        f"last run {last}\tlast success {ok}\tfetched {s.items_fetched} "
        f"(last run {s.last_run_items})\tnext {nxt}{err}"
    )


@sources_app.command("add")
def sources_add(
    platform: Annotated[str, typer.Option(help="twitter, reddit, appstore, rss or file")],
    name: Annotated[str, typer.Option(help="A name people recognise")],
    query: Annotated[str, typer.Option(help="Search query / brand terms")] = "",
    config: Annotated[str | None, typer.Option(help="Platform config as a JSON object")] = None,
    every: Annotated[int, typer.Option(help="Seconds between runs", min=60)] = 900,
    paused: Annotated[bool, typer.Option(help="Create it paused")] = False,
) -> None:
    """Add a collector source."""
    from collectors import service
    from collectors.schemas import SourceCreate

    _, _, factory = _ready()
    data = SourceCreate.model_validate(
        {
            "platform": platform,
            "name": name,
            "query": query,
            "config": _parse_config(config) or {},
            "schedule_seconds": every,
            "enabled": not paused,
        }
    )
    with unit_of_work(factory) as session:
        source = service.create_source(session, data)
        typer.echo(_source_line(source))


@sources_app.command("list")
def sources_list() -> None:
    """List sources with last run, last success, items fetched, last error and next run."""
    from collectors import service

    _, _, factory = _ready()
    with unit_of_work(factory) as session:
        for source in service.list_sources(session):
            typer.echo(_source_line(source))


@sources_app.command("update")
def sources_update(
    source_id: int,
    name: Annotated[str | None, typer.Option()] = None,
    query: Annotated[str | None, typer.Option()] = None,
    config: Annotated[str | None, typer.Option(help="Replacement config (JSON)")] = None,
    every: Annotated[int | None, typer.Option(min=60)] = None,
) -> None:
    """Change a source's name, query, config or schedule."""
    from collectors import service
    from collectors.schemas import SourceUpdate

    _, _, factory = _ready()
    data = SourceUpdate(
        name=name, query=query, config=_parse_config(config), schedule_seconds=every
    )
    with unit_of_work(factory) as session:
        typer.echo(_source_line(service.update_source(session, source_id, data)))


def _set_enabled(source_id: int, enabled: bool) -> None:
    from collectors import service
    from collectors.schemas import SourceUpdate

    _, _, factory = _ready()
    with unit_of_work(factory) as session:
        typer.echo(
            _source_line(service.update_source(session, source_id, SourceUpdate(enabled=enabled)))
        )


@sources_app.command("pause")
def sources_pause(source_id: int) -> None:
    """Stop collecting a source (its schedule is removed within a minute)."""
    _set_enabled(source_id, False)


@sources_app.command("resume")
def sources_resume(source_id: int) -> None:
    """Collect a paused or disabled source again."""
    _set_enabled(source_id, True)


@sources_app.command("remove")
def sources_remove(source_id: int) -> None:
    """Delete a source (collected mentions stay)."""
    from collectors import service

    _, _, factory = _ready()
    with unit_of_work(factory) as session:
        service.delete_source(session, source_id)
    typer.echo(f"source {source_id} removed")


@sources_app.command("reset")
def sources_reset(source_id: int) -> None:
    """Forget a source's cursor: the next run backfills again (duplicates are skipped)."""
    from collectors import service

    _, _, factory = _ready()
    with unit_of_work(factory) as session:
        service.reset_cursor(session, source_id)
    typer.echo(f"source {source_id} cursor reset")


def main() -> None:
    """Console entry point: configuration problems become one-line errors, not tracebacks."""
    try:
        app()
    except (ConfigError, InvalidError, NotFoundError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
