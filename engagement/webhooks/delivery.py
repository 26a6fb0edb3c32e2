"""Sending webhook deliveries: claim, sign and POST, record the outcome, schedule the retry.

A delivery is claimed (status "sending", one more attempt, a lease) in a committed transaction
before its request is made, so two runners never send the same claim; a runner that dies
mid-request leaves a claim whose lease runs out, and the delivery is due again. The request is
made outside any transaction and its outcome recorded in another one.

Retry schedule (Standard Webhooks' recommended one, as Svix runs it): immediately, 5 s, 5 min,
30 min, 2 h, 5 h, 10 h, 10 h, each plus up to 10 % jitter: eight attempts over 27 h 35 min,
then the delivery is dead-lettered until someone redelivers it by hand.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.orm import Session

from collectors.http import retry_at_from
from core.timeutil import utcnow
from engagement.models import signing_secrets
from engagement.webhooks import repository, signing
from engagement.webhooks.guard import IPNetwork, guarded_transport

log = logging.getLogger(__name__)

RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS)
JITTER = 0.1
# Longer than any run (see jobs.MAX_RUN_SECONDS): a claim this old belongs to a crashed runner.
CLAIM_LEASE = timedelta(minutes=10)
# A Retry-After may push a retry later than the schedule, never past this.
MAX_RETRY_AFTER = timedelta(hours=24)
MAX_ERROR_CHARS = 500
MAX_PREVIEW_BYTES = 256
USER_AGENT = "social-crm-webhooks/0.1"


@dataclass(frozen=True)
class Claimed:
    """A delivery this runner has claimed, with what it needs to send it."""

    delivery_id: int
    # Attempts including this one (what the claim set).
    attempts: int
    previous_next_attempt_at: datetime
    subscription_id: int
    url: str
    # The current secret first; the previous one too during a rotation's grace period.
    secrets: tuple[str, ...]
    event_id: str
    event_type: str
    body: bytes


@dataclass(frozen=True)
class Outcome:
    """What one request got: a status code, or a transport error (timeout, refused, ...)."""

    status_code: int | None
    error: str | None = None
    # From a 429/503's Retry-After header: how long the receiver asked us to wait.
    retry_after: timedelta | None = None

    @property
    def ok(self) -> bool:
        """2xx: delivered."""
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def transport_failure(self) -> bool:
        """No HTTP answer at all: the endpoint is down or too slow."""
        return self.status_code is None


def event_body(event_type: str, created_at: datetime, payload: dict[str, Any]) -> bytes:
    """The Standard Webhooks payload `{"type", "timestamp", "data"}`, minified; the same bytes
    on every attempt because it is built only from the stored event."""
    document = {"type": event_type, "timestamp": created_at.isoformat() + "Z", "data": payload}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def retry_delay(attempts: int, rng: Callable[[], float] = random.random) -> timedelta | None:
    """How long to wait after `attempts` failed attempts; None once the schedule is spent."""
    if attempts >= MAX_ATTEMPTS:
        return None
    delay = RETRY_DELAYS[attempts]
    return delay + delay * (JITTER * rng())


def claim_due(
    session: Session,
    now: datetime,
    limit: int,
    exclude_subscription_ids: Collection[int] = (),
) -> list[Claimed]:
    """Claim up to `limit` due deliveries; the caller commits before sending any of them."""
    claimed = []
    for row in repository.due_deliveries(session, now, limit, exclude_subscription_ids):
        if repository.claim(
            session,
            row.id,
            expected_status=row.status,
            expected_attempts=row.attempts,
            lease_until=now + CLAIM_LEASE,
        ):
            claimed.append(
                Claimed(
                    delivery_id=row.id,
                    attempts=row.attempts + 1,
                    previous_next_attempt_at=row.next_attempt_at,
                    subscription_id=row.subscription_id,
                    url=row.url,
                    secrets=tuple(
                        signing_secrets(
                            row.secret, row.previous_secret, row.previous_secret_expires_at, now
                        )
                    ),
                    event_id=row.event_id,
                    event_type=row.type,
                    body=event_body(row.type, row.created_at, row.payload),
                )
            )
    return claimed


def build_client(
    timeout: float,
    *,
    networks: Iterable[IPNetwork] = (),
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """A client that follows no redirects (the spec counts a 3xx as a failure), never retries
    on its own and connects only to public addresses or the allowed `networks` (guard.py)."""
    return httpx.Client(
        timeout=timeout,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        transport=transport or guarded_transport(networks),
    )


def post_signed(
    client: httpx.Client,
    url: str,
    secrets: Sequence[str],
    msg_id: str,
    body: bytes,
    timeout: float,
) -> Outcome:
    """POST one signed webhook; never raises for what the endpoint or network does."""
    headers = {"Content-Type": "application/json"}
    try:
        # Signed at send time: the timestamp is this attempt's, the secrets the current ones.
        headers.update(signing.sign_headers(secrets, msg_id, int(time.time()), body))
    except ValueError as exc:
        return Outcome(None, bounded(f"cannot sign: {exc}"))
    deadline = time.monotonic() + timeout
    try:
        with client.stream(
            "POST", url, content=body, headers=headers, timeout=timeout, follow_redirects=False
        ) as response:
            if 200 <= response.status_code < 300:
                return Outcome(response.status_code)
            preview = _preview(response, deadline)
            retry_after = None
            if response.status_code in (429, 503) and response.headers.get("retry-after"):
                base = utcnow()
                retry_after = retry_at_from(response.headers, base) - base
            text = f"HTTP {response.status_code}" + (f": {preview}" if preview else "")
            return Outcome(response.status_code, bounded(text), retry_after)
    except httpx.TimeoutException as exc:
        return Outcome(None, bounded(f"timed out after {timeout:g} s ({type(exc).__name__})"))
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return Outcome(None, bounded(f"{type(exc).__name__}: {exc}"))


def _preview(response: httpx.Response, deadline: float) -> str:
    # A little of the error body helps the CRM team debug; a trickling body must not hold us.
    data = b""
    try:
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) >= MAX_PREVIEW_BYTES or time.monotonic() > deadline:
                break
    except httpx.HTTPError:
        pass
    return " ".join(data[:MAX_PREVIEW_BYTES].decode("utf-8", "replace").split())


def bounded(text: str) -> str:
    """Error text cut to what the delivery row keeps."""
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def send(client: httpx.Client, item: Claimed, timeout: float) -> Outcome:
    """POST a claimed delivery, `webhook-id` being the event's stable id."""
    return post_signed(client, item.url, item.secrets, item.event_id, item.body, timeout)


def record(
    session: Session,
    item: Claimed,
    outcome: Outcome,
    now: datetime,
    rng: Callable[[], float] = random.random,
) -> str:
    """Store an attempt's outcome: "delivered", "retrying", "dead", "gone" (410: the
    subscription is disabled too) or "lost" (the claim had expired and was taken over)."""
    values: dict[str, Any] = {"last_status_code": outcome.status_code}
    if outcome.ok:
        values.update(status="delivered", delivered_at=now, next_attempt_at=now, last_error=None)
        result = "delivered"
    elif outcome.status_code == 410:
        # 410 Gone: the receiver asks us to stop (spec): dead-letter and disable the endpoint.
        values.update(
            status="dead", next_attempt_at=now, last_error="HTTP 410 Gone: subscription disabled"
        )
        result = "gone"
    else:
        values["last_error"] = outcome.error
        delay = retry_delay(item.attempts, rng)
        if delay is None:
            values.update(status="dead", next_attempt_at=now)
            result = "dead"
        else:
            next_at = now + delay
            if outcome.retry_after is not None and now + outcome.retry_after > next_at:
                next_at = now + min(outcome.retry_after, MAX_RETRY_AFTER)
            values.update(status="pending", next_attempt_at=next_at)
            result = "retrying"
    if not repository.finish(session, item.delivery_id, item.attempts, values):
        log.warning(
            "webhook delivery claim expired before its outcome was stored",
            extra={"delivery_id": item.delivery_id, "event_id": item.event_id},
        )
        return "lost"
    if result == "gone":
        repository.disable_subscription(session, item.subscription_id, now)
    return result


def release(session: Session, item: Claimed) -> bool:
    """Hand back a claimed delivery unsent, as it was before the claim (its attempt uncounted)."""
    return repository.finish(
        session,
        item.delivery_id,
        item.attempts,
        {
            "status": "pending",
            "attempts": item.attempts - 1,
            "next_attempt_at": item.previous_next_attempt_at,
        },
    )
