"""Tables of the engagement domain: customers and identities, rules, tasks, replies,
compensations, webhooks."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
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
    # Set when this record was merged into another (reversible: see customer_events).
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_customers_email", "email"),)


class CustomerIdentity(Base):
    """A social identity of a customer: declared by the CRM (platform + id/handle) and, once
    resolved, linked to the author row that posts under it."""

    __tablename__ = "customer_identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32))
    platform_user_id: Mapped[str | None] = mapped_column(String(255))
    handle: Mapped[str | None] = mapped_column(String(255))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("authors.id", ondelete="SET NULL"), unique=True
    )
    # crm (declared by the CRM) | exact_id | handle | suggestion | manual
    method: Mapped[str] = mapped_column(String(32), default="manual")
    confidence: Mapped[float] = mapped_column(default=1.0)
    linked_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    author: Mapped[Author | None] = relationship(lazy="joined")

    __table_args__ = (
        Index("ix_customer_identities_customer", "customer_id"),
        Index("ix_customer_identities_platform_user", "platform", "platform_user_id"),
        Index("ix_customer_identities_platform_handle", "platform", "handle"),
    )


class CustomerEvent(Base):
    """Audit trail of a customer: created, updated, linked, unlinked, merged, unmerged."""

    __tablename__ = "customer_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_customer_events_customer_created", "customer_id", "created_at"),)


class LinkSuggestion(Base):
    """A possible author→customer link below the auto-link threshold, for an agent to decide."""

    __tablename__ = "link_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    confidence: Mapped[float]
    reason: Mapped[str] = mapped_column(String(500))
    # pending | accepted | rejected
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(255))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("author_id", "customer_id", name="uq_link_suggestions_author_customer"),
        Index("ix_link_suggestions_status", "status", "confidence"),
    )


class Agent(Base):
    """A member of the social-care team who answers tasks."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Round-robin hands the next task to the available agent assigned longest ago.
    last_assigned_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class EngagementRule(Base):
    """A rule that decides which mentions open a task, editable per brand."""

    __tablename__ = "engagement_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # negative_wom | question | low_rating | key_customer
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    # Added to (subtracted from) the computed priority: -1 makes tasks more urgent.
    priority_shift: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class ReplyTemplate(Base):
    """A canned reply; placeholders like {first_name} are filled from the customer/author."""

    __tablename__ = "reply_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    body: Mapped[str] = mapped_column(Text)
    platform: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


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
    category: Mapped[str | None] = mapped_column(String(100))
    # First-response deadline (SLA); resolution_due_at is the resolution SLA.
    due_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime)
    # "Being answered by X": a short lease so two agents do not answer the same mention.
    locked_by: Mapped[str | None] = mapped_column(String(255))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    # Service recovery: recovered | unchanged | worse | no_followup (None = not evaluated yet).
    recovery_status: Mapped[str | None] = mapped_column(String(16))
    recovery_evaluated_at: Mapped[datetime | None] = mapped_column(DateTime)
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


class Reply(Base):
    """An answer to a mention, stored first and sent by the outbox job (transactional outbox)."""

    __tablename__ = "replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("response_tasks.id", ondelete="SET NULL")
    )
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(255))
    # pending | sending | sent | dry_run | failed | cancelled ("sending" past next_attempt_at:
    # the worker was interrupted and the reply is due again)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The platform's id of the sent reply; also stored as the brand's mention in the thread.
    external_id: Mapped[str | None] = mapped_column(String(255))
    sent_mention_id: Mapped[int | None] = mapped_column(
        ForeignKey("mentions.id", ondelete="SET NULL")
    )
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_replies_status_next", "status", "next_attempt_at"),
        Index("ix_replies_task", "task_id"),
    )


class Compensation(Base):
    """What the brand gave to make up for a complaint."""

    __tablename__ = "compensations"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("response_tasks.id", ondelete="CASCADE"))
    # apology | refund | voucher | replacement | other
    kind: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_compensations_task", "task_id"),)


class WebhookSubscription(Base):
    """A CRM endpoint that receives signed events (Standard Webhooks)."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    # "whsec_" + base64 key, per the Standard Webhooks spec.
    secret: Mapped[str] = mapped_column(String(200))
    # After a rotation the old secret also signs until this time, so the CRM can switch over
    # without rejecting deliveries in between (the spec's several signatures per header).
    previous_secret: Mapped[str | None] = mapped_column(String(200))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    event_types: Mapped[list[str]] = mapped_column(JsonType, default=list)
    description: Mapped[str | None] = mapped_column(String(500))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret, and the previous one while its grace period lasts."""
        previous, until = self.previous_secret, self.previous_secret_expires_at
        return signing_secrets(self.secret, previous, until, now)


def signing_secrets(
    secret: str, previous: str | None, previous_expires_at: datetime | None, now: datetime
) -> list[str]:
    """The secrets a delivery is signed with at `now` (the newest first)."""
    if previous and previous_expires_at is not None and now < previous_expires_at:
        return [secret, previous]
    return [secret]


class WebhookEvent(Base):
    """One event, written in the same transaction as the change that caused it."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable id sent as webhook-id, so the receiver can deduplicate at-least-once delivery.
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_webhook_events_type_created", "type", "created_at"),)


class WebhookDelivery(Base):
    """The delivery of one event to one subscription, with its retry state."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"))
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    # pending | sending (claimed; next_attempt_at = claim lease end) | delivered | dead
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("event_id", "subscription_id", name="uq_webhook_deliveries_event_sub"),
        Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
    )
