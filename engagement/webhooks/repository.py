"""All SQL for webhook subscriptions, events and deliveries."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Result, Row, func, select, update
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


def add_subscription(session: Session, sub: WebhookSubscription) -> WebhookSubscription:
    """Insert a subscription and get its id."""
    session.add(sub)
    session.flush()
    return sub


def list_subscriptions(session: Session) -> list[WebhookSubscription]:
    """Every subscription, oldest first."""
    return list(session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))


def get_subscription(session: Session, subscription_id: int) -> WebhookSubscription | None:
    """One subscription."""
    return session.get(WebhookSubscription, subscription_id)


def delete_subscription(session: Session, sub: WebhookSubscription) -> None:
    """Remove a subscription; its deliveries go with it (ON DELETE CASCADE)."""
    session.delete(sub)
    session.flush()


def disable_subscription(session: Session, subscription_id: int, now: datetime) -> None:
    """Stop sending to a subscription (its pending deliveries wait until it is re-enabled)."""
    session.execute(
        update(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id)
        .values(enabled=False, updated_at=now)
    )


def get_delivery(session: Session, delivery_id: int) -> WebhookDelivery | None:
    """One delivery."""
    return session.get(WebhookDelivery, delivery_id)


def get_event(session: Session, event_row_id: int) -> WebhookEvent | None:
    """One event by row id."""
    return session.get(WebhookEvent, event_row_id)


def list_deliveries(
    session: Session, subscription_id: int, *, status: str | None, limit: int, offset: int
) -> tuple[list[tuple[WebhookDelivery, WebhookEvent]], int]:
    """A page of a subscription's deliveries with their events, newest first, and the total."""
    where = [WebhookDelivery.subscription_id == subscription_id]
    if status:
        where.append(WebhookDelivery.status == status)
    total = session.scalar(select(func.count(WebhookDelivery.id)).where(*where)) or 0
    stmt = (
        select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(*where)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [(d, e) for d, e in session.execute(stmt)], total


def due_deliveries(
    session: Session, now: datetime, limit: int, exclude_subscription_ids: Collection[int] = ()
) -> list[Row[Any]]:
    """Deliveries to send now, oldest due first: pending ones whose time has come and
    "sending" ones whose claim lease ran out (their runner crashed), for enabled subscriptions.

    On PostgreSQL the rows are locked with SKIP LOCKED so a concurrent runner passes over them;
    `claim` below is the compare-and-set that makes the claim safe on SQLite too.
    """
    stmt = (
        select(
            WebhookDelivery.id,
            WebhookDelivery.status,
            WebhookDelivery.attempts,
            WebhookDelivery.next_attempt_at,
            WebhookSubscription.id.label("subscription_id"),
            WebhookSubscription.url,
            WebhookSubscription.secret,
            WebhookSubscription.previous_secret,
            WebhookSubscription.previous_secret_expires_at,
            WebhookEvent.event_id,
            WebhookEvent.type,
            WebhookEvent.payload,
            WebhookEvent.created_at,
        )
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(
            WebhookDelivery.status.in_(("pending", "sending")),
            WebhookDelivery.next_attempt_at <= now,
            WebhookSubscription.enabled.is_(True),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    )
    if exclude_subscription_ids:
        stmt = stmt.where(WebhookSubscription.id.not_in(list(exclude_subscription_ids)))
    return list(session.execute(stmt))


def claim(
    session: Session,
    delivery_id: int,
    *,
    expected_status: str,
    expected_attempts: int,
    lease_until: datetime,
) -> bool:
    """Mark a delivery "sending" (one more attempt) if nobody changed it since it was read."""
    result = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == expected_status,
            WebhookDelivery.attempts == expected_attempts,
        )
        .values(status="sending", attempts=expected_attempts + 1, next_attempt_at=lease_until)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def finish(
    session: Session, delivery_id: int, claimed_attempts: int, values: dict[str, Any]
) -> bool:
    """Record the outcome of a claimed attempt, unless the claim was lost (lease ran out and
    another runner re-claimed the delivery)."""
    result = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == "sending",
            WebhookDelivery.attempts == claimed_attempts,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def _rowcount(result: Result[Any]) -> int:
    return cast(CursorResult[Any], result).rowcount
