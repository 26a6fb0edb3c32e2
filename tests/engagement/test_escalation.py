"""SLA escalation: once per breach, priority up, events and webhooks, batched job."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from collectors import service as collect
from collectors.models import Mention
from core.db import unit_of_work
from engagement import rules, service
from engagement.jobs import ESCALATE_JOB_ID, escalate_overdue
from engagement.models import ResponseTask, TaskEvent, WebhookEvent
from sentiment import service as scoring
from sentiment.fake import FakeModel
from tests.conftest import mention

OPENED = datetime(2026, 11, 27, 9, 0, 0)
DUE = OPENED + timedelta(minutes=60)
RESOLUTION_DUE = OPENED + timedelta(hours=8)


def _task(session, status="new", priority=2, **kw):
    data = {
        "thread_key": f"twitter:thread:{kw.pop('key', 'a')}",
        "status": status,
        "priority": priority,
        "reason": "negative",
        "assignee": "ann" if status in ("assigned", "waiting") else None,
        "due_at": DUE,
        "resolution_due_at": RESOLUTION_DUE,
        "last_mention_at": OPENED,
        "created_at": OPENED,
        "updated_at": OPENED,
    }
    data.update(kw)
    task = ResponseTask(**data)
    session.add(task)
    session.flush()
    return task


def _escalated_events(session, task_id):
    stmt = (
        select(TaskEvent)
        .where(TaskEvent.task_id == task_id, TaskEvent.type == "escalated")
        .order_by(TaskEvent.id)
    )
    return session.scalars(stmt).all()


def _hooks(session):
    return session.scalars(
        select(WebhookEvent).where(WebhookEvent.type == "task.escalated").order_by(WebhookEvent.id)
    ).all()


def test_nothing_escalates_before_the_deadline(session):
    _task(session)
    report, _ = service.escalate_batch(session, now=DUE - timedelta(seconds=1))
    assert report.escalated == 0


def test_first_response_breach_escalates_once(session):
    task = _task(session)
    now = DUE + timedelta(minutes=1)
    report, _ = service.escalate_batch(session, now=now)
    assert (report.escalated, report.first_response, report.task_ids) == (1, 1, [task.id])
    assert (task.priority, task.escalation_level, task.escalated_at) == (1, 1, now)
    (event,) = _escalated_events(session, task.id)
    assert event.actor == "system"
    assert event.data == {"breach": "first_response", "level": 1, "priority": {"from": 2, "to": 1}}
    (hook,) = _hooks(session)
    assert hook.payload["task_id"] == task.id and hook.payload["breach"] == "first_response"
    again, _ = service.escalate_batch(session, now=now + timedelta(minutes=5))
    assert again.escalated == 0
    assert len(_hooks(session)) == 1


def test_resolution_breach_is_a_second_escalation(session):
    task = _task(session)
    service.escalate_batch(session, now=DUE + timedelta(minutes=1))
    report, _ = service.escalate_batch(session, now=RESOLUTION_DUE + timedelta(minutes=1))
    assert (report.escalated, report.resolution) == (1, 1)
    assert (task.priority, task.escalation_level) == (1, 2)  # priority stops at 1
    assert [e.data["breach"] for e in _escalated_events(session, task.id)] == [
        "first_response",
        "resolution",
    ]
    again, _ = service.escalate_batch(session, now=RESOLUTION_DUE + timedelta(hours=5))
    assert again.escalated == 0


def test_both_breaches_found_in_one_run_escalate_twice(session):
    task = _task(session, priority=4)
    report, _ = service.escalate_batch(session, now=RESOLUTION_DUE + timedelta(minutes=1))
    assert (report.escalated, report.first_response, report.resolution) == (1, 1, 1)
    assert (task.priority, task.escalation_level) == (2, 2)


def test_answered_waiting_and_finished_tasks(session):
    answered = _task(session, key="a", first_response_at=OPENED + timedelta(minutes=10))
    waiting = _task(session, "waiting", key="b")
    resolved = _task(session, "resolved", key="c", resolved_at=OPENED)
    report, _ = service.escalate_batch(session, now=RESOLUTION_DUE + timedelta(minutes=1))
    # answered: only the resolution breach; waiting: the resolution clock is paused.
    assert report.task_ids == [answered.id, waiting.id]
    assert [e.data["breach"] for e in _escalated_events(session, answered.id)] == ["resolution"]
    assert [e.data["breach"] for e in _escalated_events(session, waiting.id)] == ["first_response"]
    assert resolved.escalation_level == 0


def test_job_commits_per_batch_and_is_idempotent(session_factory, settings):
    # session_factory's commits are savepoints of the test's transaction: nothing leaks.
    with unit_of_work(session_factory) as session:
        ids = [_task(session, key=str(i)).id for i in range(5)]
    now = DUE + timedelta(minutes=1)
    report = escalate_overdue(session_factory, settings, now=now, batch_size=2)
    assert (report.escalated, sorted(report.task_ids)) == (5, sorted(ids))
    assert escalate_overdue(session_factory, settings, now=now, batch_size=2).escalated == 0
    with unit_of_work(session_factory) as session:
        levels = session.scalars(select(ResponseTask.escalation_level)).all()
        hooks = session.scalar(select(func.count()).where(WebhookEvent.type == "task.escalated"))
    assert levels == [1] * 5 and hooks == 5
    assert ESCALATE_JOB_ID == "sla:escalate"


def test_engaged_tasks_get_both_deadlines(session):
    if not rules.list_rules(session):
        rules.seed_default_rules(session)  # another module's committing test emptied it
    collect.ingest(session, [mention("1", "terrible", author={"id": "9"})])
    scoring.score_all_pending(session, FakeModel())
    service.engage_mentions(
        session,
        list(session.scalars(select(Mention.id))),
        sla_minutes={2: 60},
        resolution_sla_minutes={2: 480},
        now=OPENED,
    )
    task = session.scalar(select(ResponseTask))
    assert (task.due_at, task.resolution_due_at) == (DUE, RESOLUTION_DUE)
