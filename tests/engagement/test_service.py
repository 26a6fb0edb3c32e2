from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from collectors import service as collect
from collectors.models import Author, Mention
from core.errors import ConflictError, InvalidError, NotFoundError
from engagement import agents, rules, service, templates
from engagement.models import (
    Customer,
    CustomerIdentity,
    ReplyTemplate,
    ResponseTask,
    TaskEvent,
    WebhookEvent,
)
from engagement.schemas import AgentCreate, ReplyTemplateCreate, ReplyTemplateUpdate
from sentiment import service as scoring
from sentiment.fake import FakeModel
from sentiment.models import SentimentResult
from tests.conftest import mention

T0 = datetime(2026, 11, 20, 10, 0, 0)
SLA = {1: 30, 2: 60, 3: 240, 4: 1440}


@pytest.fixture(autouse=True)
def default_rules(session):
    # Jobs tested with really-committing sessions empty every table, seeded rules included.
    if not rules.list_rules(session):
        rules.seed_default_rules(session)


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


# --- webhooks, reopening and follow-ups ---------------------------------------------------------


def _hooks(session, event_type):
    stmt = select(WebhookEvent).where(WebhookEvent.type == event_type).order_by(WebhookEvent.id)
    return session.scalars(stmt).all()


def _event_types(session, task_id):
    stmt = select(TaskEvent.type).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)
    return list(session.scalars(stmt))


def test_opening_a_complaint_emits_task_opened_and_complaint_flagged(session):
    _run(session, [mention("1", "terrible", author={"id": "9", "handle": "ann", "followers": 5})])
    (task,) = _tasks(session)
    (opened,) = _hooks(session, "task.opened")
    assert opened.payload["task_id"] == task.id
    assert (opened.payload["status"], opened.payload["reason"]) == ("new", "negative")
    (flagged,) = _hooks(session, "complaint.flagged")
    payload = flagged.payload
    assert payload["task_id"] == task.id and payload["customer_id"] is None
    assert payload["mention"]["external_id"] == "1" and payload["mention"]["text"] == "terrible"
    assert payload["author"]["handle"] == "ann" and payload["author"]["followers"] == 5
    assert payload["sentiment"]["label"] == "negative"
    assert payload["sentiment"]["p_negative"] == pytest.approx(0.9)


def test_a_low_star_review_is_not_a_flagged_complaint(session):
    _run(session, [mention("1", "see title", platform="appstore", rating=1)])
    assert len(_hooks(session, "task.opened")) == 1
    assert _hooks(session, "complaint.flagged") == []


def test_customer_follow_up_reopens_a_resolved_task(session):
    _run(session, [mention("1", "terrible", thread_id="t", author={"id": "9"}, created_at=T0)])
    (task,) = _tasks(session)
    agents.create_agent(session, AgentCreate(name="ann"))
    service.assign(session, task.id, "ann", "lead")
    service.resolve(session, task.id, "ann")
    report = _run(
        session,
        [
            mention(
                "2",
                "it broke again",
                thread_id="t",
                author={"id": "9"},
                created_at=T0 + timedelta(days=1),
            )
        ],
    )
    assert (report.opened, report.attached, report.reopened) == (0, 1, 1)
    assert (task.status, task.assignee, task.resolved_at) == ("assigned", "ann", None)
    reopened = session.scalars(
        select(TaskEvent).where(TaskEvent.task_id == task.id, TaskEvent.type == "reopened")
    ).one()
    mention_id = session.scalar(select(Mention.id).where(Mention.external_id == "2"))
    assert reopened.actor == "system"
    assert reopened.data == {"from": "resolved", "to": "assigned", "mention_id": mention_id}
    assert len(_hooks(session, "task.reopened")) == 1


def test_a_thank_you_after_resolution_does_not_reopen(session):
    _run(session, [mention("1", "terrible", thread_id="t", author={"id": "9"}, created_at=T0)])
    (task,) = _tasks(session)
    service.resolve(session, task.id, "ann")
    report = _run(
        session,
        [mention("2", "thanks!", thread_id="t", author={"id": "9"}, created_at=T0 + timedelta(1))],
    )
    assert (report.attached, report.reopened) == (1, 0)
    assert task.status == "resolved"


def test_someone_else_in_a_resolved_thread_gets_their_own_task(session):
    _run(session, [mention("1", "terrible", thread_id="t", author={"id": "9"}, created_at=T0)])
    (task,) = _tasks(session)
    service.resolve(session, task.id, "ann")
    report = _run(
        session,
        [mention("2", "awful for me too", thread_id="t", author={"id": "8"}, created_at=T0)],
    )
    assert (report.opened, report.reopened) == (1, 0)
    assert task.status == "resolved"


def test_customer_reply_takes_a_waiting_task_back_to_its_agent(session):
    _run(session, [mention("1", "terrible", thread_id="t", author={"id": "9"}, created_at=T0)])
    (task,) = _tasks(session)
    agents.create_agent(session, AgentCreate(name="ann"))
    service.assign(session, task.id, "ann", "ann")
    service.set_waiting(session, task.id, "ann")
    _run(
        session,
        [
            mention(
                "2", "order 123", thread_id="t", author={"id": "9"}, created_at=T0 + timedelta(1)
            )
        ],
    )
    assert task.status == "assigned"
    assert _event_types(session, task.id)[-2:] == ["mention_added", "customer_replied"]


def test_follow_up_to_a_closed_task_opens_a_linked_task(session):
    _run(session, [mention("1", "terrible", thread_id="t", author={"id": "9"}, created_at=T0)])
    (closed,) = _tasks(session)
    service.close(session, closed.id, "ann")
    report = _run(
        session,
        [
            mention("2", "still not working", thread_id="t", author={"id": "9"}, created_at=T0),
            mention("3", "thanks anyway", thread_id="u", author={"id": "9"}, created_at=T0),
        ],
    )
    assert report.opened == 1
    follow = _tasks(session)[-1]
    assert (follow.reason, follow.status, closed.status) == ("follow_up", "new", "closed")
    opened = session.scalars(
        select(TaskEvent).where(TaskEvent.task_id == follow.id, TaskEvent.type == "opened")
    ).one()
    assert opened.data["follows_task_id"] == closed.id


def test_a_brand_reply_in_the_thread_is_the_first_response(session):
    _run(
        session,
        [
            mention("1", "terrible", thread_id="t", author={"id": "9"}, created_at=T0),
            mention(
                "2",
                "So sorry, DM us",
                thread_id="t",
                is_brand=True,
                created_at=T0 + timedelta(minutes=7),
            ),
        ],
    )
    (task,) = _tasks(session)
    assert task.first_response_at == T0 + timedelta(minutes=7)
    assert _event_types(session, task.id) == ["opened", "first_response"]


def test_task_gets_the_category_and_resolution_deadline(session):
    collect.ingest(session, [mention("1", "terrible", author={"id": "9"})])
    scoring.score_all_pending(session, FakeModel())
    result = session.scalar(select(SentimentResult))
    result.category = "billing"
    service.engage_pending(session, sla_minutes=SLA, resolution_sla_minutes={2: 480})
    (task,) = _tasks(session)
    assert task.category == "billing"
    assert task.resolution_due_at - task.created_at == timedelta(minutes=480)


def test_deadlines_count_business_hours_only(session):
    from core.business_hours import BusinessHours

    collect.ingest(session, [mention("1", "terrible", author={"id": "9"})])
    scoring.score_all_pending(session, FakeModel())
    friday_evening = datetime(2026, 11, 27, 16, 30)  # 30 minutes before closing
    service.engage_mentions(
        session,
        [session.scalar(select(Mention.id))],
        sla_minutes={2: 60},
        resolution_sla_minutes={2: 480},
        calendar=BusinessHours.parse("mon-fri 09:00-17:00"),
        now=friday_evening,
    )
    (task,) = _tasks(session)
    assert task.due_at == datetime(2026, 11, 30, 9, 30)  # 30 min on Friday, 30 on Monday
    assert task.resolution_due_at == datetime(2026, 11, 30, 16, 30)


def test_list_filters(session):
    _run(
        session,
        [
            mention("1", "terrible", thread_id="a", author={"id": "1"}),
            mention("2", "terrible", thread_id="b", author={"id": "2", "followers": 20_000}),
        ],
    )
    first, second = _tasks(session)
    agents.create_agent(session, AgentCreate(name="ann"))
    service.assign(session, first.id, "ann", "lead")
    second.due_at = datetime(2000, 1, 1)
    session.flush()
    assert [t.id for t in service.list_tasks(session, priority=2)[0]] == [first.id]
    assert [t.id for t in service.list_tasks(session, assignee="ann")[0]] == [first.id]
    overdue, total = service.list_tasks(session, overdue=True)
    assert total == 1 and overdue[0].id == second.id and overdue[0].overdue is True
    assert [t.id for t in service.list_tasks(session, overdue=False)[0]] == [first.id]


def test_change_status_on_unknown_task_is_not_found(session):
    with pytest.raises(NotFoundError):
        service.change_status(session, 999_999, "resolved", "ann")


# --- reply templates ------------------------------------------------------------------------------


def _author(**kw):
    return Author(platform="twitter", author_key="1", **kw)


@pytest.mark.parametrize(
    ("customer", "author", "expected"),
    [
        (
            Customer(name="Ann Lee"),
            _author(handle="ann", display_name="A"),
            "Hi Ann (Ann Lee, @ann)",
        ),
        (None, _author(handle="bo", display_name="Bo Diddley"), "Hi Bo (Bo Diddley, @bo)"),
        (None, _author(handle="cy"), "Hi there (@cy, @cy)"),
        (Customer(name="  "), None, "Hi there (there, there)"),
        (None, None, "Hi there (there, there)"),
    ],
)
def test_render_fallbacks(customer, author, expected):
    body = "Hi {first_name} ({name}, {handle})"
    assert templates.render(body, customer, author) == expected


def test_render_agent_and_literal_braces():
    body = "{{ref}} Thanks, {first_name}! {agent}"
    assert templates.render(body, None, None, "Sam") == "{ref} Thanks, there! Sam"
    assert templates.render(body, None, None) == "{ref} Thanks, there! our team"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Hi {nickname}", "unknown placeholder {nickname}"),
        ("Hi {name.__class__}", "unknown placeholder"),
        ("Hi {}", "unknown placeholder"),
        ("Hi {name!r}", "takes no format"),
        ("Hi {name:>20}", "takes no format"),
        ("Hi {name", "malformed"),
    ],
)
def test_bad_templates_are_refused(session, body, message):
    with pytest.raises(InvalidError, match=message):
        templates.create_template(session, ReplyTemplateCreate(name="t", body=body))


def test_template_crud_and_render_for_a_task(session):
    collect.ingest(session, [mention("0", "hi", author={"id": "77", "handle": "ann"})])
    author = session.scalar(select(Author))
    customer = Customer(crm_id="C-1", name="Ann Lee")
    session.add(customer)
    session.flush()
    session.add(CustomerIdentity(customer_id=customer.id, platform="twitter", author_id=author.id))
    _run(session, [mention("1", "terrible", author={"id": "77", "handle": "ann"})])
    task = _tasks(session)[-1]
    sorry = templates.create_template(
        session, ReplyTemplateCreate(name="sorry", body="Sorry {first_name}, {agent} here.")
    )
    templates.create_template(
        session, ReplyTemplateCreate(name="x only", body="Hi {handle}", platform="twitter")
    )
    templates.create_template(
        session, ReplyTemplateCreate(name="reddit", body="Hi", platform="reddit")
    )
    with pytest.raises(ConflictError):
        templates.create_template(session, ReplyTemplateCreate(name="sorry", body="x"))
    assert [t.name for t in templates.list_templates(session, "twitter")] == ["sorry", "x only"]
    text = templates.render_for_task(session, task.id, sorry.id, "Sam")
    assert text == "Sorry Ann, Sam here."
    templates.update_template(session, sorry.id, ReplyTemplateUpdate(body="Bye {name}"))
    assert templates.render_for_task(session, task.id, sorry.id) == "Bye Ann Lee"
    with pytest.raises(InvalidError):
        templates.update_template(session, sorry.id, ReplyTemplateUpdate(body="{oops}"))
    with pytest.raises(NotFoundError):
        templates.render_for_task(session, 999_999, sorry.id)
    templates.delete_template(session, sorry.id)
    with pytest.raises(NotFoundError):
        templates.get_template(session, sorry.id)
    assert session.scalar(select(ReplyTemplate).where(ReplyTemplate.name == "sorry")) is None
