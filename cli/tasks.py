"""`socialcrm tasks`: response tasks, agents and rules from the command line."""

from __future__ import annotations

import json
from typing import Annotated, NoReturn

import typer
from sqlalchemy.orm import Session, sessionmaker

from core.db import unit_of_work
from core.errors import ConflictError, InvalidError, NotFoundError, validation_message
from engagement.schemas import TaskRead

app = typer.Typer(help="Response tasks, agents and rules.", no_args_is_help=True)
agents_app = typer.Typer(help="Agents who answer tasks.", no_args_is_help=True)
rules_app = typer.Typer(help="Rules that decide which mentions open a task.", no_args_is_help=True)
app.add_typer(agents_app, name="agents")
app.add_typer(rules_app, name="rules")

STATUSES = ("open", "new", "assigned", "waiting", "resolved", "closed", "all")
TARGETS = ("new", "assigned", "waiting", "resolved", "closed")
ActorOption = Annotated[str, typer.Option("--actor", help="Who is acting (audit trail)")]


def _factory() -> sessionmaker[Session]:
    from cli.main import _ready

    return _ready()[2]


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _task_line(t: TaskRead) -> str:
    due = f"{t.due_at:%Y-%m-%d %H:%M}" if t.due_at else "-"
    flags = []
    if t.overdue:
        flags.append("OVERDUE")
    if t.escalation_level:
        flags.append(f"escalated x{t.escalation_level}")
    if t.locked_by:
        flags.append(f"being answered by {t.locked_by}")
    extra = f"\t{', '.join(flags)}" if flags else ""
    return (
        f"{t.id}\t{t.status}\tP{t.priority}\t{t.reason}\t{t.assignee or '-'}\t"
        f"due {due}\t{len(t.mentions)} mention(s){extra}"
    )


@app.command("list")
def list_tasks(
    status: Annotated[str, typer.Option(help=f"One of {', '.join(STATUSES)}")] = "open",
    assignee: Annotated[str | None, typer.Option(help="Only this agent's tasks")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """List tasks in inbox order (most urgent, then earliest due)."""
    from engagement import service

    if status not in STATUSES:
        _fail(f"unknown status {status!r}: use one of {', '.join(STATUSES)}", 2)
    with unit_of_work(_factory()) as session:
        items, total = service.list_tasks(
            session, status=None if status == "all" else status, assignee=assignee, limit=limit
        )
        for item in items:
            typer.echo(_task_line(item))
    typer.echo(f"{len(items)} of {total} task(s)")


@app.command("assign")
def assign(
    task_id: Annotated[int, typer.Argument(help="Task id")],
    agent: Annotated[str | None, typer.Option(help="Agent name (default: round-robin)")] = None,
    actor: ActorOption = "cli",
) -> None:
    """Assign a task to an agent, or to the next available agent (round-robin)."""
    from engagement import service

    try:
        with unit_of_work(_factory()) as session:
            task = service.assign(session, task_id, agent, actor)
            line = _task_line(service.task_read(session, task))
    except (NotFoundError, ConflictError, InvalidError) as exc:
        _fail(str(exc))
    typer.echo(line)


@app.command("status")
def set_status(
    task_id: Annotated[int, typer.Argument(help="Task id")],
    status: Annotated[str, typer.Argument(help=f"One of {', '.join(TARGETS)}")],
    actor: ActorOption = "cli",
) -> None:
    """Move a task to another status (waiting, resolved, closed, or reopen it)."""
    from engagement import service

    if status not in TARGETS:
        _fail(f"unknown status {status!r}: use one of {', '.join(TARGETS)}", 2)
    try:
        with unit_of_work(_factory()) as session:
            task = service.change_status(session, task_id, status, actor)
            line = _task_line(service.task_read(session, task))
    except (NotFoundError, ConflictError, InvalidError) as exc:
        _fail(str(exc))
    typer.echo(line)


@app.command("escalate")
def escalate() -> None:
    """Run the SLA escalation job (`sla:escalate`) once now."""
    from cli.main import _ready
    from engagement.jobs import escalate_overdue

    settings, _, factory = _ready()
    report = escalate_overdue(factory, settings)
    typer.echo(
        f"escalated {report.escalated} task(s): {report.first_response} first-response and "
        f"{report.resolution} resolution breach(es)"
    )


@agents_app.command("add")
def agents_add(
    name: Annotated[str, typer.Argument(help="The agent's name (what tasks show)")],
    email: Annotated[str | None, typer.Option(help="Contact address")] = None,
    unavailable: Annotated[bool, typer.Option(help="Add without taking round-robin work")] = False,
) -> None:
    """Add an agent."""
    from pydantic import ValidationError

    from engagement import agents
    from engagement.schemas import AgentCreate

    try:
        data = AgentCreate(name=name, email=email, available=not unavailable)
    except ValidationError as exc:
        _fail(validation_message(exc), 2)
    try:
        with unit_of_work(_factory()) as session:
            agent = agents.create_agent(session, data)
            line = f"agent {agent.id} ({agent.name}) added"
    except ConflictError as exc:
        _fail(str(exc))
    typer.echo(line)


@agents_app.command("list")
def agents_list(
    all_agents: Annotated[bool, typer.Option("--all", help="Include deactivated agents")] = False,
) -> None:
    """List agents with availability and last assignment."""
    from engagement import agents

    with unit_of_work(_factory()) as session:
        for a in agents.list_agents(session, include_inactive=all_agents):
            state = "available" if a.available else "unavailable"
            if not a.active:
                state = "deactivated"
            last = f"{a.last_assigned_at:%Y-%m-%d %H:%M}" if a.last_assigned_at else "never"
            typer.echo(f"{a.id}\t{a.name}\t{state}\tlast assigned {last}")


@rules_app.command("list")
def rules_list() -> None:
    """List engagement rules in evaluation order."""
    from engagement import rules

    with unit_of_work(_factory()) as session:
        for r in rules.list_rules(session):
            state = "enabled" if r.enabled else "disabled"
            shift = f"{r.priority_shift:+d}" if r.priority_shift else "0"
            typer.echo(
                f"{r.id}\t{r.position}\t{r.kind}\t{r.name}\t{state}\tpriority shift {shift}\t"
                f"{json.dumps(r.params, sort_keys=True)}"
            )
