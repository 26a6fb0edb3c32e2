"""The `outbox:webhooks` job against a real local receiver: signing, retries, timeouts, the
retry schedule, dead letters, 410, claims and the stable webhook-id."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from core.timeutil import utcnow
from engagement.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from engagement.webhooks import delivery, outbox, repository, service
from engagement.webhooks.jobs import deliver_webhooks
from engagement.webhooks.schemas import WebhookSubscriptionCreate, WebhookSubscriptionUpdate
from tests.webhook_receiver import WebhookReceiver

PAYLOAD = {"mention_id": 42, "task_id": 7, "text": 'caf\u00e9 is broken, "really"'}


class Clock:
    """The job's notion of now, moved by hand (the signature timestamp stays real time)."""

    def __init__(self) -> None:
        # A minute ahead, so deliveries the test emits (at real time) are already due.
        self.now = utcnow() + timedelta(minutes=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def receiver():
    with WebhookReceiver() as rx:
        yield rx


@pytest.fixture
def clock():
    return Clock()


def _subscribe(session, rx, types=("*",)):
    sub = service.create_subscription(
        session, WebhookSubscriptionCreate(url=rx.url, event_types=list(types))
    )
    rx.secret = sub.secret
    return sub


def _emit(session, event_type="complaint.flagged", payload=None):
    event = outbox.emit(session, event_type, payload or PAYLOAD)
    session.commit()
    return event


def _rows(session):
    session.expire_all()
    return session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()


def _run(session_factory, settings, clock, **kw):
    return deliver_webhooks(session_factory, settings, now=clock, rng=lambda: 0.0, **kw)


def test_delivers_a_signed_standard_webhook(session, session_factory, settings, receiver, clock):
    sub = _subscribe(session, receiver)
    event = _emit(session)

    report = _run(session_factory, settings, clock)

    assert (report.claimed, report.delivered, report.retrying, report.dead) == (1, 1, 0, 0)
    (got,) = receiver.received
    assert got.verified, got.error
    assert got.path == "/hook"
    assert got.webhook_id == event.event_id and event.event_id.startswith("evt_")
    assert got.headers["content-type"] == "application/json"
    assert got.headers["webhook-signature"].startswith("v1,")
    assert got.json == {
        "type": "complaint.flagged",
        "timestamp": event.created_at.isoformat() + "Z",
        "data": PAYLOAD,
    }
    (row,) = _rows(session)
    assert (row.subscription_id, row.status, row.attempts) == (sub.id, "delivered", 1)
    assert (row.last_status_code, row.last_error) == (200, None)
    assert row.delivered_at == clock.now


def test_500_is_retried_after_5_seconds_with_the_same_id_and_body(
    session, session_factory, settings, receiver, clock
):
    _subscribe(session, receiver)
    event = _emit(session)
    receiver.fail(500)

    first = _run(session_factory, settings, clock)
    (row,) = _rows(session)
    assert (first.retrying, row.status, row.attempts) == (1, "pending", 1)
    assert row.last_status_code == 500
    assert row.last_error == "HTTP 500: receiver says no"
    assert row.next_attempt_at == clock.now + timedelta(seconds=5)

    assert _run(session_factory, settings, clock).claimed == 0  # not due yet
    clock.advance(seconds=5)
    second = _run(session_factory, settings, clock)

    assert second.delivered == 1
    (row,) = _rows(session)
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 2, 200)
    assert receiver.ids() == [event.event_id, event.event_id]
    assert receiver.received[0].body == receiver.received[1].body
    assert all(r.verified for r in receiver.received)


def test_hanging_receiver_times_out_and_is_retried(
    session, session_factory, settings, receiver, clock
):
    fast = settings.model_copy(update={"webhook_timeout_seconds": 0.2})
    _subscribe(session, receiver)
    event = _emit(session)
    receiver.hang(times=1, seconds=5)

    report = _run(session_factory, fast, clock)

    (row,) = _rows(session)
    assert (report.retrying, row.status, row.attempts) == (1, "pending", 1)
    assert row.last_status_code is None
    assert row.last_error.startswith("timed out after 0.2 s (")
    clock.advance(seconds=5)
    assert _run(session_factory, fast, clock).delivered == 1
    assert receiver.ids() == [event.event_id, event.event_id]


def test_a_dead_receiver_costs_one_timeout_and_never_blocks_others(
    session, session_factory, settings, clock
):
    fast = settings.model_copy(update={"webhook_timeout_seconds": 0.2})
    with WebhookReceiver() as slow, WebhookReceiver() as good:
        slow_sub = _subscribe(session, slow)
        good_sub = _subscribe(session, good)
        events = [_emit(session) for _ in range(3)]
        slow.hang(times=3, seconds=5)

        report = _run(session_factory, fast, clock)

        assert (report.claimed, report.delivered, report.retrying, report.skipped) == (6, 3, 3, 2)
        assert len(slow.received) == 1  # one request, then the endpoint is left alone
        assert good.ids() == [e.event_id for e in events]
    by_sub: dict[int, list[WebhookDelivery]] = {}
    for row in _rows(session):
        by_sub.setdefault(row.subscription_id, []).append(row)
    assert [r.status for r in by_sub[good_sub.id]] == ["delivered"] * 3
    slow_rows = by_sub[slow_sub.id]
    assert [(r.status, r.attempts) for r in slow_rows] == [("pending", 1)] * 3
    assert slow_rows[0].last_error.startswith("timed out")
    assert slow_rows[1].last_error.startswith("not sent: endpoint failed in this run: timed out")


def test_schedule_spans_more_than_24h_then_dead_letters_and_redelivers_by_hand(
    session, session_factory, settings, receiver, clock
):
    _subscribe(session, receiver)
    event = _emit(session)
    receiver.fail(503, times=delivery.MAX_ATTEMPTS)
    start = clock.now
    gaps = []
    for _ in range(delivery.MAX_ATTEMPTS):
        report = _run(session_factory, settings, clock)
        assert report.claimed == 1
        (row,) = _rows(session)
        if row.status == "dead":
            break
        gaps.append(row.next_attempt_at - clock.now)
        clock.now = row.next_attempt_at

    assert (row.status, row.attempts, row.last_status_code) == ("dead", 8, 503)
    assert gaps == list(delivery.RETRY_DELAYS[1:])
    assert clock.now - start == timedelta(hours=27, minutes=35, seconds=5)
    assert clock.now - start >= timedelta(hours=24)
    clock.advance(hours=48)
    assert _run(session_factory, settings, clock).claimed == 0  # dead stays dead

    service.redeliver(session, row.id)
    session.commit()
    (row,) = _rows(session)
    assert (row.status, row.attempts) == ("pending", 0)
    assert _run(session_factory, settings, clock).delivered == 1
    assert receiver.ids() == [event.event_id] * 9  # at-least-once, one stable id


def test_redirects_are_failures_and_not_followed(
    session, session_factory, settings, receiver, clock
):
    _subscribe(session, receiver)
    _emit(session)
    receiver.fail(307, headers={"Location": receiver.url + "/moved"})

    report = _run(session_factory, settings, clock)

    assert report.retrying == 1
    assert [r.path for r in receiver.received] == ["/hook"]  # /hook/moved never requested
    (row,) = _rows(session)
    assert (row.status, row.last_status_code) == ("pending", 307)


def test_jitter_adds_at_most_a_tenth():
    assert delivery.retry_delay(1, lambda: 1.0) == timedelta(seconds=5.5)
    assert delivery.retry_delay(7, lambda: 0.5) == timedelta(hours=10.5)
    assert delivery.retry_delay(8, lambda: 0.0) is None
    assert sum(delivery.RETRY_DELAYS, timedelta()) >= timedelta(hours=24)


def test_410_dead_letters_and_disables_the_subscription(
    session, session_factory, settings, receiver, clock
):
    sub = _subscribe(session, receiver)
    _emit(session)
    _emit(session)
    receiver.fail(410)

    report = _run(session_factory, settings, clock)

    assert report.disabled_subscriptions == [sub.id]
    assert (report.dead, report.released) == (1, 1)
    assert len(receiver.received) == 1  # the second one was not sent after the 410
    first, second = _rows(session)
    assert (first.status, first.last_status_code) == ("dead", 410)
    assert first.last_error == "HTTP 410 Gone: subscription disabled"
    assert (second.status, second.attempts) == ("pending", 0)
    assert session.get(WebhookSubscription, sub.id).enabled is False
    assert _run(session_factory, settings, clock).claimed == 0  # disabled: waits

    service.update_subscription(session, sub.id, WebhookSubscriptionUpdate(enabled=True))
    session.commit()
    assert _run(session_factory, settings, clock).delivered == 1


def test_retry_after_pushes_the_next_attempt_later_never_sooner(
    session, session_factory, settings, receiver, clock
):
    _subscribe(session, receiver)
    _emit(session)
    _emit(session)
    receiver.fail(503, headers={"Retry-After": "1200"})
    receiver.fail(429, headers={"Retry-After": "1"})

    assert _run(session_factory, settings, clock).retrying == 2

    later, sooner = _rows(session)
    assert (later.last_status_code, later.next_attempt_at) == (
        503,
        clock.now + timedelta(minutes=20),
    )
    assert (sooner.last_status_code, sooner.next_attempt_at) == (
        429,
        clock.now + timedelta(seconds=5),
    )


def test_a_claim_is_never_taken_twice(session, clock):
    service.create_subscription(
        session, WebhookSubscriptionCreate(url="https://crm.example/hook", event_types=["*"])
    )
    outbox.emit(session, "task.opened", {"task_id": 1})
    stale = repository.due_deliveries(session, clock.now, 10)  # runner B's read
    (mine,) = delivery.claim_due(session, clock.now, 10)  # runner A claims first

    assert mine.attempts == 1
    # Runner B's compare-and-set on what it read loses; a fresh look finds nothing due.
    assert not repository.claim(
        session,
        stale[0].id,
        expected_status=stale[0].status,
        expected_attempts=stale[0].attempts,
        lease_until=clock.now + delivery.CLAIM_LEASE,
    )
    assert delivery.claim_due(session, clock.now, 10) == []
    (row,) = _rows(session)
    assert (row.status, row.attempts) == ("sending", 1)


def test_a_crashed_claim_is_due_again_after_its_lease(
    session, session_factory, settings, receiver, clock
):
    _subscribe(session, receiver)
    event = _emit(session)
    delivery.claim_due(session, clock.now, 10)  # a runner claims, then dies
    session.commit()

    clock.advance(minutes=9)
    assert _run(session_factory, settings, clock).claimed == 0
    clock.advance(minutes=1)
    assert _run(session_factory, settings, clock).delivered == 1
    (row,) = _rows(session)
    assert (row.status, row.attempts) == ("delivered", 2)
    assert receiver.ids() == [event.event_id]


def test_a_late_outcome_does_not_overwrite_a_taken_over_claim(session, clock):
    service.create_subscription(
        session, WebhookSubscriptionCreate(url="https://crm.example/hook", event_types=["*"])
    )
    outbox.emit(session, "task.opened", {"task_id": 1})
    (old,) = delivery.claim_due(session, clock.now, 10)
    (new,) = delivery.claim_due(session, clock.now + delivery.CLAIM_LEASE, 10)

    assert delivery.record(session, old, delivery.Outcome(200), clock.now) == "lost"
    assert delivery.record(session, new, delivery.Outcome(200), clock.now) == "delivered"
    (row,) = _rows(session)
    assert (row.status, row.attempts) == ("delivered", 2)


def test_run_cap_hands_back_unsent_claims(session, session_factory, settings, receiver, clock):
    # The first request alone (1 s timeout) outlasts the 0.5 s cap; claiming takes far less.
    fast = settings.model_copy(update={"webhook_timeout_seconds": 1.0})
    _subscribe(session, receiver)
    for _ in range(3):
        _emit(session)
    receiver.hang(times=1, seconds=5)

    report = _run(session_factory, fast, clock, max_seconds=0.5)

    assert (report.claimed, report.retrying, report.released) == (3, 1, 2)
    rows = _rows(session)
    assert [(r.status, r.attempts) for r in rows] == [
        ("pending", 1),
        ("pending", 0),
        ("pending", 0),
    ]
    assert rows[1].next_attempt_at <= clock.now
    assert len(receiver.received) == 1


def test_connection_refused_is_a_retried_failure(session, session_factory, settings, clock):
    with WebhookReceiver() as rx:
        url = rx.url  # closed below: nothing listens on that port any more
    sub = service.create_subscription(
        session, WebhookSubscriptionCreate(url=url, event_types=["*"])
    )
    _emit(session)

    report = _run(session_factory, settings, clock)

    (row,) = _rows(session)
    assert (report.retrying, row.subscription_id, row.status) == (1, sub.id, "pending")
    assert row.last_error.startswith("ConnectError")


def test_emit_without_subscriptions_stores_the_event_only(session, session_factory, settings):
    event = outbox.emit(session, "task.resolved", {"task_id": 3})
    session.commit()

    assert session.scalars(select(WebhookEvent.event_id)).all() == [event.event_id]
    assert _rows(session) == []
    assert deliver_webhooks(session_factory, settings).claimed == 0


def test_two_concurrent_runners_send_each_delivery_once(committing_factory, settings):
    if committing_factory.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite deployments run one delivery job at a time (max_instances=1)")
    with WebhookReceiver() as rx, committing_factory() as session:
        _subscribe(session, rx)
        ids = [_emit(session, "task.opened", {"n": n}).event_id for n in range(30)]
        # Make every delivery due already, whatever the database clock says.
        session.execute(update(WebhookDelivery).values(next_attempt_at=datetime(2000, 1, 1)))
        session.commit()
        reports = []

        def runner() -> None:
            reports.append(deliver_webhooks(committing_factory, settings, batch_size=5))

        threads = [threading.Thread(target=runner) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)

        assert sorted(rx.ids()) == sorted(ids)  # every id exactly once
        assert sum(r.delivered for r in reports) == 30
        assert [r.status for r in _rows(session)] == ["delivered"] * 30


def test_postgresql_claims_skip_rows_another_runner_has_locked(committing_factory):
    if committing_factory.kw["bind"].dialect.name != "postgresql":
        pytest.skip("FOR UPDATE SKIP LOCKED is PostgreSQL's; SQLite relies on the claim CAS")
    later = utcnow() + timedelta(hours=1)
    with committing_factory() as a, committing_factory() as b:
        service.create_subscription(
            a, WebhookSubscriptionCreate(url="https://crm.example/hook", event_types=["*"])
        )
        outbox.emit(a, "task.opened", {"task_id": 1})
        a.commit()

        assert len(repository.due_deliveries(a, later, 10)) == 1  # locked until a ends
        assert repository.due_deliveries(b, later, 10) == []
        a.rollback()
        assert len(repository.due_deliveries(b, later, 10)) == 1
        b.rollback()


def test_after_a_rotation_both_secrets_sign_until_the_grace_period_ends(
    session, session_factory, settings, receiver, clock
):
    sub = _subscribe(session, receiver)
    old = sub.secret
    rotated = service.rotate_secret(session, sub.id, grace=timedelta(hours=24))
    session.commit()
    assert rotated.previous_secret_expires_at is not None
    assert service.get_subscription(session, sub.id).previous_secret_expires_at is not None

    _emit(session)
    _run(session_factory, settings, clock)  # the CRM still checks the old secret
    receiver.secret = rotated.secret
    _emit(session)
    _run(session_factory, settings, clock)  # ... or already the new one
    assert [r.verified for r in receiver.received] == [True, True]
    assert [len(r.headers["webhook-signature"].split()) for r in receiver.received] == [2, 2]

    clock.advance(hours=25)  # grace over: only the new secret signs
    receiver.secret = old
    _emit(session)
    report = _run(session_factory, settings, clock)
    assert (report.delivered, report.retrying) == (0, 1)
    assert receiver.received[-1].headers["webhook-signature"].count("v1,") == 1
    assert not receiver.received[-1].verified


def test_rotation_without_grace_drops_the_old_secret_at_once(
    session, session_factory, settings, receiver, clock
):
    sub = _subscribe(session, receiver)
    rotated = service.rotate_secret(session, sub.id, grace=timedelta(0))
    session.commit()
    assert rotated.previous_secret_expires_at is None
    _emit(session)
    _run(session_factory, settings, clock)
    assert not receiver.received[0].verified  # the receiver still holds the old secret

    twice = service.rotate_secret(session, sub.id, grace=timedelta(hours=1))
    third = service.rotate_secret(session, sub.id, grace=timedelta(hours=1))
    stored = session.get(WebhookSubscription, sub.id)
    # A second rotation within the grace period keeps only the secret it replaced.
    assert stored.signing_secrets(utcnow()) == [third.secret, twice.secret]
