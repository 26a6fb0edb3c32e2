"""Replies through the outbox, and compensations recorded on a task.

A reply is checked against its platform's limits, then stored "pending"; the delivery job
(`engagement.replies.jobs`) claims it ("sending"), posts it outside any transaction, and
records the outcome here. Status: pending → sending → sent | dry_run | failed, pending →
cancelled; "sending" whose lease ran out is claimed again (the process died mid-attempt).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from collectors import repository as mention_repo
from collectors import service as collect
from collectors.models import Mention, MentionKind, Platform
from collectors.schemas import MentionCreate
from core.errors import ConflictError, InvalidError, NotFoundError
from core.timeutil import utcnow
from engagement import repository as task_repo
from engagement import templates
from engagement.models import Compensation, Reply, ResponseTask, TaskEvent
from engagement.replies import limits
from engagement.replies import repository as repo
from engagement.replies.schemas import SentResult
from engagement.service import check_lock
from engagement.webhooks.outbox import emit

log = logging.getLogger(__name__)

SYSTEM = "system"
COMPENSATION_KINDS = ("apology", "refund", "voucher", "replacement", "other")
MAX_AMOUNT = Decimal("999999999999.99")
CENT = Decimal("0.01")
# A "sending" reply not finished within this time was interrupted (the process died).
SENDING_LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class Claim:
    """A reply taken by the delivery job, with the mention it answers."""

    reply: Reply
    mention: Mention
    # True when an earlier attempt was interrupted and may have reached the platform.
    recovering: bool


def _task(session: Session, task_id: int) -> ResponseTask:
    task = task_repo.get_task(session, task_id)
    if task is None:
        raise NotFoundError(f"task {task_id} not found")
    return task


def _event(session: Session, task_id: int | None, actor: str, kind: str, data: Any) -> None:
    if task_id is not None:
        task_repo.add_event(session, TaskEvent(task_id=task_id, actor=actor, type=kind, data=data))


def _target(session: Session, task_id: int | None, mention_id: int | None) -> Mention:
    if task_id is not None:
        _task(session, task_id)
    if mention_id is None:
        if task_id is None:
            raise InvalidError("a reply needs a mention or a task")
        mention = repo.latest_customer_mention(session, task_id)
        if mention is None:
            raise InvalidError(f"task {task_id} has no customer mention to reply to")
        return mention
    found = mention_repo.get_mention(session, mention_id)
    if found is None:
        raise NotFoundError(f"mention {mention_id} not found")
    if task_id is not None and not repo.mention_in_task(session, task_id, mention_id):
        raise InvalidError(f"mention {mention_id} is not part of task {task_id}")
    return found


def create_reply(
    session: Session,
    *,
    task_id: int | None,
    mention_id: int | None,
    body: str | None,
    author: str,
    dry_run: bool = False,
    template_id: int | None = None,
) -> Reply:
    """Check the reply against its platform, then queue it in the outbox (nothing is sent).

    With `template_id` (and no body) the body is the template filled in for the task.
    """
    mention = _target(session, task_id, mention_id)
    if task_id is not None:
        # Two agents must not answer the same customer: respect the "being answered" lock.
        check_lock(_task(session, task_id), author)
    if body is None:
        if template_id is None or task_id is None:
            raise InvalidError("a reply needs a body, or a template and a task")
        body = templates.render_for_task(session, task_id, template_id, agent=author)
    limits.validate_reply(mention.platform, body)
    now = utcnow()
    reply = repo.add_reply(
        session,
        Reply(
            task_id=task_id,
            mention_id=mention.id,
            platform=mention.platform,
            body=body,
            author=author,
            status="pending",
            dry_run=dry_run,
            attempts=0,
            next_attempt_at=now,
            idempotency_key=uuid.uuid4().hex,
            created_at=now,
            updated_at=now,
        ),
    )
    _event(
        session,
        task_id,
        author,
        "reply_queued",
        {
            "reply_id": reply.id,
            "mention_id": mention.id,
            "dry_run": dry_run,
            "template_id": template_id,
        },
    )
    return reply


def list_replies(session: Session, task_id: int) -> list[Reply]:
    """A task's replies, oldest first."""
    _task(session, task_id)
    return repo.replies_for_task(session, task_id)


def get_reply(session: Session, reply_id: int) -> Reply:
    """One reply, or NotFoundError."""
    reply = repo.get_reply(session, reply_id)
    if reply is None:
        raise NotFoundError(f"reply {reply_id} not found")
    return reply


def cancel_reply(session: Session, reply_id: int, actor: str) -> Reply:
    """Cancel a reply that has not been picked up for sending yet."""
    reply = get_reply(session, reply_id)
    if not repo.cancel_pending(session, reply_id, utcnow()):
        session.refresh(reply)
        raise ConflictError(
            f"reply {reply_id} is {reply.status}: only pending replies can be cancelled"
        )
    session.refresh(reply)
    _event(session, reply.task_id, actor, "reply_cancelled", {"reply_id": reply.id})
    return reply


# --- delivery (called by the outbox job, one short transaction each) -------------------------


def claim_due(session: Session, *, limit: int, lease: timedelta) -> list[Claim]:
    """Take up to `limit` due replies for sending: "sending", one more attempt, a lease."""
    now = utcnow()
    claims = []
    for candidate in repo.due_replies(session, now, limit):
        recovering = candidate.status == repo.SENDING
        reply = repo.claim(session, candidate, lease_until=now + lease, now=now)
        if reply is None:
            continue
        mention = mention_repo.get_mention(session, reply.mention_id)
        if mention is None:
            # The mention was deleted (cascade removes the reply too): nothing to answer.
            continue
        if recovering:
            log.warning(
                "reply %s: the last attempt may have been posted; checking before resending",
                reply.id,
            )
        claims.append(Claim(reply, mention, recovering))
    return claims


def _owned(session: Session, reply_id: int, attempt: int) -> Reply | None:
    """The reply if it is still in the attempt this worker claimed."""
    reply = repo.get_reply(session, reply_id)
    if reply is None or reply.status != repo.SENDING or reply.attempts != attempt:
        log.warning(
            "reply %s changed while being sent (attempt %s); outcome dropped", reply_id, attempt
        )
        return None
    return reply


def _payload(reply: Reply, task: ResponseTask | None) -> dict[str, Any]:
    return {
        "reply_id": reply.id,
        "task_id": reply.task_id,
        "customer_id": task.customer_id if task else None,
        "mention_id": reply.mention_id,
        "platform": reply.platform,
        "idempotency_key": reply.idempotency_key,
    }


def record_sent(
    session: Session, reply_id: int, attempt: int, result: SentResult, *, dry_run: bool
) -> Reply | None:
    """Mark the reply sent (or dry_run) and store it as the brand's mention in the thread."""
    reply = _owned(session, reply_id, attempt)
    if reply is None:
        return None
    original = mention_repo.get_mention(session, reply.mention_id)
    now = utcnow()
    if original is not None:
        collect.ingest(
            session,
            [
                MentionCreate(
                    platform=Platform(reply.platform),
                    external_id=result.external_id,
                    text=result.text or reply.body,
                    created_at=result.created_at,
                    kind=MentionKind.reply,
                    url=result.url,
                    # The original starts the thread when it was not part of one yet.
                    thread_id=original.thread_id or original.external_id,
                    in_reply_to_id=original.external_id,
                    author=result.author,
                    is_brand=True,
                )
            ],
        )
        stored = repo.mention_by_external_id(session, reply.platform, result.external_id)
        reply.sent_mention_id = stored.id if stored else None
    reply.status = "dry_run" if dry_run else "sent"
    reply.external_id = result.external_id
    reply.sent_at = now
    reply.next_attempt_at = None
    reply.last_error = None
    reply.updated_at = now
    task = task_repo.get_task(session, reply.task_id) if reply.task_id is not None else None
    if task is not None and task.first_response_at is None:
        task.first_response_at = now
    _event(
        session,
        reply.task_id,
        SYSTEM,
        "reply_sent",
        {
            "reply_id": reply.id,
            "external_id": result.external_id,
            "url": result.url,
            "dry_run": dry_run,
        },
    )
    emit(
        session,
        "reply.sent",
        {
            **_payload(reply, task),
            "external_id": result.external_id,
            "url": result.url,
            "text": result.text or reply.body,
            "dry_run": dry_run,
            "sent_at": now.isoformat() + "Z",
        },
    )
    session.flush()
    return reply


def record_retry(
    session: Session,
    reply_id: int,
    attempt: int,
    *,
    error: str,
    retry_at: datetime,
    uncertain: bool,
) -> Reply | None:
    """Schedule another attempt; an uncertain one stays "sending" so it is checked first."""
    reply = _owned(session, reply_id, attempt)
    if reply is None:
        return None
    # A "sending" row is claimed again once next_attempt_at passes, as a recovery: the
    # sender looks for the reply on the platform before posting it again.
    reply.status = repo.SENDING if uncertain else repo.PENDING
    reply.next_attempt_at = retry_at
    reply.last_error = error[:2000]
    reply.updated_at = utcnow()
    session.flush()
    return reply


def record_failure(session: Session, reply_id: int, attempt: int, *, error: str) -> Reply | None:
    """Give up on the reply, keeping the platform's reason."""
    reply = _owned(session, reply_id, attempt)
    if reply is None:
        return None
    reply.status = "failed"
    reply.next_attempt_at = None
    reply.last_error = error[:2000]
    reply.updated_at = utcnow()
    task = task_repo.get_task(session, reply.task_id) if reply.task_id is not None else None
    _event(
        session,
        reply.task_id,
        SYSTEM,
        "reply_failed",
        {"reply_id": reply.id, "error": reply.last_error, "attempts": reply.attempts},
    )
    emit(
        session,
        "reply.failed",
        {**_payload(reply, task), "error": reply.last_error, "attempts": reply.attempts},
    )
    session.flush()
    return reply


# --- compensations ------------------------------------------------------------------------------


def add_compensation(
    session: Session,
    task_id: int,
    *,
    kind: str,
    amount: Decimal | None,
    currency: str | None,
    note: str | None,
    actor: str,
) -> Compensation:
    """Record what the brand gave the customer on this task."""
    _task(session, task_id)
    if kind not in COMPENSATION_KINDS:
        raise InvalidError(f"kind must be one of {', '.join(COMPENSATION_KINDS)}")
    code = currency.strip().upper() if currency else None
    if amount is not None:
        if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
            raise InvalidError("amount must be between 0 and 999999999999.99")
        if amount != amount.quantize(CENT):
            raise InvalidError("amount has more than 2 decimal places")
        amount = amount.quantize(CENT)
        if code is None:
            raise InvalidError("currency is required with an amount (ISO 4217, e.g. EUR)")
    elif code is not None:
        raise InvalidError("currency given without an amount")
    if code is not None and not (len(code) == 3 and code.isascii() and code.isalpha()):
        raise InvalidError(f"currency {currency!r} is not an ISO 4217 code (3 letters, e.g. EUR)")
    compensation = repo.add_compensation(
        session,
        Compensation(
            task_id=task_id,
            kind=kind,
            amount=amount,
            currency=code,
            note=note,
            created_by=actor,
            created_at=utcnow(),
        ),
    )
    _event(
        session,
        task_id,
        actor,
        "compensation",
        {
            "compensation_id": compensation.id,
            "kind": kind,
            "amount": str(amount) if amount is not None else None,
            "currency": code,
        },
    )
    return compensation


def list_compensations(session: Session, task_id: int) -> list[Compensation]:
    """A task's compensations, oldest first."""
    _task(session, task_id)
    return repo.compensations_for_task(session, task_id)
