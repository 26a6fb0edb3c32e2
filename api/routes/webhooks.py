"""Webhook subscriptions of the CRM: register endpoints, inspect and redeliver deliveries."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from api.deps import SessionDep, get_settings
from core.pagination import Page
from core.settings import Settings
from engagement.webhooks import service
from engagement.webhooks.schemas import (
    DeliveryStatus,
    WebhookDeliveryRead,
    WebhookSubscriptionCreate,
    WebhookSubscriptionRead,
    WebhookSubscriptionSecret,
    WebhookSubscriptionUpdate,
    WebhookTestResult,
)

router = APIRouter(tags=["webhooks"])

SettingsDep = Annotated[Settings, Depends(get_settings)]


@router.post(
    "/webhooks", response_model=WebhookSubscriptionSecret, status_code=status.HTTP_201_CREATED
)
def create_webhook(
    session: SessionDep, body: WebhookSubscriptionCreate
) -> WebhookSubscriptionSecret:
    """Register an endpoint; the response holds its signing secret, shown only this once."""
    return service.create_subscription(session, body)


@router.get("/webhooks", response_model=list[WebhookSubscriptionRead])
def list_webhooks(session: SessionDep) -> list[WebhookSubscriptionRead]:
    """List subscriptions (secrets by prefix only)."""
    return service.list_subscriptions(session)


@router.get("/webhooks/{subscription_id}", response_model=WebhookSubscriptionRead)
def get_webhook(session: SessionDep, subscription_id: int) -> WebhookSubscriptionRead:
    """One subscription."""
    return service.get_subscription(session, subscription_id)


@router.patch("/webhooks/{subscription_id}", response_model=WebhookSubscriptionRead)
def update_webhook(
    session: SessionDep, subscription_id: int, body: WebhookSubscriptionUpdate
) -> WebhookSubscriptionRead:
    """Change URL, event types, description or enabled (re-enabling resumes waiting ones)."""
    return service.update_subscription(session, subscription_id, body)


@router.post("/webhooks/{subscription_id}/rotate-secret", response_model=WebhookSubscriptionSecret)
def rotate_webhook_secret(
    session: SessionDep,
    subscription_id: int,
    grace_hours: Annotated[
        float,
        Query(ge=0, le=168, description="How long the old secret also signs (0: stop at once)"),
    ] = 24,
) -> WebhookSubscriptionSecret:
    """Replace the signing secret; the new one is in the response, shown only this once."""
    return service.rotate_secret(session, subscription_id, grace=timedelta(hours=grace_hours))


@router.delete("/webhooks/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(session: SessionDep, subscription_id: int) -> Response:
    """Remove a subscription and its delivery history."""
    service.delete_subscription(session, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/webhooks/{subscription_id}/deliveries", response_model=Page[WebhookDeliveryRead])
def list_webhook_deliveries(
    session: SessionDep,
    subscription_id: int,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[WebhookDeliveryRead]:
    """A subscription's deliveries, newest first, optionally by status (dead: the DLQ)."""
    items, total = service.list_deliveries(
        session, subscription_id, status=status, limit=limit, offset=offset
    )
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.post("/webhook-deliveries/{delivery_id}/redeliver", response_model=WebhookDeliveryRead)
def redeliver_webhook(session: SessionDep, delivery_id: int) -> WebhookDeliveryRead:
    """Send a dead or delivered delivery again, with the same webhook-id and a new schedule."""
    return service.redeliver(session, delivery_id)


@router.post("/webhooks/{subscription_id}/test", response_model=WebhookTestResult)
def test_webhook(
    session: SessionDep, settings: SettingsDep, subscription_id: int
) -> WebhookTestResult:
    """POST a signed `webhook.test` event to the endpoint now and report what it answered."""
    return service.send_test(
        session,
        subscription_id,
        timeout=settings.webhook_timeout_seconds,
        networks=settings.webhook_networks(),
    )
