"""All SQL for replies (the outbox) and compensations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from collectors.models import Mention
from engagement.models import Compensation, Reply, TaskMention

PENDING = "pending"
SENDING = "sending"


def add_reply(session: Session, reply: Reply) -> Reply:
    """Insert a reply and get its id."""
    session.add(reply)
    session.flush()
    return reply


def get_reply(session: Session, reply_id: int) -> Reply | None:
    """One reply."""
    return session.get(Reply, reply_id)


def replies_for_task(session: Session, task_id: int) -> list[Reply]:
    """A task's replies, oldest first."""
    stmt = select(Reply).where(Reply.task_id == task_id).order_by(Reply.id)
    return list(session.scalars(stmt))


def latest_customer_mention(session: Session, task_id: int) -> Mention | None:
    """The newest mention of a task that the brand did not write."""
    # Two steps on purpose: a task has few mentions, and starting from its own rows keeps the
    # plan cheap even when PostgreSQL has no statistics yet (the join was planned as a backward
    # scan over every mention: 19 ms a call at 10k mentions).
    ids = list(
        session.scalars(select(TaskMention.mention_id).where(TaskMention.task_id == task_id))
    )
    if not ids:
        return None
    stmt = (
        select(Mention)
        .where(Mention.id.in_(ids), Mention.is_brand.is_(False))
        .order_by(Mention.created_at.desc(), Mention.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).unique().first()


def mention_in_task(session: Session, task_id: int, mention_id: int) -> bool:
    """True when the mention belongs to the task."""
    stmt = select(TaskMention.mention_id).where(
        TaskMention.task_id == task_id, TaskMention.mention_id == mention_id
    )
    return session.scalar(stmt) is not None


def mention_by_external_id(session: Session, platform: str, external_id: str) -> Mention | None:
    """A stored mention by its platform id."""
    stmt = select(Mention).where(Mention.platform == platform, Mention.external_id == external_id)
    return session.scalars(stmt).unique().first()


def due_replies(session: Session, now: datetime, limit: int) -> list[Reply]:
    """Pending replies whose time has come and "sending" ones whose lease ran out.

    Rows another worker has locked are skipped (PostgreSQL; SQLite has one writer anyway).
    """
    stmt = (
        select(Reply)
        .where(Reply.status.in_((PENDING, SENDING)), Reply.next_attempt_at <= now)
        .order_by(Reply.next_attempt_at, Reply.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def claim(session: Session, reply: Reply, *, lease_until: datetime, now: datetime) -> Reply | None:
    """Mark a reply "sending" with one more attempt, unless someone changed it since it was read.

    The WHERE on status and attempts makes two workers that read the same row claim it once.
    """
    stmt = (
        update(Reply)
        .where(
            Reply.id == reply.id,
            Reply.status == reply.status,
            Reply.attempts == reply.attempts,
        )
        .values(
            status=SENDING,
            attempts=Reply.attempts + 1,
            next_attempt_at=lease_until,
            updated_at=now,
        )
        .returning(Reply)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    return session.scalars(stmt).first()


def cancel_pending(session: Session, reply_id: int, now: datetime) -> bool:
    """Cancel a reply that is still waiting; False when it is no longer pending."""
    stmt = (
        update(Reply)
        .where(Reply.id == reply_id, Reply.status == PENDING)
        .values(status="cancelled", next_attempt_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def add_compensation(session: Session, compensation: Compensation) -> Compensation:
    """Insert a compensation and get its id."""
    session.add(compensation)
    session.flush()
    return compensation


def compensations_for_task(session: Session, task_id: int) -> list[Compensation]:
    """A task's compensations, oldest first."""
    stmt = select(Compensation).where(Compensation.task_id == task_id).order_by(Compensation.id)
    return list(session.scalars(stmt))
