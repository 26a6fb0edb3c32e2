"""`emit`: record an event in the caller's transaction; the delivery job sends it later."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from core.timeutil import utcnow
from engagement.models import WebhookDelivery, WebhookEvent
from engagement.webhooks import repository

EVENT_TYPES = (
    "complaint.flagged",
    "task.opened",
    "task.assigned",
    "task.escalated",
    "task.resolved",
    "task.closed",
    "task.reopened",
    "task.recovery",
    "customer.linked",
    "customer.unlinked",
    "customer.merged",
    "reply.sent",
    "reply.failed",
)


def emit(session: Session, event_type: str, payload: dict[str, Any]) -> WebhookEvent:
    """Store one event and a pending delivery per enabled subscription that wants it.

    Called inside the transaction that makes the change, so an event exists if and only if the
    change committed (no event for a rolled-back change, no lost event for a committed one).
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    now = utcnow()
    event = repository.add_event(
        session,
        WebhookEvent(
            event_id=f"evt_{uuid.uuid4().hex}", type=event_type, payload=payload, created_at=now
        ),
    )
    for sub in repository.enabled_subscriptions(session):
        if not sub.event_types or event_type in sub.event_types or "*" in sub.event_types:
            repository.add_delivery(
                session,
                WebhookDelivery(
                    event_id=event.id,
                    subscription_id=sub.id,
                    status="pending",
                    next_attempt_at=now,
                    created_at=now,
                ),
            )
    return event
