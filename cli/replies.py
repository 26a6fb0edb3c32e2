"""`socialcrm replies`: queue a reply on a task, run the outbox by hand, list a task's replies."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer

from core.db import unit_of_work
from core.errors import ConflictError, InvalidError, NotFoundError
from engagement.replies.schemas import ReplyRead

app = typer.Typer(help="Replies and their outbox.", no_args_is_help=True)


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _line(reply: ReplyRead) -> str:
    mode = " (dry run)" if reply.dry_run else ""
    where = f"\t{reply.external_id}" if reply.external_id else ""
    error = f"\t{reply.last_error.splitlines()[0][:120]}" if reply.last_error else ""
    return (
        f"{reply.id}\t{reply.platform}\tmention {reply.mention_id}\t{reply.status}{mode}\t"
        f"attempts {reply.attempts}{where}{error}\t{reply.body[:60]!r}"
    )


@app.command("send")
def send(
    task_id: Annotated[int, typer.Argument(help="Task to answer")],
    body: Annotated[str, typer.Argument(help="Reply text")],
    mention: Annotated[
        int | None, typer.Option("--mention", help="Mention to answer (default: latest)")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Record the reply without posting it")
    ] = False,
    author: Annotated[str, typer.Option(help="Who writes the reply (audit trail)")] = "cli",
) -> None:
    """Queue a reply; the outbox job (or `replies deliver`) posts it."""
    from cli.main import _ready
    from engagement.replies import service

    settings, _, factory = _ready()
    try:
        with unit_of_work(factory) as session:
            reply = service.create_reply(
                session,
                task_id=task_id,
                mention_id=mention,
                body=body,
                author=author,
                dry_run=dry_run or settings.dry_run_replies,
            )
            typer.echo(_line(ReplyRead.model_validate(reply)))
    except (NotFoundError, InvalidError) as exc:
        _fail(str(exc))


@app.command("deliver")
def deliver() -> None:
    """Run the reply outbox once: post what is due, retry, mark failures."""
    from cli.main import _ready
    from engagement.replies.jobs import deliver_replies

    settings, _, factory = _ready()
    report = deliver_replies(factory, settings)
    typer.echo(
        f"claimed {report.claimed}, sent {report.sent}, dry run {report.dry_run}, "
        f"found already posted {report.reconciled}, retry later {report.retried}, "
        f"failed {report.failed}"
    )


@app.command("list")
def list_replies(task_id: Annotated[int, typer.Argument(help="Task id")]) -> None:
    """List a task's replies with their delivery state."""
    from cli.main import _ready
    from engagement.replies import service

    _, _, factory = _ready()
    try:
        with unit_of_work(factory) as session:
            for reply in service.list_replies(session, task_id):
                typer.echo(_line(ReplyRead.model_validate(reply)))
    except NotFoundError as exc:
        _fail(str(exc))


@app.command("cancel")
def cancel(reply_id: Annotated[int, typer.Argument(help="Reply id")]) -> None:
    """Cancel a reply that is still pending."""
    from cli.main import _ready
    from engagement.replies import service

    _, _, factory = _ready()
    try:
        with unit_of_work(factory) as session:
            typer.echo(
                _line(ReplyRead.model_validate(service.cancel_reply(session, reply_id, "cli")))
            )
    except (NotFoundError, ConflictError) as exc:
        _fail(str(exc))
