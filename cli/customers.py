"""`socialcrm customers`: import the CRM export, look at a customer, decide link suggestions."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session, sessionmaker

from core.db import unit_of_work
from core.errors import ConflictError, NotFoundError

app = typer.Typer(
    help="Customers from the company CRM and their social identities.", no_args_is_help=True
)

MAX_ERRORS_SHOWN = 50


def _factory() -> sessionmaker[Session]:
    from cli.main import _ready

    _, _, factory = _ready()
    return factory


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@contextmanager
def _errors_exit() -> Iterator[None]:
    """Unknown ids and illegal changes end the command with one line and exit status 1."""
    try:
        yield
    except (NotFoundError, ConflictError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


@app.command("import")
def import_customers(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 500,
) -> None:
    """Create or update customers from a CRM CSV export (unchanged rows are not written)."""
    from engagement.customers import csvimport

    factory = _factory()
    parsed = csvimport.read_csv(file)
    report = csvimport.CsvImportReport(
        total=parsed.total, errors=parsed.errors, warnings=parsed.warnings
    )
    actor = f"{_actor()} import {file.name}"[:255]
    for start in range(0, len(parsed.rows), batch_size):
        with unit_of_work(factory) as session:
            chunk = parsed.rows[start : start + batch_size]
            report.result.add(csvimport.upsert_rows(session, chunk, actor))
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    for err in report.errors[:MAX_ERRORS_SHOWN]:
        typer.echo(f"error: {err}", err=True)
    if len(report.errors) > MAX_ERRORS_SHOWN:
        typer.echo(f"error: ... and {len(report.errors) - MAX_ERRORS_SHOWN} more", err=True)
    typer.echo(report.summary())
    if report.errors:
        raise typer.Exit(1)


@app.command()
def show(
    customer_id: int,
    mentions: Annotated[int, typer.Option(min=1, max=500, help="Newest mentions shown")] = 10,
) -> None:
    """A customer: record, identities, newest mentions, tasks, replies, compensations."""
    from engagement.customers import service

    with _errors_exit(), unit_of_work(_factory()) as session:
        view = service.customer_view(session, customer_id, mentions_limit=mentions)
    c = view.customer
    typer.echo(
        f"customer {c.id}  {c.crm_id or '-'}  {c.name or '(no name)'}  <{c.email or '-'}>  "
        f"{c.phone or '-'}  tier {c.tier or '-'}  lifetime value {c.lifetime_value or '-'}"
    )
    if c.merged_into_id:
        typer.echo(f"merged into customer {c.merged_into_id}")
    typer.echo(f"identities ({len(view.identities)}):")
    for i in view.identities:
        who = f"author {i.author_id}" if i.author_id else "not seen yet"
        uid = f" id {i.platform_user_id}" if i.platform_user_id else ""
        typer.echo(
            f"  {i.id}\t{i.platform} @{i.handle or '-'}{uid}\t{who}\t{i.method} {i.confidence:.2f}"
        )
    typer.echo(f"mentions ({view.mentions_total}, newest first):")
    for m in view.mentions:
        label = m.sentiment.label if m.sentiment and m.sentiment.label else "-"
        text = " ".join(m.text.split())[:80]
        typer.echo(f"  {m.created_at:%Y-%m-%d %H:%M}\t{m.platform}\t{label}\t{text}")
    typer.echo(f"tasks ({len(view.tasks)}):")
    for t in view.tasks:
        typer.echo(f"  {t.id}\t{t.status}\tP{t.priority}\t{t.reason}\t{t.created_at:%Y-%m-%d}")
    typer.echo(f"replies: {len(view.replies)}; compensations: {len(view.compensations)}")


@app.command()
def suggestions(
    status: Annotated[str, typer.Option(help="pending, accepted, rejected or all")] = "pending",
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """List link suggestions (possible author→customer links), most confident first."""
    from engagement.customers import service

    if status not in ("pending", "accepted", "rejected", "all"):
        raise typer.BadParameter("status must be pending, accepted, rejected or all")
    with unit_of_work(_factory()) as session:
        items, total = service.list_suggestions(
            session, status=None if status == "all" else status, limit=limit
        )
    for s in items:
        who = f"{s.author.platform} @{s.author.handle or '-'}" if s.author else "?"
        typer.echo(
            f"{s.id}\t{s.confidence:.2f}\tauthor {s.author_id} ({who})\t→ customer "
            f"{s.customer_id} {s.customer_crm_id or '-'} {s.customer_name or ''}\t{s.reason}"
        )
    typer.echo(f"{total} {status} suggestions")


@app.command()
def link(author_id: int, customer_id: int) -> None:
    """Link an author to a customer by hand."""
    from engagement.customers import service

    with _errors_exit(), unit_of_work(_factory()) as session:
        identity = service.link(session, author_id, customer_id, _actor())
    typer.echo(f"author {author_id} linked to customer {customer_id} (identity {identity.id})")


@app.command()
def unlink(identity_id: int) -> None:
    """Detach the author of an identity from its customer."""
    from engagement.customers import service

    with _errors_exit(), unit_of_work(_factory()) as session:
        event = service.unlink(session, identity_id, _actor())
    typer.echo(
        f"identity {identity_id} unlinked: author {event.data['author_id']} no longer belongs "
        f"to customer {event.customer_id}"
    )


@app.command()
def accept(suggestion_id: int) -> None:
    """Accept a link suggestion: link its author to its customer."""
    from engagement.customers import service

    with _errors_exit(), unit_of_work(_factory()) as session:
        identity = service.accept_suggestion(session, suggestion_id, _actor())
    typer.echo(
        f"suggestion {suggestion_id} accepted: author {identity.author_id} linked to customer "
        f"{identity.customer_id}"
    )


@app.command()
def reject(suggestion_id: int) -> None:
    """Reject a link suggestion: it is not suggested again."""
    from engagement.customers import service

    with _errors_exit(), unit_of_work(_factory()) as session:
        service.reject_suggestion(session, suggestion_id, _actor())
    typer.echo(f"suggestion {suggestion_id} rejected")
