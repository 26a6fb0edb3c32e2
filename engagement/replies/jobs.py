"""Job `outbox:replies`: post queued replies, one short transaction before and after each call.

1. Claim (own transaction, committed): due "pending" replies, and "sending" ones whose
   10-minute lease ran out, become "sending" with one more attempt and a new lease.
2. Post each reply with no transaction open (the platform call can take seconds).
3. Record the outcome (new transaction): sent / dry_run, retry later, or failed.

What a crash leaves behind: before step 1 commits, the reply is still "pending" and the next
run sends it. After step 1, it is "sending"; once the lease runs out it is claimed again as a
*recovery*: the sender first looks on the platform for a reply the interrupted attempt may
have posted (`find_sent`: the brand's answer to the same post, with the same text, made after
the reply was queued) and posts only if there is none. The same check precedes the retry of
an attempt whose outcome is unknown (`DeliveryUncertain`: read timeout, 5xx), so a reply whose
first call never reached the platform is sent exactly once, and one that did is not sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from sqlalchemy.orm import Session, sessionmaker

from collectors.base import AuthFailed, RateLimited, TransientError, backoff_delay
from core.db import unit_of_work
from core.errors import InvalidError
from core.settings import Settings
from core.timeutil import utcnow
from engagement.replies import limits, service
from engagement.replies.schemas import ReplyDeliveryReport, SentResult
from engagement.replies.senders import (
    DeliveryUncertain,
    RedditSender,
    ReplySender,
    SendRejected,
    TwitterSender,
)
from engagement.replies.service import SENDING_LEASE

log = logging.getLogger(__name__)

JOB_ID = "outbox:replies"
BATCH_SIZE = 10
MAX_BATCHES = 20
BACKOFF_BASE_SECONDS = 60.0
BACKOFF_CAP_SECONDS = 3600.0

SenderFactory = Callable[[Settings], ReplySender]
FACTORIES: dict[str, SenderFactory] = {
    "twitter": TwitterSender.from_settings,
    "reddit": RedditSender.from_settings,
}


class _Senders:
    """The senders of one run: the given ones, else built from settings on first use."""

    def __init__(self, settings: Settings, given: Mapping[str, ReplySender] | None) -> None:
        self.settings = settings
        self.given = dict(given or {})
        self.built: dict[str, ReplySender] = {}
        self.broken: dict[str, Exception] = {}

    def get(self, platform: str) -> ReplySender:
        if platform in self.given:
            return self.given[platform]
        if platform in self.built:
            return self.built[platform]
        if platform in self.broken:
            raise self.broken[platform]
        factory = FACTORIES.get(platform)
        if factory is None:
            raise SendRejected(f"no sender for platform {platform!r}")
        try:
            sender = self.built[platform] = factory(self.settings)
        except AuthFailed as exc:
            self.broken[platform] = exc
            raise
        return sender

    def close(self) -> None:
        for sender in self.built.values():
            try:
                sender.close()
            except Exception:
                log.exception("closing the %s sender failed", sender.platform)


def deliver_replies(
    session_factory: sessionmaker[Session],
    settings: Settings,
    senders: Mapping[str, ReplySender] | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    max_batches: int = MAX_BATCHES,
) -> ReplyDeliveryReport:
    """Job `outbox:replies`: send due replies, retrying transient failures with backoff."""
    report = ReplyDeliveryReport()
    pool = _Senders(settings, senders)
    try:
        for _ in range(max_batches):
            with unit_of_work(session_factory) as session:
                claims = service.claim_due(session, limit=batch_size, lease=SENDING_LEASE)
            report.claimed += len(claims)
            for claim in claims:
                try:
                    _deliver(session_factory, settings, pool, claim, report)
                except Exception:
                    # Left "sending": recovered (checked, then sent) once its lease runs out.
                    log.exception("reply %s: recording the outcome failed", claim.reply.id)
            if len(claims) < batch_size:
                break
    finally:
        pool.close()
    if report.claimed:
        log.info(
            "reply outbox run",
            extra=report.model_dump(exclude={"sent_ids", "failed_ids"}),
        )
    return report


def _deliver(
    session_factory: sessionmaker[Session],
    settings: Settings,
    pool: _Senders,
    claim: service.Claim,
    report: ReplyDeliveryReport,
) -> None:
    reply, mention = claim.reply, claim.mention
    attempt = reply.attempts
    dry_run = reply.dry_run or settings.dry_run_replies
    if claim.recovering:
        report.recovered += 1
    # Whether the platform may hold a copy we do not know about.
    uncertain = claim.recovering and not dry_run
    result: SentResult | None = None
    error: Exception | None = None
    try:
        if dry_run:
            result = SentResult(f"dryrun-{reply.id}", None, utcnow(), reply.body)
        else:
            limits.check_answerable(reply.platform)
            sender = pool.get(reply.platform)
            if uncertain:
                result = sender.find_sent(reply, mention)
                if result is not None:
                    report.reconciled += 1
                uncertain = False
            if result is None:
                result = sender.send(reply, mention)
    except DeliveryUncertain as exc:
        error, uncertain = exc, True
    except (RateLimited, TransientError, AuthFailed, SendRejected, InvalidError) as exc:
        error = exc
    except Exception as exc:
        # A bug of ours after the call may hide a posted reply: check before trying again.
        log.exception("reply %s: unexpected error while sending", reply.id)
        error, uncertain = DeliveryUncertain(f"unexpected error: {exc!r}"), True

    with unit_of_work(session_factory) as session:
        if result is not None:
            if service.record_sent(session, reply.id, attempt, result, dry_run=dry_run):
                if dry_run:
                    report.dry_run += 1
                else:
                    report.sent += 1
                report.sent_ids.append(reply.id)
            return
        assert error is not None
        message = str(error) or type(error).__name__
        if isinstance(error, RateLimited):
            # The platform asked us to wait: not a failure of this reply.
            service.record_retry(
                session,
                reply.id,
                attempt,
                error=message,
                retry_at=error.retry_at,
                uncertain=uncertain,
            )
            report.retried += 1
        elif isinstance(error, TransientError) and attempt < settings.reply_max_attempts:
            delay = backoff_delay(attempt, base=BACKOFF_BASE_SECONDS, cap=BACKOFF_CAP_SECONDS)
            service.record_retry(
                session,
                reply.id,
                attempt,
                error=message,
                retry_at=utcnow() + delay,
                uncertain=uncertain,
            )
            report.retried += 1
        else:
            if isinstance(error, TransientError):
                message = f"gave up after {attempt} attempts: {message}"
                if uncertain:
                    message += " (the last attempt may have been posted)"
            service.record_failure(session, reply.id, attempt, error=message)
            report.failed += 1
            report.failed_ids.append(reply.id)
