"""All SQL for webhook subscriptions, events and deliveries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.models import WebhookDelivery, WebhookEvent, WebhookSubscription


def enabled_subscriptions(session: Session) -> list[WebhookSubscription]:
    """Subscriptions that currently receive events."""
    stmt = select(WebhookSubscription).where(WebhookSubscription.enabled.is_(True))
    return list(session.scalars(stmt))


def add_event(session: Session, event: WebhookEvent) -> WebhookEvent:
    """Insert an event and get its row id."""
    session.add(event)
    session.flush()
    return event


def add_delivery(session: Session, delivery: WebhookDelivery) -> None:
    """Queue one delivery."""
    session.add(delivery)
