"""All SQL for tasks, task mentions, task events and identity look-ups."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from collectors.models import Mention
from engagement.models import (
    OPEN_STATUSES,
    CustomerIdentity,
    ResponseTask,
    TaskEvent,
    TaskMention,
)


def open_task_for_thread(session: Session, key: str) -> ResponseTask | None:
    """The open task of a conversation, if any."""
    stmt = (
        select(ResponseTask)
        .where(ResponseTask.thread_key == key, ResponseTask.status.in_(OPEN_STATUSES))
        .order_by(ResponseTask.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def open_task_for_author(session: Session, author_id: int, since: datetime) -> ResponseTask | None:
    """The author's open task that heard from them at or after `since`."""
    stmt = (
        select(ResponseTask)
        .where(
            ResponseTask.author_id == author_id,
            ResponseTask.status.in_(OPEN_STATUSES),
            ResponseTask.last_mention_at >= since,
        )
        .order_by(ResponseTask.last_mention_at.desc())
        .limit(1)
    )
    return session.scalar(stmt)


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


def tasks_query(status: str | None, assignee: str | None) -> Select[ResponseTask]:
    """Inbox order: open before closed, most urgent first, then earliest due."""
    stmt = select(ResponseTask)
    if status == "open":
        stmt = stmt.where(ResponseTask.status.in_(OPEN_STATUSES))
    elif status:
        stmt = stmt.where(ResponseTask.status == status)
    if assignee:
        stmt = stmt.where(ResponseTask.assignee == assignee)
    return stmt.order_by(
        ResponseTask.priority, ResponseTask.due_at.is_(None), ResponseTask.due_at, ResponseTask.id
    )


def list_tasks(
    session: Session, *, status: str | None, assignee: str | None, limit: int, offset: int
) -> tuple[list[ResponseTask], int]:
    """A page of tasks and the total matching count."""
    stmt = tasks_query(status, assignee)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    return list(session.scalars(stmt.limit(limit).offset(offset))), total


def get_task(session: Session, task_id: int) -> ResponseTask | None:
    """One task."""
    return session.get(ResponseTask, task_id)


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


def task_events(session: Session, task_id: int) -> list[TaskEvent]:
    """A task's audit trail, oldest first."""
    stmt = select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)
    return list(session.scalars(stmt))


def status_counts(session: Session) -> dict[str, int]:
    """Number of tasks per status."""
    stmt = select(ResponseTask.status, func.count()).group_by(ResponseTask.status)
    return {s: n for s, n in session.execute(stmt)}
