"""Task lifecycle: transitions, events with actors, assignment and round-robin, lock, notes."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from core.errors import ConflictError, InvalidError, NotFoundError
from engagement import agents, service
from engagement.models import ResponseTask, TaskEvent, WebhookEvent
from engagement.schemas import AgentCreate, AgentUpdate

NOW = datetime(2026, 11, 27, 12, 0, 0)
STATUSES = ("new", "assigned", "waiting", "resolved", "closed")
_keys = itertools.count()


def _task(session, status="new", assignee=None, **kw):
    if status in ("assigned", "waiting") and assignee is None:
        assignee = "ann"
    data = {
        "thread_key": f"twitter:thread:{next(_keys)}",
        "status": status,
        "priority": 3,
        "reason": "negative",
        "assignee": assignee,
        "last_mention_at": NOW,
        "created_at": NOW,
        "updated_at": NOW,
        "resolved_at": NOW if status == "resolved" else None,
        "closed_at": NOW if status == "closed" else None,
    }
    data.update(kw)
    task = ResponseTask(**data)
    session.add(task)
    session.flush()
    return task


def _agent(session, name, available=True):
    return agents.create_agent(session, AgentCreate(name=name, available=available))


def _events(session, task_id):
    stmt = select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)
    return session.scalars(stmt).all()


def _webhooks(session, event_type):
    return session.scalars(select(WebhookEvent).where(WebhookEvent.type == event_type)).all()


# change_status from → to, for a task with an assignee ("ann") unless it is new.
LEGAL = {
    ("new", "resolved"),
    ("new", "closed"),
    ("assigned", "new"),
    ("assigned", "waiting"),
    ("assigned", "resolved"),
    ("waiting", "new"),
    ("waiting", "assigned"),
    ("waiting", "resolved"),
    ("resolved", "new"),
    ("resolved", "assigned"),
    ("resolved", "closed"),
    ("closed", "new"),
    ("closed", "assigned"),
}


@pytest.mark.parametrize(("before", "after"), list(itertools.product(STATUSES, STATUSES)))
def test_transition_table(session, before, after):
    assignee = None if before == "new" else "ann"
    task = _task(session, before, assignee=assignee)
    if (before, after) in LEGAL:
        service.change_status(session, task.id, after, "boss", now=NOW)
        assert task.status == after
        event = _events(session, task.id)[-1]
        assert event.actor == "boss"
        assert (event.data["from"], event.data["to"]) == (before, after)
    else:
        with pytest.raises(ConflictError) as exc:
            service.change_status(session, task.id, after, "boss", now=NOW)
        assert task.status == before
        assert before in str(exc.value) and after in str(exc.value)
        assert _events(session, task.id) == []


def test_the_transitions_table_is_explicit():
    assert service.TRANSITIONS["new"] == {"assigned", "resolved", "closed"}
    assert service.TRANSITIONS["closed"] == {"assigned", "new"}


def test_resolve_and_close_stamp_times_release_the_lock_and_emit(session):
    task = _task(session, "assigned", locked_by="ann", locked_until=NOW + timedelta(minutes=3))
    service.resolve(session, task.id, "ann", now=NOW)
    assert (task.status, task.resolved_at, task.locked_by) == ("resolved", NOW, None)
    later = NOW + timedelta(hours=1)
    service.close(session, task.id, "lead", now=later)
    assert (task.status, task.closed_at) == ("closed", later)
    assert [(e.type, e.actor) for e in _events(session, task.id)] == [
        ("resolved", "ann"),
        ("closed", "lead"),
    ]
    (resolved,) = _webhooks(session, "task.resolved")
    assert resolved.payload["task_id"] == task.id and resolved.payload["actor"] == "ann"
    assert len(_webhooks(session, "task.closed")) == 1


def test_reopen_goes_back_to_the_assignee_or_the_queue(session):
    _agent(session, "ann")
    mine = _task(session, "resolved", assignee="ann")
    service.reopen(session, mine.id, "ann", now=NOW)
    assert (mine.status, mine.resolved_at) == ("assigned", None)
    nobody = _task(session, "closed")
    service.reopen(session, nobody.id, "lead", now=NOW + timedelta(days=29))
    assert (nobody.status, nobody.closed_at) == ("new", None)
    assert len(_webhooks(session, "task.reopened")) == 2
    assert _events(session, mine.id)[-1].data == {"from": "resolved", "to": "assigned"}


def test_reopen_limits(session):
    old = _task(session, "closed")
    with pytest.raises(ConflictError, match="more than 30 days"):
        service.reopen(session, old.id, "lead", now=NOW + timedelta(days=31))
    fresh = _task(session, "new")
    with pytest.raises(ConflictError, match="only resolved or closed"):
        service.reopen(session, fresh.id, "lead", now=NOW)


def test_reopen_drops_a_deactivated_assignee(session):
    ann = _agent(session, "ann")
    agents.deactivate_agent(session, ann.id)
    task = _task(session, "resolved", assignee="ann")
    service.reopen(session, task.id, "lead", now=NOW)
    assert (task.status, task.assignee) == ("new", None)


# --- assignment -----------------------------------------------------------------------------------


def test_manual_assignment_writes_event_and_webhook(session):
    _agent(session, "ann")
    task = _task(session)
    service.assign(session, task.id, "ann", "lead", now=NOW)
    assert (task.status, task.assignee) == ("assigned", "ann")
    (event,) = _events(session, task.id)
    assert (event.type, event.actor) == ("assigned", "lead")
    assert event.data == {
        "from": "new",
        "to": "assigned",
        "assignee": "ann",
        "previous_assignee": None,
        "method": "manual",
    }
    (hook,) = _webhooks(session, "task.assigned")
    assert hook.payload["assignee"] == "ann" and hook.payload["status"] == "assigned"


def test_reassignment_and_waiting_tasks(session):
    _agent(session, "ann")
    _agent(session, "bob")
    task = _task(session, "waiting", assignee="ann")
    service.assign(session, task.id, "bob", "lead", now=NOW)
    assert (task.status, task.assignee) == ("assigned", "bob")
    assert _events(session, task.id)[-1].data["previous_assignee"] == "ann"
    service.assign(session, task.id, "bob", "lead", now=NOW)  # no change, no event
    assert len(_events(session, task.id)) == 1


def test_assignment_errors(session):
    ann = _agent(session, "ann")
    task = _task(session)
    with pytest.raises(NotFoundError, match="agent 'zed' not found"):
        service.assign(session, task.id, "zed", "lead")
    with pytest.raises(NotFoundError, match="task 999999 not found"):
        service.assign(session, 999_999, "ann", "lead")
    agents.update_agent(session, ann.id, AgentUpdate(active=False))
    with pytest.raises(ConflictError, match="deactivated"):
        service.assign(session, task.id, "ann", "lead")
    done = _task(session, "resolved")
    with pytest.raises(ConflictError, match="cannot go from resolved to assigned"):
        service.assign(session, done.id, "ann", "lead")


def test_round_robin_is_fair_over_three_agents(session):
    for name in ("ann", "bob", "cyd"):
        _agent(session, name)
    picked = []
    for i in range(6):
        task = _task(session)
        service.assign(session, task.id, None, "lead", now=NOW + timedelta(seconds=i))
        picked.append(task.assignee)
    assert picked == ["ann", "bob", "cyd", "ann", "bob", "cyd"]
    (event,) = _events(session, task.id)
    assert event.data["method"] == "round_robin"


def test_round_robin_skips_unavailable_and_counts_manual_assignments(session):
    ann, bob, _ = (_agent(session, n) for n in ("ann", "bob", "cyd"))
    agents.update_agent(session, bob.id, AgentUpdate(available=False))
    service.assign(session, _task(session).id, "ann", "lead", now=NOW)
    picked = []
    for i in range(1, 5):
        task = _task(session)
        service.assign_round_robin(session, task.id, "lead", now=NOW + timedelta(seconds=i))
        picked.append(task.assignee)
    assert picked == ["cyd", "ann", "cyd", "ann"]
    agents.deactivate_agent(session, ann.id)
    agents.update_agent(session, bob.id, AgentUpdate(available=True))
    task = _task(session)
    service.assign_round_robin(session, task.id, "lead", now=NOW + timedelta(seconds=9))
    assert task.assignee == "bob"


def test_round_robin_without_available_agents_is_a_conflict(session):
    _agent(session, "ann", available=False)
    task = _task(session)
    with pytest.raises(ConflictError, match="no available agent"):
        service.assign_round_robin(session, task.id, "lead")
    assert task.status == "new"


def test_agent_crud(session):
    ann = _agent(session, "ann")
    with pytest.raises(ConflictError, match="already exists"):
        _agent(session, "ann")
    agents.update_agent(session, ann.id, AgentUpdate(email="ann@example.com"))
    assert [a.name for a in agents.list_agents(session)] == ["ann"]
    agents.deactivate_agent(session, ann.id)
    assert (ann.active, ann.available) == (False, False)
    assert agents.list_agents(session) == []
    assert [a.email for a in agents.list_agents(session, include_inactive=True)] == [
        "ann@example.com"
    ]
    with pytest.raises(NotFoundError):
        agents.update_agent(session, 999_999, AgentUpdate(available=True))


# --- lock -----------------------------------------------------------------------------------------


def test_lock_conflict_renew_and_expiry(session):
    task = _task(session, "assigned")
    service.lock(session, task.id, "ann", 5, now=NOW)
    assert (task.locked_by, task.locked_until) == ("ann", NOW + timedelta(minutes=5))
    with pytest.raises(ConflictError) as exc:
        service.lock(session, task.id, "bob", 5, now=NOW + timedelta(minutes=1))
    assert str(exc.value) == f"task {task.id} is being answered by ann until 12:05 UTC"
    service.lock(session, task.id, "ann", 5, now=NOW + timedelta(minutes=2))
    assert task.locked_until == NOW + timedelta(minutes=7)
    service.lock(session, task.id, "bob", 5, now=NOW + timedelta(minutes=8))
    assert task.locked_by == "bob"
    assert [(e.type, e.actor) for e in _events(session, task.id)] == [
        ("locked", "ann"),
        ("locked", "bob"),
    ]


def test_lock_is_shown_only_while_valid(session):
    task = _task(session, "new")
    service.lock(session, task.id, "ann", 5, now=NOW)
    shown = service.task_read(session, task, now=NOW + timedelta(minutes=4))
    assert (shown.locked_by, shown.locked_until) == ("ann", NOW + timedelta(minutes=5))
    expired = service.task_read(session, task, now=NOW + timedelta(minutes=6))
    assert (expired.locked_by, expired.locked_until) == (None, None)
    assert service.lock_holder(task, NOW + timedelta(minutes=6)) is None


def test_unlock_rules(session):
    task = _task(session, "assigned")
    service.lock(session, task.id, "ann", 5, now=NOW)
    with pytest.raises(ConflictError, match="being answered by ann"):
        service.unlock(session, task.id, "bob", now=NOW)
    with pytest.raises(ConflictError, match="being answered by ann"):
        service.check_lock(task, "bob", now=NOW)
    service.check_lock(task, "ann", now=NOW)
    service.unlock(session, task.id, "bob", force=True, now=NOW)
    assert task.locked_by is None
    assert _events(session, task.id)[-1].data == {"agent": "ann", "forced": True}


def test_lock_needs_an_open_task_and_sane_minutes(session):
    done = _task(session, "resolved")
    with pytest.raises(ConflictError, match="nothing to answer"):
        service.lock(session, done.id, "ann", now=NOW)
    task = _task(session)
    with pytest.raises(InvalidError):
        service.lock(session, task.id, "ann", 0, now=NOW)
    with pytest.raises(NotFoundError):
        service.lock(session, 999_999, "ann", now=NOW)


# --- notes ----------------------------------------------------------------------------------------


def test_notes_are_events_with_their_author(session):
    task = _task(session, "closed")
    event = service.add_note(session, task.id, "ann", "Customer called, refund sent", now=NOW)
    assert event.id is not None
    assert (event.type, event.actor, event.data) == (
        "note",
        "ann",
        {"body": "Customer called, refund sent"},
    )
    detail = service.get_task(session, task.id)
    assert [e.type for e in detail.events] == ["note"]


def test_bad_notes(session):
    task = _task(session)
    with pytest.raises(InvalidError):
        service.add_note(session, task.id, "ann", "   ")
    with pytest.raises(InvalidError):
        service.add_note(session, task.id, "ann", "x" * 5001)
    with pytest.raises(NotFoundError):
        service.add_note(session, 999_999, "ann", "hi")
