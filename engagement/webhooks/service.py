"""Webhook subscriptions (CRM endpoints), their deliveries, redelivery and test pings."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from datetime import timedelta

import httpx
from sqlalchemy.orm import Session

from core.errors import ConflictError, InvalidError, NotFoundError
from core.timeutil import utcnow
from engagement.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from engagement.webhooks import delivery, repository, signing
from engagement.webhooks.guard import IPNetwork
from engagement.webhooks.schemas import (
    WebhookDeliveryRead,
    WebhookSubscriptionCreate,
    WebhookSubscriptionRead,
    WebhookSubscriptionSecret,
    WebhookSubscriptionUpdate,
    WebhookTestResult,
)

SECRET_PREFIX_CHARS = 12
# Not one of outbox.EVENT_TYPES on purpose: a test ping is sent directly, never stored.
TEST_EVENT_TYPE = "webhook.test"
REDELIVERABLE = ("dead", "delivered")
# How long the replaced secret keeps signing after a rotation, unless the caller says otherwise.
ROTATION_GRACE = timedelta(hours=24)
MAX_ROTATION_GRACE = timedelta(days=7)


def _read(sub: WebhookSubscription) -> WebhookSubscriptionRead:
    return WebhookSubscriptionRead(
        id=sub.id,
        url=sub.url,
        event_types=list(sub.event_types),
        description=sub.description,
        enabled=sub.enabled,
        secret_prefix=sub.secret[:SECRET_PREFIX_CHARS],
        previous_secret_expires_at=(
            sub.previous_secret_expires_at if len(sub.signing_secrets(utcnow())) > 1 else None
        ),
        created_at=sub.created_at,
        updated_at=sub.updated_at,
    )


def _with_secret(sub: WebhookSubscription) -> WebhookSubscriptionSecret:
    return WebhookSubscriptionSecret(**_read(sub).model_dump(), secret=sub.secret)


def _delivery_read(row: WebhookDelivery, event: WebhookEvent) -> WebhookDeliveryRead:
    return WebhookDeliveryRead(
        id=row.id,
        subscription_id=row.subscription_id,
        event_id=event.event_id,
        event_type=event.type,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        created_at=row.created_at,
    )


def _get(session: Session, subscription_id: int) -> WebhookSubscription:
    sub = repository.get_subscription(session, subscription_id)
    if sub is None:
        raise NotFoundError(f"webhook subscription {subscription_id} not found")
    return sub


def create_subscription(
    session: Session, data: WebhookSubscriptionCreate
) -> WebhookSubscriptionSecret:
    """Register an endpoint with a new signing secret, returned in full only here."""
    now = utcnow()
    sub = repository.add_subscription(
        session,
        WebhookSubscription(
            url=data.url_text(),
            secret=signing.generate_secret(),
            event_types=data.event_types,
            description=data.description,
            enabled=data.enabled,
            created_at=now,
            updated_at=now,
        ),
    )
    return _with_secret(sub)


def list_subscriptions(session: Session) -> list[WebhookSubscriptionRead]:
    """Every subscription, secrets shown by prefix only."""
    return [_read(s) for s in repository.list_subscriptions(session)]


def get_subscription(session: Session, subscription_id: int) -> WebhookSubscriptionRead:
    """One subscription, secret shown by prefix only."""
    return _read(_get(session, subscription_id))


def update_subscription(
    session: Session, subscription_id: int, data: WebhookSubscriptionUpdate
) -> WebhookSubscriptionRead:
    """Change the URL, event types, description or enabled flag.

    New event types apply to events emitted from now on; re-enabling resumes the deliveries
    that waited while the subscription was disabled.
    """
    sub = _get(session, subscription_id)
    url = data.url_text()
    if url is not None:
        sub.url = url
    if data.event_types is not None:
        sub.event_types = data.event_types
    if "description" in data.model_fields_set:
        sub.description = data.description
    if data.enabled is not None:
        sub.enabled = data.enabled
    sub.updated_at = utcnow()
    session.flush()
    return _read(sub)


def rotate_secret(
    session: Session, subscription_id: int, *, grace: timedelta = ROTATION_GRACE
) -> WebhookSubscriptionSecret:
    """Replace the signing secret; the old one also signs for `grace` (zero: not at all).

    During the grace period every attempt carries two signatures, so a CRM that still checks
    the old secret, or already the new one, accepts it. A rotation within another's grace
    period drops the oldest secret: only the one being replaced keeps signing.
    """
    if grace < timedelta(0) or grace > MAX_ROTATION_GRACE:
        raise InvalidError(f"grace period must be between 0 and {MAX_ROTATION_GRACE}")
    sub = _get(session, subscription_id)
    now = utcnow()
    if grace:
        sub.previous_secret, sub.previous_secret_expires_at = sub.secret, now + grace
    else:
        sub.previous_secret, sub.previous_secret_expires_at = None, None
    sub.secret = signing.generate_secret()
    sub.updated_at = now
    session.flush()
    return _with_secret(sub)


def delete_subscription(session: Session, subscription_id: int) -> None:
    """Remove a subscription and its delivery history (events stay)."""
    repository.delete_subscription(session, _get(session, subscription_id))


def list_deliveries(
    session: Session,
    subscription_id: int,
    *,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[WebhookDeliveryRead], int]:
    """A page of a subscription's deliveries, newest first, and the total."""
    _get(session, subscription_id)
    rows, total = repository.list_deliveries(
        session, subscription_id, status=status, limit=limit, offset=offset
    )
    return [_delivery_read(d, e) for d, e in rows], total


def redeliver(session: Session, delivery_id: int) -> WebhookDeliveryRead:
    """Queue a dead or delivered delivery again, now, with a fresh retry schedule.

    The event keeps its id, so the receiver sees the same webhook-id and can deduplicate.
    """
    row = repository.get_delivery(session, delivery_id)
    if row is None:
        raise NotFoundError(f"webhook delivery {delivery_id} not found")
    if row.status not in REDELIVERABLE:
        raise ConflictError(
            f"webhook delivery {delivery_id} is {row.status}: only dead or delivered "
            "deliveries can be redelivered"
        )
    sub = _get(session, row.subscription_id)
    if not sub.enabled:
        raise ConflictError(
            f"webhook subscription {sub.id} is disabled: enable it before redelivering"
        )
    event = repository.get_event(session, row.event_id)
    if event is None:  # pragma: no cover - the foreign key cascades
        raise NotFoundError(f"event of webhook delivery {delivery_id} not found")
    row.status = "pending"
    row.attempts = 0
    row.next_attempt_at = utcnow()
    row.delivered_at = None
    session.flush()
    return _delivery_read(row, event)


def send_test(
    session: Session,
    subscription_id: int,
    *,
    timeout: float,
    networks: Iterable[IPNetwork] = (),
    client: httpx.Client | None = None,
) -> WebhookTestResult:
    """POST a signed synthetic `webhook.test` event to one endpoint now and report the answer.

    Sent directly (not stored, not retried) whether or not the subscription is enabled, so a
    CRM team can check its receiver before switching it on.
    """
    sub = _get(session, subscription_id)
    msg_id = f"evt_test_{uuid.uuid4().hex}"
    body = delivery.event_body(
        TEST_EVENT_TYPE,
        utcnow(),
        {"subscription_id": sub.id, "message": "social-crm webhook test"},
    )
    http = client or delivery.build_client(timeout, networks=networks)
    started = time.monotonic()
    try:
        secrets = sub.signing_secrets(utcnow())
        outcome = delivery.post_signed(http, sub.url, secrets, msg_id, body, timeout)
    finally:
        if client is None:
            http.close()
    return WebhookTestResult(
        webhook_id=msg_id,
        delivered=outcome.ok,
        status_code=outcome.status_code,
        error=outcome.error,
        duration_ms=round((time.monotonic() - started) * 1000),
    )
