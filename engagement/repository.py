"""All SQL for tasks, task mentions, task events, identity look-ups, rules, agents and templates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.orm import Session

from collectors.models import Author, Mention
from engagement.models import (
    OPEN_STATUSES,
    Agent,
    Customer,
    CustomerIdentity,
    EngagementRule,
    ReplyTemplate,
    ResponseTask,
    TaskEvent,
    TaskMention,
    TaskStatus,
)

FINISHED_STATUSES = (TaskStatus.resolved.value, TaskStatus.closed.value)
# While waiting on the customer the resolution clock does not escalate.
RESOLUTION_CLOCK_STATUSES = (TaskStatus.new.value, TaskStatus.assigned.value)


def open_task_for_thread(session: Session, key: str) -> ResponseTask | None:
    """The open task of a conversation, if any."""
    stmt = (
        select(ResponseTask)
        .where(ResponseTask.thread_key == key, ResponseTask.status.in_(OPEN_STATUSES))
        .order_by(ResponseTask.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def open_task_for_author(
    session: Session,
    author_id: int,
    since: datetime,
    statuses: Sequence[str] = OPEN_STATUSES,
) -> ResponseTask | None:
    """The author's task (open by default) that heard from them at or after `since`."""
    stmt = (
        select(ResponseTask)
        .where(
            ResponseTask.author_id == author_id,
            ResponseTask.status.in_(statuses),
            ResponseTask.last_mention_at >= since,
        )
        .order_by(ResponseTask.last_mention_at.desc(), ResponseTask.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def finished_task_for_thread(session: Session, key: str) -> ResponseTask | None:
    """The newest resolved or closed task of a conversation, if any."""
    stmt = (
        select(ResponseTask)
        .where(ResponseTask.thread_key == key, ResponseTask.status.in_(FINISHED_STATUSES))
        .order_by(ResponseTask.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def customers_by_id(session: Session, customer_ids: Sequence[int]) -> dict[int, Customer]:
    """Customers keyed by id."""
    if not customer_ids:
        return {}
    stmt = select(Customer).where(Customer.id.in_(set(customer_ids)))
    return {c.id: c for c in session.scalars(stmt)}


def get_customer(session: Session, customer_id: int) -> Customer | None:
    """One customer."""
    return session.get(Customer, customer_id)


def get_author(session: Session, author_id: int) -> Author | None:
    """One author."""
    return session.get(Author, author_id)


def brand_handles(session: Session, limit: int = 100) -> set[str]:
    """Lower-cased handles of the authors who post as the brand."""
    brand_authors = select(Mention.author_id).where(Mention.is_brand.is_(True)).distinct()
    stmt = (
        select(Author.handle)
        .where(Author.id.in_(brand_authors), Author.handle.is_not(None))
        .limit(limit)
    )
    return {h.lower() for h in session.scalars(stmt) if h}


def brand_mention_keys(session: Session, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (platform, external_id) pairs are mentions the brand posted."""
    if not keys:
        return set()
    by_platform: dict[str, set[str]] = {}
    for platform, external_id in keys:
        by_platform.setdefault(platform, set()).add(external_id)
    found: set[tuple[str, str]] = set()
    for platform, ids in by_platform.items():
        stmt = select(Mention.external_id).where(
            Mention.platform == platform,
            Mention.external_id.in_(ids),
            Mention.is_brand.is_(True),
        )
        found.update((platform, e) for e in session.scalars(stmt))
    return found


def customer_ids_for_authors(session: Session, author_ids: Sequence[int]) -> dict[int, int]:
    """author_id → customer_id for linked identities."""
    if not author_ids:
        return {}
    stmt = select(CustomerIdentity.author_id, CustomerIdentity.customer_id).where(
        CustomerIdentity.author_id.in_(author_ids)
    )
    return {a: c for a, c in session.execute(stmt) if a is not None}


def add_task(session: Session, task: ResponseTask) -> ResponseTask:
    """Insert a task and get its id."""
    session.add(task)
    session.flush()
    return task


def add_task_mention(session: Session, task_id: int, mention_id: int) -> None:
    """Attach a mention to a task."""
    session.add(TaskMention(task_id=task_id, mention_id=mention_id))


def add_event(session: Session, event: TaskEvent) -> None:
    """Append to a task's audit trail."""
    session.add(event)


def overdue_clause(now: datetime) -> Any:
    """Tasks past their first-response deadline without a response."""
    return and_(
        ResponseTask.status.in_((TaskStatus.new.value, TaskStatus.assigned.value)),
        ResponseTask.first_response_at.is_(None),
        ResponseTask.due_at < now,
    )


def tasks_query(
    status: str | None,
    assignee: str | None,
    priority: int | None = None,
    overdue: bool | None = None,
    now: datetime | None = None,
) -> Select[ResponseTask]:
    """Inbox order: most urgent first, then earliest due."""
    stmt = select(ResponseTask)
    if status == "open":
        stmt = stmt.where(ResponseTask.status.in_(OPEN_STATUSES))
    elif status:
        stmt = stmt.where(ResponseTask.status == status)
    if assignee:
        stmt = stmt.where(ResponseTask.assignee == assignee)
    if priority is not None:
        stmt = stmt.where(ResponseTask.priority == priority)
    if overdue is not None and now is not None:
        clause = overdue_clause(now)
        stmt = stmt.where(clause if overdue else ~clause)
    return stmt.order_by(
        ResponseTask.priority, ResponseTask.due_at.is_(None), ResponseTask.due_at, ResponseTask.id
    )


def list_tasks(
    session: Session,
    *,
    status: str | None,
    assignee: str | None,
    limit: int,
    offset: int,
    priority: int | None = None,
    overdue: bool | None = None,
    now: datetime | None = None,
) -> tuple[list[ResponseTask], int]:
    """A page of tasks and the total matching count."""
    stmt = tasks_query(status, assignee, priority, overdue, now)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    return list(session.scalars(stmt.limit(limit).offset(offset))), total


def get_task(session: Session, task_id: int, *, for_update: bool = False) -> ResponseTask | None:
    """One task (row-locked until commit when `for_update`, on PostgreSQL)."""
    if for_update:
        return session.get(ResponseTask, task_id, with_for_update=True, populate_existing=True)
    return session.get(ResponseTask, task_id)


def try_lock_task(
    session: Session, task_id: int, agent: str, until: datetime, now: datetime
) -> bool:
    """Take or renew the answer lock unless another agent holds a valid one (atomic)."""
    stmt = (
        update(ResponseTask)
        .where(
            ResponseTask.id == task_id,
            or_(
                ResponseTask.locked_by.is_(None),
                ResponseTask.locked_by == agent,
                ResponseTask.locked_until.is_(None),
                ResponseTask.locked_until <= now,
            ),
        )
        .values(locked_by=agent, locked_until=until)
        .execution_options(synchronize_session=False)
    )
    done = session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]
    task = session.get(ResponseTask, task_id)
    if task is not None:
        session.refresh(task)
    return done


def breached_tasks(
    session: Session, now: datetime, after_id: int, limit: int
) -> list[ResponseTask]:
    """Open tasks with an SLA breach not escalated yet, in id order after `after_id`.

    A breach counts as escalated once `escalated_at` is at or after its deadline.
    """
    not_escalated_first = or_(
        ResponseTask.escalated_at.is_(None), ResponseTask.escalated_at < ResponseTask.due_at
    )
    not_escalated_resolution = or_(
        ResponseTask.escalated_at.is_(None),
        ResponseTask.escalated_at < ResponseTask.resolution_due_at,
    )
    stmt = (
        select(ResponseTask)
        .where(
            ResponseTask.id > after_id,
            ResponseTask.status.in_(OPEN_STATUSES),
            or_(
                and_(
                    ResponseTask.due_at < now,
                    ResponseTask.first_response_at.is_(None),
                    not_escalated_first,
                ),
                and_(
                    ResponseTask.status.in_(RESOLUTION_CLOCK_STATUSES),
                    ResponseTask.resolution_due_at < now,
                    not_escalated_resolution,
                ),
            ),
        )
        .order_by(ResponseTask.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def task_mentions(session: Session, task_ids: Sequence[int]) -> dict[int, list[TaskMention]]:
    """Mentions of each task, oldest first."""
    if not task_ids:
        return {}
    stmt = (
        select(TaskMention)
        .join(Mention, Mention.id == TaskMention.mention_id)
        .where(TaskMention.task_id.in_(task_ids))
        .order_by(Mention.created_at, Mention.id)
    )
    out: dict[int, list[TaskMention]] = {tid: [] for tid in task_ids}
    for tm in session.scalars(stmt).unique():
        out[tm.task_id].append(tm)
    return out


def first_mention_at(session: Session, task_id: int) -> datetime | None:
    """When the oldest mention of a task was posted."""
    stmt = (
        select(func.min(Mention.created_at))
        .join(TaskMention, TaskMention.mention_id == Mention.id)
        .where(TaskMention.task_id == task_id)
    )
    return session.scalar(stmt)


def task_events(session: Session, task_id: int) -> list[TaskEvent]:
    """A task's audit trail, oldest first."""
    stmt = select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)
    return list(session.scalars(stmt))


def status_counts(session: Session) -> dict[str, int]:
    """Number of tasks per status."""
    stmt = select(ResponseTask.status, func.count()).group_by(ResponseTask.status)
    return {s: n for s, n in session.execute(stmt)}


# --- rules -----------------------------------------------------------------------------------


def list_rules(session: Session, *, enabled_only: bool = False) -> list[EngagementRule]:
    """Rules in evaluation order."""
    stmt = select(EngagementRule)
    if enabled_only:
        stmt = stmt.where(EngagementRule.enabled.is_(True))
    return list(session.scalars(stmt.order_by(EngagementRule.position, EngagementRule.id)))


def get_rule(session: Session, rule_id: int) -> EngagementRule | None:
    """One rule."""
    return session.get(EngagementRule, rule_id)


def add_rule(session: Session, rule: EngagementRule) -> EngagementRule:
    """Insert a rule and get its id."""
    session.add(rule)
    session.flush()
    return rule


def delete_rule(session: Session, rule: EngagementRule) -> None:
    """Remove a rule."""
    session.delete(rule)
    session.flush()


# --- agents ----------------------------------------------------------------------------------


def list_agents(session: Session, *, include_inactive: bool = False) -> list[Agent]:
    """Agents by name."""
    stmt = select(Agent)
    if not include_inactive:
        stmt = stmt.where(Agent.active.is_(True))
    return list(session.scalars(stmt.order_by(Agent.name)))


def get_agent(session: Session, agent_id: int) -> Agent | None:
    """One agent."""
    return session.get(Agent, agent_id)


def agent_by_name(session: Session, name: str) -> Agent | None:
    """The agent with this exact name."""
    return session.scalar(select(Agent).where(Agent.name == name))


def add_agent(session: Session, agent: Agent) -> Agent:
    """Insert an agent and get its id."""
    session.add(agent)
    session.flush()
    return agent


def next_round_robin_agent(session: Session) -> Agent | None:
    """The available, active agent assigned longest ago (never assigned first, then by id).

    Row-locked (skipping rows another transaction holds) so two concurrent assignments on
    PostgreSQL pick different agents.
    """
    stmt = (
        select(Agent)
        .where(Agent.available.is_(True), Agent.active.is_(True))
        .order_by(Agent.last_assigned_at.is_not(None), Agent.last_assigned_at, Agent.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return session.scalar(stmt)


# --- reply templates -------------------------------------------------------------------------


def list_templates(session: Session, platform: str | None = None) -> list[ReplyTemplate]:
    """Templates by name; with a platform, those for it and those for every platform."""
    stmt = select(ReplyTemplate)
    if platform:
        stmt = stmt.where(or_(ReplyTemplate.platform.is_(None), ReplyTemplate.platform == platform))
    return list(session.scalars(stmt.order_by(ReplyTemplate.name)))


def get_template(session: Session, template_id: int) -> ReplyTemplate | None:
    """One template."""
    return session.get(ReplyTemplate, template_id)


def template_by_name(session: Session, name: str) -> ReplyTemplate | None:
    """The template with this name."""
    return session.scalar(select(ReplyTemplate).where(ReplyTemplate.name == name))


def add_template(session: Session, template: ReplyTemplate) -> ReplyTemplate:
    """Insert a template and get its id."""
    session.add(template)
    session.flush()
    return template


def delete_template(session: Session, template: ReplyTemplate) -> None:
    """Remove a template."""
    session.delete(template)
    session.flush()
