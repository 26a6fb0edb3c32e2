"""`socialcrm webhooks`: CRM endpoints, their deliveries, redelivery, a delivery run by hand."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError

from core.db import unit_of_work
from core.errors import ConflictError, InvalidError, NotFoundError, validation_message
from engagement.webhooks.schemas import (
    WebhookDeliveryRead,
    WebhookSubscriptionCreate,
    WebhookSubscriptionRead,
)

app = typer.Typer(
    help="Signed webhooks to the CRM (Standard Webhooks): endpoints and deliveries.",
    no_args_is_help=True,
)


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _sub_line(sub: WebhookSubscriptionRead) -> str:
    state = "enabled" if sub.enabled else "disabled"
    events = ",".join(sub.event_types)
    return f"{sub.id}\t{sub.url}\t{events}\t{state}\tsecret {sub.secret_prefix}…"


def _delivery_line(d: WebhookDeliveryRead) -> str:
    code = d.last_status_code if d.last_status_code is not None else "-"
    error = f"\t{d.last_error.splitlines()[0][:120]}" if d.last_error else ""
    return (
        f"{d.id}\t{d.event_id}\t{d.event_type}\t{d.status}\tattempts {d.attempts}\t"
        f"next {d.next_attempt_at:%Y-%m-%d %H:%M:%S}\tlast {code}{error}"
    )


@app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="http(s) URL of the CRM's receiver")],
    events: Annotated[
        list[str],
        typer.Option("--events", help="Event types, comma-separated or repeated; '*' for all"),
    ],
    description: Annotated[str | None, typer.Option(help="What this endpoint is")] = None,
    disabled: Annotated[bool, typer.Option(help="Create it disabled")] = False,
) -> None:
    """Add an endpoint and print its signing secret (shown only this once)."""
    from cli.main import _ready
    from engagement.webhooks import service

    types = [t.strip() for value in events for t in value.split(",") if t.strip()]
    try:
        data = WebhookSubscriptionCreate(
            url=url,
            event_types=types,
            description=description,
            enabled=not disabled,
        )
    except ValidationError as exc:
        _fail(validation_message(exc), 2)
    _, _, factory = _ready()
    with unit_of_work(factory) as session:
        sub = service.create_subscription(session, data)
    typer.echo(_sub_line(sub))
    typer.echo(f"secret: {sub.secret}  (store it now: it is not shown again)")


@app.command("list")
def list_() -> None:
    """List endpoints (secrets by prefix only)."""
    from cli.main import _ready
    from engagement.webhooks import service

    _, _, factory = _ready()
    with unit_of_work(factory) as session:
        for sub in service.list_subscriptions(session):
            typer.echo(_sub_line(sub))


@app.command("rotate-secret")
def rotate_secret(
    subscription_id: Annotated[int, typer.Argument(help="Subscription id")],
    grace_hours: Annotated[
        float,
        typer.Option(min=0, max=168, help="How long the old secret also signs (0: stop at once)"),
    ] = 24,
) -> None:
    """Give an endpoint a new signing secret; the old one keeps signing for the grace period."""
    from datetime import timedelta

    from cli.main import _ready
    from engagement.webhooks import service

    _, _, factory = _ready()
    try:
        with unit_of_work(factory) as session:
            sub = service.rotate_secret(
                session, subscription_id, grace=timedelta(hours=grace_hours)
            )
    except (NotFoundError, InvalidError) as exc:
        _fail(str(exc))
    typer.echo(_sub_line(sub))
    typer.echo(f"secret: {sub.secret}  (store it now: it is not shown again)")
    until = sub.previous_secret_expires_at
    if until is not None:
        typer.echo(f"the old secret also signs until {until:%Y-%m-%d %H:%M:%S} UTC")


@app.command("deliveries")
def deliveries(
    subscription_id: Annotated[int, typer.Argument(help="Subscription id")],
    status: Annotated[
        str | None, typer.Option(help="pending, sending, delivered or dead (the DLQ)")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """List a subscription's deliveries, newest first."""
    from cli.main import _ready
    from engagement.webhooks import service

    _, _, factory = _ready()
    try:
        with unit_of_work(factory) as session:
            items, total = service.list_deliveries(
                session, subscription_id, status=status, limit=limit
            )
    except NotFoundError as exc:
        _fail(str(exc))
    for item in items:
        typer.echo(_delivery_line(item))
    typer.echo(f"{len(items)} of {total} deliveries", err=True)


@app.command("redeliver")
def redeliver(delivery_id: Annotated[int, typer.Argument(help="Delivery id")]) -> None:
    """Queue a dead or delivered delivery again (same webhook-id, fresh retry schedule)."""
    from cli.main import _ready
    from engagement.webhooks import service

    _, _, factory = _ready()
    try:
        with unit_of_work(factory) as session:
            item = service.redeliver(session, delivery_id)
    except (NotFoundError, ConflictError, InvalidError) as exc:
        _fail(str(exc))
    typer.echo(_delivery_line(item))


@app.command("deliver")
def deliver() -> None:
    """Send every due delivery now (one run of the `outbox:webhooks` job)."""
    from cli.main import _ready
    from engagement.webhooks.jobs import deliver_webhooks

    settings, _, factory = _ready()
    report = deliver_webhooks(factory, settings)
    typer.echo(
        f"claimed {report.claimed}: delivered {report.delivered}, retrying {report.retrying}, "
        f"dead {report.dead} (skipped {report.skipped}, released {report.released})"
    )
    for sub_id in report.disabled_subscriptions:
        typer.echo(f"subscription {sub_id} answered 410 Gone and was disabled")
