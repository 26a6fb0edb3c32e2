"""Job `outbox:webhooks`: send due webhook deliveries, one committed step at a time."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import datetime

import httpx
from sqlalchemy.orm import Session, sessionmaker

from core.db import unit_of_work
from core.settings import Settings
from core.timeutil import utcnow
from engagement.webhooks import delivery
from engagement.webhooks.schemas import DeliveryReport

log = logging.getLogger(__name__)

JOB_ID = "outbox:webhooks"
BATCH_SIZE = 50
MAX_BATCHES = 20
# A run stops claiming and hands back what it has not sent once it has run this long, so a
# slow endpoint delays the next run instead of holding the scheduler thread (see CLAIM_LEASE).
MAX_RUN_SECONDS = 120.0


def deliver_webhooks(
    session_factory: sessionmaker[Session],
    settings: Settings,
    client: httpx.Client | None = None,
    *,
    now: Callable[[], datetime] = utcnow,
    batch_size: int = BATCH_SIZE,
    max_batches: int = MAX_BATCHES,
    max_seconds: float = MAX_RUN_SECONDS,
    rng: Callable[[], float] = random.random,
) -> DeliveryReport:
    """Job `outbox:webhooks`: claim due deliveries in batches and POST each one.

    An endpoint that times out or refuses a connection is not called again in this run: its
    other claimed deliveries fail this attempt without a request, and later batches leave it
    out, so one dead receiver costs at most one timeout per run and never blocks the others.
    """
    report = DeliveryReport()
    http = client or delivery.build_client(
        settings.webhook_timeout_seconds, networks=settings.webhook_networks()
    )
    deadline = time.monotonic() + max_seconds
    unreachable: dict[int, str] = {}
    gone: set[int] = set()
    try:
        for _ in range(max_batches):
            if time.monotonic() >= deadline:
                break
            with unit_of_work(session_factory) as session:
                batch = delivery.claim_due(session, now(), batch_size, unreachable.keys())
            if not batch:
                break
            report.claimed += len(batch)
            for index, item in enumerate(batch):
                if time.monotonic() >= deadline:
                    _release(session_factory, batch[index:], report)
                    break
                if item.subscription_id in gone:
                    # Answered 410 a moment ago: it waits, unsent, for the endpoint's re-enabling.
                    _release(session_factory, [item], report)
                    continue
                if item.subscription_id in unreachable:
                    reason = unreachable[item.subscription_id]
                    outcome = delivery.Outcome(
                        None, delivery.bounded(f"not sent: endpoint failed in this run: {reason}")
                    )
                    report.skipped += 1
                else:
                    outcome = delivery.send(http, item, settings.webhook_timeout_seconds)
                    if outcome.transport_failure:
                        unreachable[item.subscription_id] = outcome.error or "no response"
                with unit_of_work(session_factory) as session:
                    result = delivery.record(session, item, outcome, now(), rng)
                if result == "gone":
                    gone.add(item.subscription_id)
                _count(report, result, item.subscription_id)
    finally:
        if client is None:
            http.close()
    if report.claimed:
        log.info("webhook deliveries", extra=report.model_dump())
    return report


def _release(
    session_factory: sessionmaker[Session], items: list[delivery.Claimed], report: DeliveryReport
) -> None:
    with unit_of_work(session_factory) as session:
        for item in items:
            if delivery.release(session, item):
                report.released += 1


def _count(report: DeliveryReport, result: str, subscription_id: int) -> None:
    if result == "delivered":
        report.delivered += 1
    elif result == "retrying":
        report.retrying += 1
    elif result in ("dead", "gone"):
        report.dead += 1
        if result == "gone":
            report.disabled_subscriptions.append(subscription_id)
