"""Tables for customers, their social identities, response tasks and task events."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from collectors.models import Author, Mention
from core.db import Base
from core.timeutil import utcnow
from core.types import JsonType


class TaskStatus(enum.StrEnum):
    new = "new"
    assigned = "assigned"
    waiting = "waiting"
    resolved = "resolved"
    closed = "closed"


OPEN_STATUSES = (TaskStatus.new.value, TaskStatus.assigned.value, TaskStatus.waiting.value)


class Customer(Base):
    """A customer record as the company CRM knows it."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    crm_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    tier: Mapped[str | None] = mapped_column(String(64))
    lifetime_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    consent: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_customers_email", "email"),)


class CustomerIdentity(Base):
    """Links one social identity (author) to the customer who owns it."""

    __tablename__ = "customer_identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(
        ForeignKey("authors.id", ondelete="CASCADE"), unique=True
    )
    method: Mapped[str] = mapped_column(String(32), default="manual")
    confidence: Mapped[float] = mapped_column(default=1.0)
    linked_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    author: Mapped[Author] = relationship(lazy="joined")

    __table_args__ = (Index("ix_customer_identities_customer", "customer_id"),)


class ResponseTask(Base):
    """Work for an agent: answer one conversation."""

    __tablename__ = "response_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "<platform>:<thread id>" (or the author's key when no thread): one open task per key.
    thread_key: Mapped[str] = mapped_column(String(400))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.new.value)
    priority: Mapped[int] = mapped_column(Integer, default=3)
    reason: Mapped[str] = mapped_column(String(64))
    assignee: Mapped[str | None] = mapped_column(String(255))
    due_at: Mapped[datetime | None] = mapped_column(DateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_mention_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint(
            "status in ('new', 'assigned', 'waiting', 'resolved', 'closed')", name="status_valid"
        ),
        CheckConstraint("priority between 1 and 4", name="priority_range"),
        Index("ix_tasks_status_priority_due", "status", "priority", "due_at"),
        Index("ix_tasks_thread_key_status", "thread_key", "status"),
        Index("ix_tasks_author_status", "author_id", "status"),
        Index("ix_tasks_customer", "customer_id"),
    )


class TaskMention(Base):
    """A mention that belongs to a task (each mention to at most one task)."""

    __tablename__ = "task_mentions"

    task_id: Mapped[int] = mapped_column(
        ForeignKey("response_tasks.id", ondelete="CASCADE"), primary_key=True
    )
    mention_id: Mapped[int] = mapped_column(
        ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True, unique=True
    )
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    mention: Mapped[Mention] = relationship(lazy="joined")


class TaskEvent(Base):
    """Audit trail of a task: who did what, when."""

    __tablename__ = "task_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("response_tasks.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_task_events_task_created", "task_id", "created_at"),)
