"""`socialcrm reports`: service recovery and retention-risk reports from the command line."""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated, NoReturn

import typer

from core.db import unit_of_work
from core.errors import InvalidError
from core.timeutil import parse_datetime

app = typer.Typer(help="Service recovery and retention-risk reports.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


class GroupChoice(enum.StrEnum):
    category = "category"
    channel = "channel"
    agent = "agent"
    compensation = "compensation"
    none = "none"


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _when(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        raise typer.BadParameter(f"not an ISO date/time: {value!r}", param_hint=option) from None


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None
) -> list[str]:
    """Lines of an aligned table; `align` has "l" or "r" per column (default: the first
    column left-aligned, the others right-aligned, as numbers are)."""
    align = align or "l" + "r" * (len(headers) - 1)
    widths = [max(len(c) for c in column) for column in zip(headers, *rows, strict=True)]
    out = []
    for cells in (headers, *rows):
        parts = [
            cell.ljust(width) if side == "l" else cell.rjust(width)
            for cell, width, side in zip(cells, widths, align, strict=True)
        ]
        out.append("  ".join(parts).rstrip())
    return out


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _money(totals: dict[str, Decimal]) -> str:
    return ", ".join(f"{currency} {amount}" for currency, amount in totals.items()) or "-"


@app.command("recovery")
def recovery(
    group_by: Annotated[
        GroupChoice, typer.Option("--group-by", help="Group complaints by this")
    ] = GroupChoice.none,
    since: Annotated[
        str | None, typer.Option(help="Complaints opened at or after (ISO, UTC; default 30 days)")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Complaints opened before (ISO, UTC; default now)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Recovery rate and response/resolution times (minutes) of complaints, per group."""
    from cli.main import _ready
    from engagement.recovery import service

    start, end = _when(since, "--since"), _when(until, "--until")
    _, _, factory = _ready()
    try:
        with unit_of_work(factory) as session:
            report = service.recovery_report(session, start, end, group_by.value)
    except InvalidError as exc:
        _fail(str(exc), 2)
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
        return
    headers = (
        group_by.value if group_by != GroupChoice.none else "group",
        "complaints",
        "evaluated",
        "recovered",
        "unchanged",
        "worse",
        "no_followup",
        "rate",
        "response_med",
        "response_p90",
        "resolution_med",
        "resolution_p90",
        "compensation",
    )
    rows = [
        (
            r.key,
            str(r.complaints),
            str(r.evaluated),
            str(r.recovered),
            str(r.unchanged),
            str(r.worse),
            str(r.no_followup),
            _rate(r.recovery_rate),
            _num(r.first_response_median_minutes),
            _num(r.first_response_p90_minutes),
            _num(r.resolution_median_minutes),
            _num(r.resolution_p90_minutes),
            _money(r.compensation),
        )
        for r in report.rows
    ]
    for line in table(headers, rows):
        typer.echo(line)
    typer.echo(
        f"complaints opened {report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M} UTC; "
        "times in minutes from the customer's first mention"
    )


@app.command("retention-risk")
def retention_risk(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many customers")] = 20,
    min_value: Annotated[
        float | None, typer.Option(min=0, help="Only customers worth at least this much")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Customers at risk of leaving, ranked by value-weighted risk."""
    from cli.main import _ready
    from engagement.recovery import service

    _, _, factory = _ready()
    floor = Decimal(str(min_value)) if min_value is not None else None
    with unit_of_work(factory) as session:
        rows = service.retention_risk(session, limit, floor)
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return
    headers = (
        "customer",
        "crm_id",
        "name",
        "tier",
        "value",
        "open",
        "complaints_90d",
        "last_complaint",
        "worst",
        "recovery",
        "risk",
    )
    lines = [
        (
            str(r.customer_id),
            r.crm_id or "-",
            r.name or "-",
            r.tier or "-",
            str(r.lifetime_value) if r.lifetime_value is not None else "-",
            str(r.open_complaints),
            str(r.complaints_90d),
            f"{r.last_complaint_at:%Y-%m-%d %H:%M}" if r.last_complaint_at else "-",
            f"{r.worst_recent_sentiment:.2f}" if r.worst_recent_sentiment is not None else "-",
            r.latest_recovery_status or "-",
            f"{r.risk_score:.2f}",
        )
        for r in rows
    ]
    for line in table(headers, lines, align="rllllrrlrlr"):
        typer.echo(line)
    typer.echo(f"{len(rows)} customer(s) at risk")


@app.command("evaluate")
def evaluate() -> None:
    """Run the service-recovery job (`recovery:evaluate`) once now."""
    from cli.main import _ready
    from engagement.recovery.jobs import evaluate_recovery

    settings, _, factory = _ready()
    report = evaluate_recovery(factory, settings)
    typer.echo(
        f"examined {report.examined} complaint(s), {report.changed} changed: "
        f"{report.recovered} recovered, {report.unchanged} unchanged, {report.worse} worse, "
        f"{report.no_followup} no follow-up, {report.pending} waiting for a follow-up"
    )
