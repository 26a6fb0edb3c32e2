"""Engagement: turn scored mentions into response tasks (one open task per conversation), and
move tasks through their lifecycle: assignment, waiting, resolution, reopening, escalation,
notes and the "being answered by" lock. Every change writes a task event; the ones a CRM cares
about also emit a webhook event in the same transaction."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from collectors import repository as mention_repo
from collectors.models import Mention
from collectors.schemas import MentionRead
from core.business_hours import BusinessHours
from core.errors import ConflictError, InvalidError, NotFoundError
from core.timeutil import utcnow
from engagement import agents, repository, rules
from engagement.customers import service as customer_service
from engagement.models import (
    OPEN_STATUSES,
    Agent,
    Customer,
    ResponseTask,
    TaskEvent,
    TaskStatus,
)
from engagement.schemas import (
    NOTE_MAX,
    EngageReport,
    EscalationReport,
    TaskDetail,
    TaskEventRead,
    TaskMentionRead,
    TaskRead,
)
from engagement.webhooks.outbox import emit
from sentiment import repository as sentiment_repo
from sentiment.models import SentimentResult
from sentiment.schemas import SentimentRead

log = logging.getLogger(__name__)

SYSTEM = "system"
NEW = TaskStatus.new.value
ASSIGNED = TaskStatus.assigned.value
WAITING = TaskStatus.waiting.value
RESOLVED = TaskStatus.resolved.value
CLOSED = TaskStatus.closed.value
# The lifecycle. resolved/closed → assigned|new is a reopen (closed only within REOPEN_WINDOW);
# assigned/waiting → new is an unassignment.
TRANSITIONS: dict[str, frozenset[str]] = {
    NEW: frozenset({ASSIGNED, RESOLVED, CLOSED}),
    ASSIGNED: frozenset({NEW, WAITING, RESOLVED}),
    WAITING: frozenset({NEW, ASSIGNED, RESOLVED}),
    RESOLVED: frozenset({CLOSED, ASSIGNED, NEW}),
    CLOSED: frozenset({ASSIGNED, NEW}),
}
REOPEN_WINDOW = timedelta(days=30)
DEFAULT_RESOLUTION_MINUTES = 3 * 24 * 60
LOCK_MINUTES_MAX = 60


# --- engagement: mentions → tasks -----------------------------------------------------------


def engage_mentions(
    session: Session,
    mention_ids: list[int],
    *,
    negative_threshold: float = 0.5,
    thread_window_hours: int = 72,
    sla_minutes: dict[int, int] | None = None,
    resolution_sla_minutes: dict[int, int] | None = None,
    calendar: BusinessHours | None = None,
    now: datetime | None = None,
) -> EngageReport:
    """Open, extend or reopen tasks for the given unengaged mentions, then mark them engaged.

    The enabled rules are read once per call. A mention in the thread of an open task joins
    it; a customer's follow-up reopens a resolved task (unless it is a thank-you) and turns a
    waiting task back to its agent; a follow-up to a task closed within 30 days opens a new
    task that links to it. Otherwise the same author's open task within the window takes a
    mention the rules flag, and only then does a new task open.
    """
    now = now or utcnow()
    mentions = sorted(
        mention_repo.unengaged_mentions(session, mention_ids), key=lambda m: (m.created_at, m.id)
    )
    report = EngageReport(examined=len(mentions))
    if not mentions:
        return report
    # Link new authors to CRM customers first, so the tasks opened below carry customer_id.
    customer_service.resolve_authors(
        session, [m.author_id for m in mentions if m.author_id is not None and not m.is_brand]
    )
    ctx = _Batch(
        session,
        mentions,
        now=now,
        negative_threshold=negative_threshold,
        window=timedelta(hours=thread_window_hours),
        sla=sla_minutes or {},
        resolution_sla=resolution_sla_minutes or {},
        calendar=calendar,
    )
    for mention in mentions:
        if mention.is_brand:
            _note_brand_reply(session, mention, now)
            continue
        ctx.engage(mention, report)
    mention_repo.mark_engaged(session, [m.id for m in mentions])
    return report


def engage_pending(
    session: Session,
    *,
    limit: int = 500,
    negative_threshold: float = 0.5,
    thread_window_hours: int = 72,
    sla_minutes: dict[int, int] | None = None,
    resolution_sla_minutes: dict[int, int] | None = None,
    calendar: BusinessHours | None = None,
) -> EngageReport:
    """Engage up to `limit` scored mentions that have not been engaged yet."""
    ids = sentiment_repo.scored_unengaged_ids(session, limit)
    return engage_mentions(
        session,
        ids,
        negative_threshold=negative_threshold,
        thread_window_hours=thread_window_hours,
        sla_minutes=sla_minutes,
        resolution_sla_minutes=resolution_sla_minutes,
        calendar=calendar,
    )


class _Batch:
    """What one engagement pass loads once: rules, results, customers, brand context."""

    def __init__(
        self,
        session: Session,
        mentions: list[Mention],
        *,
        now: datetime,
        negative_threshold: float,
        window: timedelta,
        sla: dict[int, int],
        resolution_sla: dict[int, int],
        calendar: BusinessHours | None = None,
    ) -> None:
        self.session = session
        self.now = now
        self.window = window
        self.sla = sla
        self.resolution_sla = resolution_sla
        self.calendar = calendar
        self.rules = rules.compile_rules(
            repository.list_rules(session, enabled_only=True),
            negative_threshold=negative_threshold,
        )
        self.results = sentiment_repo.latest_results(session, [m.id for m in mentions])
        self.customers = _customers_for_authors(
            session, [m.author_id for m in mentions if m.author_id is not None]
        )
        # Only the question rule asks whether a mention is addressed to the brand.
        asks = any(r.kind == "question" for r in self.rules)
        self.brand_handles = frozenset(repository.brand_handles(session) if asks else ())
        self.brand_posts = (
            repository.brand_mention_keys(
                session, [(m.platform, m.in_reply_to_id) for m in mentions if m.in_reply_to_id]
            )
            if asks
            else set()
        )

    def engage(self, mention: Mention, report: EngageReport) -> None:
        session = self.session
        result = self.results.get(mention.id)
        customer = self.customers.get(mention.author_id) if mention.author_id else None
        decision = rules.evaluate(
            self.rules,
            rules.Context(
                mention,
                result,
                customer,
                brand_handles=self.brand_handles,
                replies_to_brand=(mention.platform, mention.in_reply_to_id or "")
                in self.brand_posts,
            ),
        )
        key = rules.thread_key(mention)
        positive = result is not None and result.label == "positive"

        task = repository.open_task_for_thread(session, key)
        if task is not None:
            _attach(session, task, mention, decision, self.now)
            report.attached += 1
            if task.status == WAITING and _from_customer(task, mention, customer):
                _customer_replied(session, task, mention, self.now)
            return

        follows: ResponseTask | None = None
        finished = repository.finished_task_for_thread(session, key)
        if finished is not None and _from_customer(finished, mention, customer):
            recent = (finished.closed_at or finished.resolved_at or finished.updated_at) >= (
                self.now - REOPEN_WINDOW
            )
            if finished.status == RESOLVED and recent:
                _attach(session, finished, mention, decision, self.now)
                report.attached += 1
                # A thank-you after the fix is not new work (it still counts for recovery).
                if not positive:
                    _reopen(session, finished, SYSTEM, self.now, mention_id=mention.id)
                    report.reopened += 1
                return
            if finished.status == CLOSED and recent:
                follows = finished

        if decision.opens and mention.author_id is not None:
            task = repository.open_task_for_author(
                session,
                mention.author_id,
                mention.created_at - self.window,
                statuses=(*OPEN_STATUSES, RESOLVED),
            )
            if task is not None:
                _attach(session, task, mention, decision, self.now)
                report.attached += 1
                if task.status == WAITING:
                    _customer_replied(session, task, mention, self.now)
                elif task.status == RESOLVED:
                    _reopen(session, task, SYSTEM, self.now, mention_id=mention.id)
                    report.reopened += 1
                return

        if not decision.opens and follows is not None and not positive:
            decision = rules.Decision(
                True,
                (rules.FOLLOW_UP,),
                rules.adjust_priority(
                    rules.DEFAULT_PRIORITY,
                    rules.Context(mention, result, customer),
                    rules.key_tiers(self.rules),
                ),
            )
        if decision.opens:
            task = self._open(mention, decision, key, customer, result, follows)
            report.opened += 1
            report.opened_task_ids.append(task.id)

    def _open(
        self,
        mention: Mention,
        decision: rules.Decision,
        key: str,
        customer: Customer | None,
        result: SentimentResult | None,
        follows: ResponseTask | None,
    ) -> ResponseTask:
        session, now = self.session, self.now
        task = repository.add_task(
            session,
            ResponseTask(
                thread_key=key,
                customer_id=customer.id if customer is not None else None,
                author_id=mention.author_id,
                status=NEW,
                priority=decision.priority,
                reason=decision.reason,
                category=result.category if result is not None else None,
                due_at=rules.due_at(now, decision.priority, self.sla, calendar=self.calendar),
                resolution_due_at=rules.due_at(
                    now,
                    decision.priority,
                    self.resolution_sla,
                    DEFAULT_RESOLUTION_MINUTES,
                    self.calendar,
                ),
                escalation_level=0,
                last_mention_at=mention.created_at,
                created_at=now,
                updated_at=now,
            ),
        )
        repository.add_task_mention(session, task.id, mention.id)
        data: dict[str, Any] = {
            "reason": decision.reason,
            "mention_id": mention.id,
            "priority": task.priority,
        }
        if follows is not None:
            data["follows_task_id"] = follows.id
        _event(session, task, SYSTEM, "opened", data, now)
        emit(session, "task.opened", task_payload(task))
        if "negative" in decision.reasons:
            emit(session, "complaint.flagged", complaint_payload(task, mention, result))
        return task


def _customers_for_authors(session: Session, author_ids: list[int]) -> dict[int, Customer]:
    links = repository.customer_ids_for_authors(session, author_ids)
    customers = repository.customers_by_id(session, list(links.values()))
    # A merged record speaks for the customer it was merged into.
    targets = repository.customers_by_id(
        session, [c.merged_into_id for c in customers.values() if c.merged_into_id]
    )
    out = {}
    for author_id, customer_id in links.items():
        customer = customers.get(customer_id)
        if customer is not None and customer.merged_into_id in targets:
            customer = targets[customer.merged_into_id]
        if customer is not None:
            out[author_id] = customer
    return out


def _from_customer(task: ResponseTask, mention: Mention, customer: Customer | None) -> bool:
    if mention.author_id is not None and mention.author_id == task.author_id:
        return True
    return customer is not None and task.customer_id == customer.id


def _attach(
    session: Session,
    task: ResponseTask,
    mention: Mention,
    decision: rules.Decision,
    now: datetime,
) -> None:
    repository.add_task_mention(session, task.id, mention.id)
    task.last_mention_at = max(task.last_mention_at, mention.created_at)
    task.updated_at = now
    data: dict[str, Any] = {"mention_id": mention.id}
    if decision.opens and decision.priority < task.priority:
        data["priority"] = {"from": task.priority, "to": decision.priority}
        task.priority = decision.priority
    _event(session, task, SYSTEM, "mention_added", data, now)


def _customer_replied(
    session: Session, task: ResponseTask, mention: Mention, now: datetime
) -> None:
    _move(
        session,
        task,
        ASSIGNED if task.assignee else NEW,
        SYSTEM,
        "customer_replied",
        now,
        mention_id=mention.id,
    )


def _note_brand_reply(session: Session, mention: Mention, now: datetime) -> None:
    """A brand post in the thread of an open task, after the customer wrote, answers it."""
    task = repository.open_task_for_thread(session, rules.thread_key(mention))
    if task is None or task.first_response_at is not None:
        return
    first = repository.first_mention_at(session, task.id)
    if first is not None and mention.created_at >= first:
        record_first_response(session, task, mention.created_at, SYSTEM, mention_id=mention.id)


# --- lifecycle --------------------------------------------------------------------------------


def assign(
    session: Session,
    task_id: int,
    agent_name: str | None,
    actor: str,
    *,
    now: datetime | None = None,
) -> ResponseTask:
    """Assign a new, assigned or waiting task to an agent by name (None: round-robin)."""
    if agent_name is None:
        return assign_round_robin(session, task_id, actor, now=now)
    now = now or utcnow()
    task = _load(session, task_id)
    _check_assignable(task)
    agent = agents.get_agent_by_name(session, agent_name)
    if not agent.active:
        raise ConflictError(f"agent {agent.name!r} is deactivated")
    return _assign(session, task, agent.name, actor, now, method="manual", agent=agent)


def assign_round_robin(
    session: Session, task_id: int, actor: str, *, now: datetime | None = None
) -> ResponseTask:
    """Assign a task to the available agent who was assigned a task longest ago."""
    now = now or utcnow()
    task = _load(session, task_id)
    _check_assignable(task)
    agent = agents.next_agent(session)
    return _assign(session, task, agent.name, actor, now, method="round_robin", agent=agent)


def unassign(
    session: Session, task_id: int, actor: str, *, now: datetime | None = None
) -> ResponseTask:
    """Put an assigned or waiting task back in the queue (status new, no assignee)."""
    now = now or utcnow()
    task = _load(session, task_id)
    previous = task.assignee
    _move(session, task, NEW, actor, "unassigned", now, previous_assignee=previous)
    task.assignee = None
    return task


def set_waiting(
    session: Session, task_id: int, actor: str, *, now: datetime | None = None
) -> ResponseTask:
    """Mark an assigned task as waiting on the customer."""
    now = now or utcnow()
    task = _load(session, task_id)
    _move(session, task, WAITING, actor, "waiting", now)
    return task


def resume(
    session: Session, task_id: int, actor: str, *, now: datetime | None = None
) -> ResponseTask:
    """Take a waiting task back to its assignee without waiting for the customer."""
    now = now or utcnow()
    task = _load(session, task_id)
    if task.status != WAITING:
        raise ConflictError(
            f"task {task_id}: cannot go from {task.status} to assigned: only a waiting task resumes"
        )
    if not task.assignee:
        raise ConflictError(f"task {task_id} has no assignee: assign it instead")
    _move(session, task, ASSIGNED, actor, "resumed", now)
    return task


def resolve(
    session: Session, task_id: int, actor: str, *, now: datetime | None = None
) -> ResponseTask:
    """Mark a task resolved; the customer writing again reopens it."""
    now = now or utcnow()
    task = _load(session, task_id)
    _move(session, task, RESOLVED, actor, "resolved", now)
    task.resolved_at = now
    task.locked_by, task.locked_until = None, None
    emit(session, "task.resolved", {**task_payload(task), "actor": actor})
    return task


def close(
    session: Session, task_id: int, actor: str, *, now: datetime | None = None
) -> ResponseTask:
    """Close a new (no action needed) or resolved task; it is no longer reopened by replies."""
    now = now or utcnow()
    task = _load(session, task_id)
    _move(session, task, CLOSED, actor, "closed", now)
    task.closed_at = now
    task.locked_by, task.locked_until = None, None
    emit(session, "task.closed", {**task_payload(task), "actor": actor})
    return task


def reopen(
    session: Session,
    task_id: int,
    actor: str,
    *,
    unassigned: bool = False,
    now: datetime | None = None,
) -> ResponseTask:
    """Reopen a resolved task, or a task closed less than 30 days ago (to its assignee)."""
    now = now or utcnow()
    task = _load(session, task_id)
    if task.status not in (RESOLVED, CLOSED):
        raise ConflictError(
            f"task {task_id} is {task.status}: only resolved or closed tasks can be reopened"
        )
    if unassigned:
        task.assignee = None
    _reopen(session, task, actor, now)
    return task


def change_status(
    session: Session,
    task_id: int,
    status: str,
    actor: str,
    *,
    now: datetime | None = None,
) -> ResponseTask:
    """Move a task to `status` through the matching lifecycle action."""
    task = _load(session, task_id)
    current = task.status
    if status == current:
        raise ConflictError(f"task {task_id} is already {current}")
    if status == WAITING:
        return set_waiting(session, task_id, actor, now=now)
    if status == RESOLVED:
        return resolve(session, task_id, actor, now=now)
    if status == CLOSED:
        return close(session, task_id, actor, now=now)
    if status == NEW:
        if current in (RESOLVED, CLOSED):
            return reopen(session, task_id, actor, unassigned=True, now=now)
        return unassign(session, task_id, actor, now=now)
    if status == ASSIGNED:
        if not task.assignee:
            raise ConflictError(
                f"task {task_id}: cannot go from {current} to assigned without an assignee; "
                "assign an agent instead"
            )
        if current in (RESOLVED, CLOSED):
            return reopen(session, task_id, actor, now=now)
        return resume(session, task_id, actor, now=now)
    raise InvalidError(f"unknown task status {status!r}")


def record_first_response(
    session: Session,
    task: ResponseTask,
    at: datetime,
    actor: str,
    *,
    mention_id: int | None = None,
) -> bool:
    """Note the first answer to a task (stops the first-response SLA); False if already set."""
    if task.first_response_at is not None:
        return False
    task.first_response_at = at
    data: dict[str, Any] = {"at": at.isoformat()}
    if mention_id is not None:
        data["mention_id"] = mention_id
    _event(session, task, actor, "first_response", data, utcnow())
    return True


def add_note(
    session: Session, task_id: int, author: str, body: str, *, now: datetime | None = None
) -> TaskEvent:
    """Add an internal note (never sent to the customer) to a task's audit trail."""
    if not body.strip():
        raise InvalidError("note is empty")
    if len(body) > NOTE_MAX:
        raise InvalidError(f"note is longer than {NOTE_MAX} characters")
    task = _load(session, task_id, for_update=False)
    event = _event(session, task, author, "note", {"body": body}, now or utcnow())
    session.flush()
    return event


def lock(
    session: Session,
    task_id: int,
    agent: str,
    minutes: int = 5,
    *,
    now: datetime | None = None,
) -> ResponseTask:
    """Show "being answered by `agent`" for a few minutes; the same agent renews it."""
    now = now or utcnow()
    if not 1 <= minutes <= LOCK_MINUTES_MAX:
        raise InvalidError(f"lock minutes must be between 1 and {LOCK_MINUTES_MAX}")
    task = _load(session, task_id)
    if task.status not in OPEN_STATUSES:
        raise ConflictError(f"task {task_id} is {task.status}: there is nothing to answer")
    renewing = lock_holder(task, now) == agent
    until = now + timedelta(minutes=minutes)
    if not repository.try_lock_task(session, task_id, agent, until, now):
        raise ConflictError(_locked_message(task))
    if not renewing:
        _event(session, task, agent, "locked", {"agent": agent, "until": until.isoformat()}, now)
    return task


def unlock(
    session: Session,
    task_id: int,
    agent: str,
    *,
    force: bool = False,
    now: datetime | None = None,
) -> ResponseTask:
    """Release the lock; another agent's valid lock needs `force` (a supervisor override)."""
    now = now or utcnow()
    task = _load(session, task_id)
    holder = lock_holder(task, now)
    if holder is not None and holder != agent and not force:
        raise ConflictError(_locked_message(task))
    task.locked_by, task.locked_until = None, None
    if holder is not None:
        _event(session, task, agent, "unlocked", {"agent": holder, "forced": holder != agent}, now)
    return task


def lock_holder(task: ResponseTask, now: datetime | None = None) -> str | None:
    """Who holds a still-valid lock on the task, if anyone."""
    now = now or utcnow()
    if task.locked_by and task.locked_until is not None and task.locked_until > now:
        return task.locked_by
    return None


def check_lock(task: ResponseTask, agent: str, *, now: datetime | None = None) -> None:
    """Raise ConflictError when another agent is answering the task (call before replying)."""
    holder = lock_holder(task, now)
    if holder is not None and holder != agent:
        raise ConflictError(_locked_message(task))


def escalate_batch(
    session: Session, *, now: datetime | None = None, after_id: int = 0, limit: int = 200
) -> tuple[EscalationReport, int | None]:
    """Escalate up to `limit` tasks with an unescalated SLA breach; return the last id seen.

    Each breach (first response, resolution) escalates once: priority up one level (to at
    most 1), escalation level + 1, an "escalated" event and a task.escalated webhook.
    """
    now = now or utcnow()
    report = EscalationReport()
    tasks = repository.breached_tasks(session, now, after_id, limit)
    for task in tasks:
        escalated = False
        for breach in breaches(task, now):
            _escalate(session, task, breach, now)
            escalated = True
            if breach == "first_response":
                report.first_response += 1
            else:
                report.resolution += 1
        if escalated:
            report.escalated += 1
            report.task_ids.append(task.id)
    return report, (tasks[-1].id if tasks else None)


def breaches(task: ResponseTask, now: datetime) -> list[str]:
    """The task's SLA breaches that have not been escalated yet."""
    out: list[str] = []
    if task.status not in OPEN_STATUSES:
        return out
    done = task.escalated_at
    if (
        task.due_at is not None
        and task.due_at < now
        and task.first_response_at is None
        and (done is None or done < task.due_at)
    ):
        out.append("first_response")
    if (
        task.status in (NEW, ASSIGNED)
        and task.resolution_due_at is not None
        and task.resolution_due_at < now
        and (done is None or done < task.resolution_due_at)
    ):
        out.append("resolution")
    return out


def _escalate(session: Session, task: ResponseTask, breach: str, now: datetime) -> None:
    before = task.priority
    task.priority = max(rules.MIN_PRIORITY, before - 1)
    task.escalation_level = (task.escalation_level or 0) + 1
    task.escalated_at = now
    task.updated_at = now
    data = {
        "breach": breach,
        "level": task.escalation_level,
        "priority": {"from": before, "to": task.priority},
    }
    _event(session, task, SYSTEM, "escalated", data, now)
    emit(session, "task.escalated", {**task_payload(task), "breach": breach})


def _load(session: Session, task_id: int, *, for_update: bool = True) -> ResponseTask:
    task = repository.get_task(session, task_id, for_update=for_update)
    if task is None:
        raise NotFoundError(f"task {task_id} not found")
    return task


def _check_assignable(task: ResponseTask) -> None:
    if task.status not in (NEW, ASSIGNED, WAITING):
        raise ConflictError(
            f"task {task.id}: cannot go from {task.status} to assigned by assignment; "
            "reopen it first"
        )


def _assign(
    session: Session,
    task: ResponseTask,
    name: str,
    actor: str,
    now: datetime,
    *,
    method: str,
    agent: Agent,
) -> ResponseTask:
    agent.last_assigned_at = now
    if task.status == ASSIGNED and task.assignee == name:
        return task
    before, previous = task.status, task.assignee
    if before != ASSIGNED:
        _check_transition(task, ASSIGNED)
    task.status = ASSIGNED
    task.assignee = name
    task.updated_at = now
    data = {
        "from": before,
        "to": ASSIGNED,
        "assignee": name,
        "previous_assignee": previous,
        "method": method,
    }
    _event(session, task, actor, "assigned", data, now)
    emit(session, "task.assigned", {**task_payload(task), "actor": actor})
    return task


def _reopen(
    session: Session,
    task: ResponseTask,
    actor: str,
    now: datetime,
    *,
    mention_id: int | None = None,
) -> None:
    if task.status == CLOSED and (task.closed_at is None or task.closed_at < now - REOPEN_WINDOW):
        raise ConflictError(
            f"task {task.id}: cannot go from closed to open: it was closed more than "
            f"{REOPEN_WINDOW.days} days ago"
        )
    if task.assignee:
        agent = repository.agent_by_name(session, task.assignee)
        if agent is not None and not agent.active:
            task.assignee = None
    extra: dict[str, Any] = {"mention_id": mention_id} if mention_id is not None else {}
    _move(session, task, ASSIGNED if task.assignee else NEW, actor, "reopened", now, **extra)
    task.resolved_at = None
    task.closed_at = None
    emit(session, "task.reopened", {**task_payload(task), "actor": actor, **extra})


def _check_transition(task: ResponseTask, to: str) -> None:
    if to not in TRANSITIONS.get(task.status, frozenset()):
        raise ConflictError(f"task {task.id}: cannot go from {task.status} to {to}")


def _move(
    session: Session,
    task: ResponseTask,
    to: str,
    actor: str,
    event_type: str,
    now: datetime,
    **data: Any,
) -> TaskEvent:
    _check_transition(task, to)
    before = task.status
    task.status = to
    task.updated_at = now
    return _event(session, task, actor, event_type, {"from": before, "to": to, **data}, now)


def _event(
    session: Session,
    task: ResponseTask,
    actor: str,
    event_type: str,
    data: dict[str, Any],
    now: datetime,
) -> TaskEvent:
    event = TaskEvent(task_id=task.id, actor=actor, type=event_type, data=data, created_at=now)
    repository.add_event(session, event)
    return event


def _locked_message(task: ResponseTask) -> str:
    until = f"{task.locked_until:%H:%M}" if task.locked_until else "?"
    return f"task {task.id} is being answered by {task.locked_by} until {until} UTC"


# --- webhook payloads -------------------------------------------------------------------------


def task_payload(task: ResponseTask) -> dict[str, Any]:
    """The task as webhook events carry it."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "task_id": task.id,
        "status": task.status,
        "priority": task.priority,
        "reason": task.reason,
        "category": task.category,
        "assignee": task.assignee,
        "customer_id": task.customer_id,
        "author_id": task.author_id,
        "thread_key": task.thread_key,
        "escalation_level": task.escalation_level or 0,
        "due_at": iso(task.due_at),
        "resolution_due_at": iso(task.resolution_due_at),
        "created_at": iso(task.created_at),
    }


def complaint_payload(
    task: ResponseTask, mention: Mention, result: SentimentResult | None
) -> dict[str, Any]:
    """A flagged complaint: the mention, its author, its sentiment, the customer and task."""
    author = mention.author
    return {
        "task_id": task.id,
        "customer_id": task.customer_id,
        "mention": {
            "id": mention.id,
            "platform": mention.platform,
            "external_id": mention.external_id,
            "kind": mention.kind,
            "url": mention.url,
            "text": mention.text[:2000],
            "rating": mention.rating,
            "created_at": mention.created_at.isoformat(),
        },
        "author": None
        if author is None
        else {
            "id": author.id,
            "handle": author.handle,
            "display_name": author.display_name,
            "followers": author.followers,
        },
        "sentiment": None
        if result is None
        else {
            "label": result.label,
            "p_negative": result.p_negative,
            "wom_score": result.wom_score,
            "category": result.category,
        },
    }


# --- reads ------------------------------------------------------------------------------------


def _mention_reads(session: Session, mentions: list[Mention]) -> list[TaskMentionRead]:
    results = sentiment_repo.latest_results(session, [m.id for m in mentions])
    out = []
    for mention in mentions:
        item = TaskMentionRead.model_validate(MentionRead.model_validate(mention).model_dump())
        result = results.get(mention.id)
        item.sentiment = SentimentRead.model_validate(result) if result else None
        out.append(item)
    return out


def _task_reads(
    session: Session, tasks: list[ResponseTask], now: datetime | None = None
) -> list[TaskRead]:
    by_task = repository.task_mentions(session, [t.id for t in tasks])
    mentions = _mention_reads(session, [tm.mention for tms in by_task.values() for tm in tms])
    by_id = {m.id: m for m in mentions}
    now = now or utcnow()
    out = []
    for task in tasks:
        read = TaskRead.model_validate(task)
        read.overdue = bool(
            task.due_at and task.first_response_at is None and task.due_at < now
        ) and task.status in (NEW, ASSIGNED)
        if lock_holder(task, now) is None:
            read.locked_by, read.locked_until = None, None
        read.mentions = [by_id[tm.mention_id] for tm in by_task.get(task.id, [])]
        out.append(read)
    return out


def task_read(session: Session, task: ResponseTask, now: datetime | None = None) -> TaskRead:
    """One task as the inbox shows it."""
    return _task_reads(session, [task], now)[0]


def list_tasks(
    session: Session,
    *,
    status: str | None = "open",
    assignee: str | None = None,
    priority: int | None = None,
    overdue: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[TaskRead], int]:
    """A page of tasks in inbox order, with their mentions and sentiment."""
    now = utcnow()
    tasks, total = repository.list_tasks(
        session,
        status=status,
        assignee=assignee,
        priority=priority,
        overdue=overdue,
        now=now,
        limit=limit,
        offset=offset,
    )
    return _task_reads(session, tasks, now), total


def get_task(session: Session, task_id: int) -> TaskDetail:
    """One task with its conversation and audit trail."""
    task = repository.get_task(session, task_id)
    if task is None:
        raise NotFoundError(f"task {task_id} not found")
    read = _task_reads(session, [task])[0]
    detail = TaskDetail.model_validate(read.model_dump())
    threads = {m.thread_id for m in read.mentions if m.thread_id}
    platform = read.mentions[0].platform if read.mentions else ""
    in_thread = mention_repo.thread_mentions(session, platform, sorted(threads))
    task_ids = {m.id for m in read.mentions}
    extra = [m for m in in_thread if m.id not in task_ids]
    detail.conversation = sorted(
        read.mentions + _mention_reads(session, extra), key=lambda m: (m.created_at, m.id)
    )
    detail.events = [
        TaskEventRead.model_validate(e) for e in repository.task_events(session, task_id)
    ]
    return detail


def status_counts(session: Session) -> dict[str, int]:
    """Tasks per status, for the inbox header."""
    return repository.status_counts(session)
