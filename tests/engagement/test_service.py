from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from collectors import service as collect
from collectors.models import Author, Mention
from core.errors import NotFoundError
from engagement import service
from engagement.models import Customer, CustomerIdentity, ResponseTask, TaskEvent
from sentiment import service as scoring
from sentiment.fake import FakeModel
from tests.conftest import mention

T0 = datetime(2026, 11, 20, 10, 0, 0)
SLA = {1: 30, 2: 60, 3: 240, 4: 1440}


def _run(session, items):
    collect.ingest(session, items)
    scoring.score_all_pending(session, FakeModel())
    return service.engage_pending(session, sla_minutes=SLA)


def _tasks(session):
    return session.scalars(select(ResponseTask).order_by(ResponseTask.id)).all()


def test_negative_mention_opens_a_task_with_sla_and_event(session):
    report = _run(session, [mention("1", "my order is late and broken", author={"id": "9"})])
    assert (report.opened, report.attached) == (1, 0)
    (task,) = _tasks(session)
    assert (task.status, task.reason, task.priority) == ("new", "negative", 2)
    assert task.due_at - task.created_at == timedelta(minutes=60)
    events = session.scalars(select(TaskEvent).where(TaskEvent.task_id == task.id)).all()
    assert [e.type for e in events] == ["opened"]


def test_positive_and_neutral_mentions_open_nothing(session):
    report = _run(session, [mention("1", "I love it"), mention("2", "what time is it")])
    assert report.examined == 2 and report.opened == 0
    assert _tasks(session) == []


def test_one_open_task_per_thread(session):
    report = _run(
        session,
        [
            mention("1", "terrible support", thread_id="1", author={"id": "9"}, created_at=T0),
            mention(
                "2",
                "still broken, awful",
                thread_id="1",
                in_reply_to_id="1",
                author={"id": "9"},
                created_at=T0 + timedelta(hours=1),
            ),
            mention(
                "3",
                "ok what is the order number",
                thread_id="1",
                author={"id": "10"},
                created_at=T0 + timedelta(hours=2),
            ),
        ],
    )
    assert (report.opened, report.attached) == (1, 2)
    (task,) = _tasks(session)
    assert task.last_mention_at == T0 + timedelta(hours=2)
    detail = service.get_task(session, task.id)
    assert [m.external_id for m in detail.mentions] == ["1", "2", "3"]
    assert [e.type for e in detail.events] == ["opened", "mention_added", "mention_added"]


def test_same_author_within_window_joins_the_open_task(session):
    _run(session, [mention("1", "awful service", author={"id": "9"}, created_at=T0)])
    report = _run(
        session,
        [
            mention(
                "2",
                "and the refund is late",
                author={"id": "9"},
                created_at=T0 + timedelta(hours=5),
            )
        ],
    )
    assert (report.opened, report.attached) == (0, 1)
    report = _run(
        session,
        [mention("3", "broken again", author={"id": "9"}, created_at=T0 + timedelta(days=10))],
    )
    assert report.opened == 1
    assert len(_tasks(session)) == 2


def test_brand_replies_never_open_tasks(session):
    report = _run(session, [mention("1", "sorry this is terrible", is_brand=True)])
    assert report.opened == 0


def test_low_star_review_opens_a_task_even_when_text_is_neutral(session):
    report = _run(session, [mention("1", "see title", platform="appstore", rating=1, title="meh")])
    assert report.opened == 1
    (task,) = _tasks(session)
    assert task.reason == "low_rating" and task.priority == 2


def test_reach_raises_priority(session):
    _run(
        session,
        [
            mention("1", "terrible", author={"id": "1", "followers": 50}, thread_id="a"),
            mention("2", "terrible", author={"id": "2", "followers": 20_000}, thread_id="b"),
            mention("3", "terrible", author={"id": "3", "followers": 500_000}, thread_id="c"),
        ],
    )
    assert [t.priority for t in _tasks(session)] == [2, 1, 1]


def test_linked_customer_is_set_on_the_task(session):
    collect.ingest(session, [mention("0", "hi", author={"id": "77"})])
    author = session.scalar(select(Author))
    customer = Customer(crm_id="C-1", name="Ann")
    session.add(customer)
    session.flush()
    session.add(CustomerIdentity(customer_id=customer.id, platform="twitter", author_id=author.id))
    session.flush()
    _run(session, [mention("1", "terrible", author={"id": "77"})])
    (task,) = _tasks(session)
    assert task.customer_id == customer.id


def test_engaging_twice_changes_nothing(session):
    _run(session, [mention("1", "terrible")])
    again = service.engage_pending(session, sla_minutes=SLA)
    assert again.examined == 0
    assert len(_tasks(session)) == 1
    assert session.scalar(select(Mention.engaged_at)) is not None


def test_unknown_task_raises_not_found(session):
    with pytest.raises(NotFoundError):
        service.get_task(session, 999_999)


def test_inbox_order_is_priority_then_due(session):
    _run(
        session,
        [
            mention("1", "terrible", thread_id="a", author={"id": "1"}),
            mention("2", "terrible", thread_id="b", author={"id": "2", "followers": 20_000}),
        ],
    )
    tasks, total = service.list_tasks(session)
    assert total == 2
    assert [t.priority for t in tasks] == [1, 2]
    assert tasks[0].mentions[0].sentiment is not None
    assert tasks[0].mentions[0].sentiment.label == "negative"


def test_task_detail_shows_the_whole_conversation_with_brand_replies(session):
    _run(
        session,
        [
            mention("1", "terrible support", thread_id="1", author={"id": "9"}, created_at=T0),
            mention(
                "2",
                "Sorry to hear that, please DM us",
                thread_id="1",
                in_reply_to_id="1",
                is_brand=True,
                created_at=T0 + timedelta(minutes=5),
            ),
        ],
    )
    (task,) = _tasks(session)
    detail = service.get_task(session, task.id)
    assert [m.external_id for m in detail.mentions] == ["1"]
    assert [(m.external_id, m.is_brand) for m in detail.conversation] == [
        ("1", False),
        ("2", True),
    ]
