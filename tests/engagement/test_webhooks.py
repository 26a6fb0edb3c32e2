"""Webhook subscriptions service: create/read/update/rotate/delete, event-type filtering of
emit(), delivery listing, redelivery rules and the direct test ping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from core.errors import ConflictError, InvalidError, NotFoundError
from engagement.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from engagement.webhooks import outbox, service
from engagement.webhooks.schemas import WebhookSubscriptionCreate, WebhookSubscriptionUpdate
from tests.conftest import LOOPBACK
from tests.webhook_receiver import WebhookReceiver

URL = "https://crm.example/hooks/social"


def _create(session, types=("*",), url=URL, **kw):
    return service.create_subscription(
        session, WebhookSubscriptionCreate(url=url, event_types=list(types), **kw)
    )


def test_create_returns_the_secret_once_then_only_its_prefix(session):
    created = _create(session, ["task.opened", "task.resolved"], description="Salesforce")

    assert created.secret.startswith("whsec_") and len(created.secret) == 50
    assert created.secret_prefix == created.secret[:12]
    assert (created.url, created.event_types, created.enabled) == (
        URL,
        ["task.opened", "task.resolved"],
        True,
    )
    read = service.get_subscription(session, created.id)
    assert "secret" not in read.model_dump()
    assert read.secret_prefix == created.secret[:12]
    assert [s.id for s in service.list_subscriptions(session)] == [created.id]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": "ftp://crm.example/x", "event_types": ["*"]}, "URL scheme"),
        ({"url": "not a url", "event_types": ["*"]}, "valid URL"),
        ({"url": URL, "event_types": []}, "at least 1"),
        ({"url": URL, "event_types": ["task.opened", "nope"]}, r"unknown event types \['nope'\]"),
        ({"url": URL, "event_types": ["*", "task.opened"]}, "give it alone"),
        ({"url": URL, "event_types": ["*"], "description": "x" * 501}, "at most 500"),
        ({"url": URL, "event_types": ["*"], "secret": "mine"}, "Extra inputs"),
    ],
)
def test_invalid_subscriptions_are_refused(data, message):
    with pytest.raises(ValidationError, match=message):
        WebhookSubscriptionCreate.model_validate(data)


def test_duplicate_event_types_are_collapsed(session):
    assert _create(session, ["task.opened", "task.opened"]).event_types == ["task.opened"]


def test_update_changes_only_given_fields(session):
    sub = _create(session, ["task.opened"], description="old")

    changed = service.update_subscription(
        session,
        sub.id,
        WebhookSubscriptionUpdate(
            url="https://crm.example/v2", event_types=["customer.linked"], enabled=False
        ),
    )

    assert (changed.url, changed.event_types, changed.enabled) == (
        "https://crm.example/v2",
        ["customer.linked"],
        False,
    )
    assert changed.description == "old"
    cleared = service.update_subscription(
        session, sub.id, WebhookSubscriptionUpdate(description=None)
    )
    assert (cleared.description, cleared.enabled) == (None, False)
    with pytest.raises(NotFoundError):
        service.update_subscription(session, 999_999, WebhookSubscriptionUpdate(enabled=True))


def test_rotate_secret_replaces_it(session):
    sub = _create(session)
    rotated = service.rotate_secret(session, sub.id)

    assert rotated.secret != sub.secret and rotated.secret.startswith("whsec_")
    assert session.get(WebhookSubscription, sub.id).secret == rotated.secret
    assert service.get_subscription(session, sub.id).secret_prefix == rotated.secret[:12]
    # By default the old secret keeps signing for 24 hours.
    stored = session.get(WebhookSubscription, sub.id)
    assert stored.previous_secret == sub.secret
    assert stored.previous_secret_expires_at - stored.updated_at == timedelta(hours=24)


@pytest.mark.parametrize("hours", [-1, 24 * 7 + 1])
def test_rotation_grace_is_bounded(session, hours):
    sub = _create(session)
    with pytest.raises(InvalidError, match="grace period"):
        service.rotate_secret(session, sub.id, grace=timedelta(hours=hours))


def test_delete_removes_subscription_and_its_deliveries_not_events(session):
    sub = _create(session)
    outbox.emit(session, "task.opened", {"task_id": 1})
    session.flush()

    service.delete_subscription(session, sub.id)

    assert session.scalar(select(func.count(WebhookDelivery.id))) == 0
    assert session.scalar(select(func.count(WebhookEvent.id))) == 1
    with pytest.raises(NotFoundError):
        service.get_subscription(session, sub.id)
    with pytest.raises(NotFoundError):
        service.delete_subscription(session, sub.id)


def test_emit_without_subscriptions_writes_the_event_but_no_delivery(session):
    event = outbox.emit(session, "complaint.flagged", {"mention_id": 5})

    assert session.scalar(select(func.count(WebhookEvent.id))) == 1
    assert event.type == "complaint.flagged" and event.payload == {"mention_id": 5}
    assert session.scalar(select(func.count(WebhookDelivery.id))) == 0


def test_emit_delivers_only_to_enabled_subscriptions_that_want_the_type(session):
    opened = _create(session, ["task.opened"])
    everything = _create(session, ["*"])
    complaints = _create(session, ["complaint.flagged"])
    paused = _create(session, ["*"], enabled=False)

    event = outbox.emit(session, "task.opened", {"task_id": 1})
    session.flush()

    subs = session.scalars(
        select(WebhookDelivery.subscription_id)
        .where(WebhookDelivery.event_id == event.id)
        .order_by(WebhookDelivery.subscription_id)
    ).all()
    assert subs == [opened.id, everything.id]
    assert complaints.id not in subs and paused.id not in subs


def test_list_deliveries_newest_first_with_status_filter(session):
    sub = _create(session)
    first = outbox.emit(session, "task.opened", {"task_id": 1})
    second = outbox.emit(session, "task.resolved", {"task_id": 1})
    session.flush()
    row = session.scalars(select(WebhookDelivery).where(WebhookDelivery.event_id == first.id)).one()
    row.status = "dead"
    session.flush()

    items, total = service.list_deliveries(session, sub.id)
    assert total == 2
    assert [(i.event_id, i.event_type, i.status) for i in items] == [
        (second.event_id, "task.resolved", "pending"),
        (first.event_id, "task.opened", "dead"),
    ]
    dead, dead_total = service.list_deliveries(session, sub.id, status="dead")
    assert (dead_total, [d.id for d in dead]) == (1, [row.id])
    page, _ = service.list_deliveries(session, sub.id, limit=1, offset=1)
    assert [p.id for p in page] == [row.id]
    with pytest.raises(NotFoundError):
        service.list_deliveries(session, 999_999)


def test_redeliver_rules(session):
    sub = _create(session)
    outbox.emit(session, "task.opened", {"task_id": 1})
    session.flush()
    row = session.scalars(select(WebhookDelivery)).one()

    with pytest.raises(ConflictError, match="is pending"):
        service.redeliver(session, row.id)
    for status in ("dead", "delivered"):
        row.status, row.attempts = status, 8
        session.flush()
        again = service.redeliver(session, row.id)
        assert (again.status, again.attempts, again.delivered_at) == ("pending", 0, None)
    row.status = "dead"
    service.update_subscription(session, sub.id, WebhookSubscriptionUpdate(enabled=False))
    with pytest.raises(ConflictError, match="disabled"):
        service.redeliver(session, row.id)
    with pytest.raises(NotFoundError):
        service.redeliver(session, 999_999)


def test_send_test_pings_the_endpoint_without_storing_anything(session):
    with WebhookReceiver() as rx:
        sub = _create(session, url=rx.url, enabled=False)
        rx.secret = sub.secret

        ok = service.send_test(session, sub.id, timeout=5, networks=LOOPBACK)
        rx.fail(500)
        failed = service.send_test(session, sub.id, timeout=5, networks=LOOPBACK)

    assert (ok.delivered, ok.status_code, ok.error) == (True, 200, None)
    assert ok.webhook_id.startswith("evt_test_") and ok.duration_ms >= 0
    assert (failed.delivered, failed.status_code) == (False, 500)
    assert failed.error == "HTTP 500: receiver says no"
    got = rx.received[0]
    assert got.verified and got.webhook_id == ok.webhook_id
    assert got.json["type"] == "webhook.test"
    assert got.json["data"] == {"subscription_id": sub.id, "message": "social-crm webhook test"}
    assert session.scalar(select(func.count(WebhookEvent.id))) == 0
    assert session.scalar(select(func.count(WebhookDelivery.id))) == 0
    with pytest.raises(NotFoundError):
        service.send_test(session, 999_999, timeout=1)
