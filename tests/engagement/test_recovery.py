"""Service recovery: the outcome definition, the evaluation job, the report per grouping and
the retention-risk ranking (on SQLite and PostgreSQL, with hand-built sentiment results)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from collectors.models import Author, Mention
from core.errors import InvalidError
from engagement.models import (
    Compensation,
    Customer,
    CustomerIdentity,
    ResponseTask,
    TaskEvent,
    TaskMention,
    WebhookEvent,
)
from engagement.recovery import service
from engagement.recovery.jobs import JOB_ID, evaluate_recovery
from engagement.recovery.service import Assessment, Sample, classify, percentile
from sentiment.models import SentimentResult

T0 = datetime(2026, 11, 1, 9, 0)
HOUR, DAY, MINUTE = timedelta(hours=1), timedelta(days=1), timedelta(minutes=1)
# (label, p_negative, p_neutral, p_positive) and the score s = p_positive - p_negative.
NEG = ("negative", 0.85, 0.1, 0.05)  # -0.8
NEG2 = ("negative", 0.8, 0.1, 0.1)  # -0.7
NEU = ("neutral", 0.1, 0.8, 0.1)  # 0.0
POS = ("positive", 0.05, 0.2, 0.75)  # 0.7
VERY_NEG = ("negative", 0.95, 0.05, 0.0)  # -0.95
_ids = itertools.count(1)


class World:
    """Builds authors, customers, mentions with chosen sentiment, and tasks."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def author(self, platform: str = "twitter") -> Author:
        n = next(_ids)
        author = Author(platform=platform, author_key=f"u{n}", platform_user_id=f"u{n}")
        self.session.add(author)
        self.session.flush()
        return author

    def customer(
        self, name: str, *authors: Author, value: str | None = None, **kw: Any
    ) -> Customer:
        customer = Customer(
            crm_id=f"crm-{name}",
            name=name,
            lifetime_value=Decimal(value) if value is not None else None,
            **kw,
        )
        self.session.add(customer)
        self.session.flush()
        for author in authors:
            self.link(customer, author)
        return customer

    def link(self, customer: Customer, author: Author) -> None:
        self.session.add(
            CustomerIdentity(
                customer_id=customer.id,
                platform=author.platform,
                platform_user_id=author.platform_user_id,
                author_id=author.id,
                method="manual",
            )
        )
        self.session.flush()

    def mention(
        self,
        author: Author,
        at: datetime,
        sentiment: tuple[str, float, float, float] | None = NEU,
        *,
        brand: bool = False,
        thread: str | None = None,
    ) -> Mention:
        n = next(_ids)
        mention = Mention(
            platform=author.platform,
            external_id=f"m{n}",
            author_id=author.id,
            text=f"mention {n}",
            created_at=at,
            is_brand=brand,
            thread_id=thread,
        )
        self.session.add(mention)
        self.session.flush()
        if sentiment is not None:
            self.score(mention, sentiment, at)
        return mention

    def score(
        self,
        mention: Mention,
        sentiment: tuple[str, float, float, float],
        at: datetime,
        *,
        status: str = "scored",
        model: str = "test",
    ) -> None:
        label, p_neg, p_neu, p_pos = sentiment
        usable = status == "scored"
        self.session.add(
            SentimentResult(
                mention_id=mention.id,
                model_name=model,
                model_version="1",
                status=status,
                label=label if usable else None,
                p_negative=p_neg if usable else None,
                p_neutral=p_neu if usable else None,
                p_positive=p_pos if usable else None,
                scored_at=at,
            )
        )
        self.session.flush()

    def task(
        self,
        author: Author,
        mentions: list[Mention],
        *,
        status: str = "resolved",
        reason: str = "negative",
        first_response_at: datetime | None = None,
        created_at: datetime | None = None,
        customer: Customer | None = None,
        **kw: Any,
    ) -> ResponseTask:
        created = created_at or mentions[0].created_at
        task = ResponseTask(
            thread_key=f"{author.platform}:thread:{next(_ids)}",
            customer_id=customer.id if customer else None,
            author_id=author.id,
            status=status,
            priority=2,
            reason=reason,
            first_response_at=first_response_at,
            resolved_at=kw.pop("resolved_at", None)
            or ((first_response_at or created) + HOUR if status == "resolved" else None),
            last_mention_at=mentions[-1].created_at,
            created_at=created,
            updated_at=created,
            **kw,
        )
        self.session.add(task)
        self.session.flush()
        for m in mentions:
            self.session.add(TaskMention(task_id=task.id, mention_id=m.id))
        self.session.flush()
        return task

    def complaint(
        self,
        before: tuple[str, float, float, float] = NEG,
        *,
        answered_at: datetime = T0 + HOUR,
        customer: Customer | None = None,
        author: Author | None = None,
        **kw: Any,
    ) -> tuple[ResponseTask, Author]:
        """A resolved complaint: one customer mention at T0 (or an hour before the answer)."""
        author = author or self.author()
        first = self.mention(author, min(T0, answered_at - HOUR), before)
        return self.task(
            author, [first], first_response_at=answered_at, customer=customer, **kw
        ), author


@pytest.fixture
def world(session):
    return World(session)


def run(session, session_factory, settings, now, **kw):
    session.commit()
    report = evaluate_recovery(session_factory, settings, now=now, **kw)
    session.expire_all()
    return report


def recovery_events(session, task_id):
    stmt = select(TaskEvent).where(TaskEvent.task_id == task_id, TaskEvent.type == "recovery")
    return [e.data for e in session.scalars(stmt.order_by(TaskEvent.id))]


# --- the definition (pure) --------------------------------------------------------------------


def s(score, label):
    return Sample(score, label)


@pytest.mark.parametrize(
    ("before", "after", "status", "change"),
    [
        # An improvement of exactly 0.3 (0.30000000000000004 in floating point) recovers.
        ([s(-0.5, "negative")], [s(-0.2, "negative")], "recovered", 0.3),
        ([s(-0.5, "negative")], [s(-0.21, "negative")], "unchanged", 0.29),
        ([s(0.1, "neutral")], [s(-0.2, "negative")], "worse", -0.3),
        ([s(0.1, "neutral")], [s(-0.19, "negative")], "unchanged", -0.29),
        # Before negative, after mostly neutral/positive: recovered though the mean moved little.
        (
            [s(-0.4, "negative")],
            [s(-0.3, "neutral"), s(-0.3, "neutral"), s(-0.5, "negative")],
            "recovered",
            0.0333,
        ),
        # Half is not a majority.
        ([s(-0.4, "negative")], [s(-0.3, "neutral"), s(-0.5, "negative")], "unchanged", 0.0),
        # Before was not negative: the majority rule does not apply.
        ([s(-0.1, "neutral")], [s(-0.2, "neutral")], "unchanged", -0.1),
        # A clear drop is "worse" even when the labels alone would say recovered.
        ([s(-0.1, "negative")], [s(-0.5, "neutral"), s(-0.5, "neutral")], "worse", -0.4),
        # No scored mention before: a neutral baseline.
        ([], [s(0.35, "positive")], "recovered", 0.35),
    ],
)
def test_classify(before, after, status, change):
    found = classify(before, after, window_ended=False)
    assert (found.status, found.change) == (status, change)
    assert found.after_count == len(after) and found.before_count == len(before)


def test_classify_without_followups_waits_for_the_window():
    before = [s(-0.8, "negative"), s(-0.6, "negative")]
    assert classify(before, [], window_ended=False) == Assessment(None, -0.7, None, None, 2, 0)
    assert classify(before, [], window_ended=True) == Assessment(
        "no_followup", -0.7, None, None, 2, 0
    )
    assert classify([], [], window_ended=True) == Assessment("no_followup", None, None, None, 0, 0)


def test_thresholds_are_documented_constants():
    assert (service.IMPROVEMENT, service.DECLINE, service.LATE_GRACE) == (0.3, 0.3, DAY)
    assert "IMPROVEMENT" in (service.__doc__ or "") and "DECLINE" in (service.__doc__ or "")
    assert JOB_ID == "recovery:evaluate"


def test_percentile_interpolates_like_percentile_cont():
    assert percentile([], 0.5) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([10.0, 20.0, 30.0, 45.0, 60.0, 90.0], 0.5) == 37.5
    assert percentile([10.0, 20.0, 30.0, 45.0, 60.0, 90.0], 0.9) == 75.0


# --- the job ----------------------------------------------------------------------------------


def test_each_outcome(world, session, session_factory, settings):
    recovered, a = world.complaint(NEG)
    world.mention(a, T0 + HOUR + DAY, POS)
    unchanged, b = world.complaint(NEG)
    world.mention(b, T0 + 2 * DAY, NEG2)
    worse, c = world.complaint(NEU, reason="low_rating")
    world.mention(c, T0 + 3 * DAY, NEG)
    no_followup, _ = world.complaint(NEG)
    pending, _ = world.complaint(NEG, answered_at=T0 + 10 * DAY)
    now = T0 + 20 * DAY

    report = run(session, session_factory, settings, now)

    assert report.model_dump() == {
        "examined": 5,
        "changed": 4,
        "recovered": 1,
        "unchanged": 1,
        "worse": 1,
        "no_followup": 1,
        "pending": 1,
        "changed_task_ids": [recovered.id, unchanged.id, worse.id, no_followup.id],
    }
    got = {
        t.id: (t.recovery_status, t.recovery_evaluated_at)
        for t in session.scalars(select(ResponseTask))
    }
    assert got == {
        recovered.id: ("recovered", now),
        unchanged.id: ("unchanged", now),
        worse.id: ("worse", now),
        no_followup.id: ("no_followup", now),
        # Inside its window with nothing yet: not evaluated, checked again on the next run.
        pending.id: (None, now),
    }
    assert recovery_events(session, recovered.id) == [
        {
            "from": None,
            "to": "recovered",
            "before": -0.8,
            "after": 0.7,
            "change": 1.5,
            "followups": 1,
        }
    ]
    assert recovery_events(session, pending.id) == []
    # The CRM gets each changed outcome as a webhook event, with the task as other events have it.
    sent = session.scalars(
        select(WebhookEvent).where(WebhookEvent.type == "task.recovery").order_by(WebhookEvent.id)
    ).all()
    assert [(e.payload["task_id"], e.payload["recovery"]["to"]) for e in sent] == [
        (recovered.id, "recovered"),
        (unchanged.id, "unchanged"),
        (worse.id, "worse"),
        (no_followup.id, "no_followup"),
    ]
    assert sent[0].payload["recovery"] == recovery_events(session, recovered.id)[0]
    assert sent[0].payload["status"] == session.get(ResponseTask, recovered.id).status
    # Nothing changed, nothing sent.
    run(session, session_factory, settings, now + HOUR)
    assert session.query(WebhookEvent).filter_by(type="task.recovery").count() == 4
    # A derived measure is not an agent's change.
    assert session.get(ResponseTask, recovered.id).updated_at == T0


def test_followups_on_another_platform_of_the_same_customer_count(
    world, session, session_factory, settings
):
    tweeter, redditor = world.author("twitter"), world.author("reddit")
    customer = world.customer("ann", tweeter, redditor, value="100")
    linked_task, _ = world.complaint(NEG, author=tweeter, customer=customer)
    world.mention(redditor, T0 + DAY, POS, thread="elsewhere")
    # Opened before its author was linked: the customer the author belongs to now counts.
    other, other_reddit = world.author("twitter"), world.author("reddit")
    later_task, _ = world.complaint(NEG, author=other)
    world.mention(other_reddit, T0 + DAY, POS)
    world.customer("bo", other, other_reddit)

    run(session, session_factory, settings, T0 + 20 * DAY)

    assert session.get(ResponseTask, linked_task.id).recovery_status == "recovered"
    assert session.get(ResponseTask, later_task.id).recovery_status == "recovered"


def test_brand_posts_other_authors_and_posts_outside_the_window_are_ignored(
    world, session, session_factory, settings
):
    task, author = world.complaint(NEG)
    brand = world.author()
    answer = world.mention(brand, T0 + HOUR, POS, brand=True)
    session.add(TaskMention(task_id=task.id, mention_id=answer.id))
    world.mention(author, T0 + DAY, POS, brand=True)  # "brand" posts are never the customer's
    world.mention(world.author(), T0 + DAY, NEG)  # someone else in the thread
    world.mention(author, T0 + HOUR + 14 * DAY + MINUTE, POS)  # just after the window
    unscored = world.mention(author, T0 + 2 * DAY, None)
    world.score(unscored, POS, T0 + 2 * DAY, status="unsupported_language")

    report = run(session, session_factory, settings, T0 + 20 * DAY)

    assert (report.no_followup, report.examined) == (1, 1)
    assert session.get(ResponseTask, task.id).recovery_status == "no_followup"


def test_the_window_end_is_inclusive_and_the_newest_result_wins(
    world, session, session_factory, settings
):
    task, author = world.complaint(NEG)
    last = world.mention(author, T0 + HOUR + 14 * DAY, NEG)
    # Rescored later by another model: the newest result is the one that counts.
    world.score(last, POS, T0 + 15 * DAY, model="better")

    run(session, session_factory, settings, T0 + 20 * DAY)

    assert session.get(ResponseTask, task.id).recovery_status == "recovered"


def test_a_later_followup_in_the_window_changes_the_outcome(
    world, session, session_factory, settings
):
    task, author = world.complaint(NEG)
    answered = T0 + HOUR
    world.mention(author, answered + DAY, NEG2)
    first = run(session, session_factory, settings, answered + 2 * DAY)
    assert (first.unchanged, first.changed) == (1, 1)
    assert session.get(ResponseTask, task.id).recovery_status == "unchanged"

    world.mention(author, answered + 3 * DAY, POS)
    world.mention(author, answered + 4 * DAY, POS)
    second = run(session, session_factory, settings, answered + 5 * DAY)
    assert (second.recovered, second.changed) == (1, 1)

    # Same data, same outcome: no new event, only the check time moves.
    third = run(session, session_factory, settings, answered + 6 * DAY)
    assert (third.examined, third.recovered, third.changed) == (1, 1, 0)
    assert recovery_events(session, task.id) == [
        {
            "from": None,
            "to": "unchanged",
            "before": -0.8,
            "after": -0.7,
            "change": 0.1,
            "followups": 1,
        },
        {
            "from": "unchanged",
            "to": "recovered",
            "before": -0.8,
            "after": 0.2333,
            "change": 1.0333,
            "followups": 3,
        },
    ]
    # Past the window and its grace day the task is no longer examined.
    world.mention(author, answered + 10 * DAY, VERY_NEG)
    assert run(session, session_factory, settings, answered + 15 * DAY + MINUTE).examined == 0
    stored = session.get(ResponseTask, task.id)
    assert (stored.recovery_status, stored.recovery_evaluated_at) == (
        "recovered",
        answered + 6 * DAY,
    )


def test_a_followup_scored_late_still_counts_within_the_grace_day(
    world, session, session_factory, settings
):
    task, author = world.complaint(NEG)
    window_end = T0 + HOUR + 14 * DAY
    assert run(session, session_factory, settings, window_end).no_followup == 1
    late = world.mention(author, window_end - HOUR, None)
    world.score(late, POS, window_end + 2 * HOUR)
    assert run(session, session_factory, settings, window_end + 3 * HOUR).recovered == 1
    assert [e["to"] for e in recovery_events(session, task.id)] == ["no_followup", "recovered"]


def test_only_answered_finished_complaints_are_examined(world, session, session_factory, settings):
    world.complaint(NEG, status="assigned", assignee="ann")
    unanswered, _ = world.complaint(NEG)
    unanswered.first_response_at = None
    world.complaint(NEU, reason="question")
    closed, _ = world.complaint(NEG, status="closed", closed_at=T0 + 2 * HOUR)
    both, _ = world.complaint(NEG, reason="negative+key_customer")
    session.flush()

    report = run(session, session_factory, settings, T0 + 20 * DAY)

    assert report.examined == 2
    assert sorted(report.changed_task_ids) == sorted([closed.id, both.id])


def test_the_job_works_in_bounded_batches(world, session, session_factory, settings):
    tasks = [world.complaint(NEG)[0] for _ in range(5)]
    first = run(session, session_factory, settings, T0 + 20 * DAY, batch_size=2, max_batches=2)
    assert first.examined == 4
    second = run(session, session_factory, settings, T0 + 20 * DAY + MINUTE, batch_size=2)
    assert second.changed_task_ids == [tasks[4].id]
    assert {t.recovery_status for t in session.scalars(select(ResponseTask))} == {"no_followup"}


def test_drill_down_lists_scores(world, session, session_factory, settings):
    recovered, a = world.complaint(NEG, category="billing", assignee="ann")
    world.mention(a, T0 + DAY, POS)
    world.complaint(NEG)
    now = T0 + 20 * DAY
    run(session, session_factory, settings, now)

    page = service.recovery_tasks(session, window_days=14, status="recovered", now=now)
    assert page.total == 1
    assert page.items[0].model_dump() == {
        "task_id": recovered.id,
        "customer_id": None,
        "status": "resolved",
        "recovery_status": "recovered",
        "recovery_evaluated_at": now,
        "category": "billing",
        "channel": "twitter",
        "assignee": "ann",
        "first_response_at": T0 + HOUR,
        "before_score": -0.8,
        "after_score": 0.7,
        "change": 1.5,
        "before_mentions": 1,
        "after_mentions": 1,
    }
    assert service.recovery_tasks(session, window_days=14, now=now).total == 2
    with pytest.raises(InvalidError, match="status must be one of"):
        service.recovery_tasks(session, window_days=14, status="happy")


# --- the report -------------------------------------------------------------------------------


def seed_report(world: World) -> dict[str, ResponseTask]:
    """Seven complaints opened in November (and two tasks that are not in the report).

    Per task: channel, category, agent, minutes from the customer's post to the first
    response and to resolution, outcome, compensation. Tasks open 10 minutes after the post.
    """
    spec = [
        ("t1", "twitter", "billing", "ann", 30, 120, "resolved", "recovered", "negative"),
        (
            "t2",
            "twitter",
            "billing",
            "ann",
            60,
            240,
            "closed",
            "unchanged",
            "negative+key_customer",
        ),
        ("t3", "reddit", "billing", "bob", 10, 600, "resolved", "worse", "negative"),
        ("t4", "reddit", None, "bob", 90, 300, "resolved", "no_followup", "negative"),
        ("t5", "appstore", "delivery", None, 20, 100, "resolved", "recovered", "low_rating"),
        ("t6", "twitter", "delivery", "cyd", 45, None, "closed", None, "negative"),
        ("t7", "twitter", "billing", "ann", None, None, "assigned", None, "negative"),
        ("t8", "twitter", "billing", "bob", 5, 10, "resolved", "recovered", "question"),
    ]
    tasks = {}
    for i, (name, channel, category, agent, fr, res, status, outcome, reason) in enumerate(spec):
        author = world.author(channel)
        posted = T0 + i * HOUR
        mentions = [world.mention(author, posted, NEG)]
        if name == "t1":
            mentions.append(world.mention(author, posted + 3 * HOUR, NEU))
        tasks[name] = world.task(
            author,
            mentions,
            status=status,
            reason=reason,
            created_at=posted + 10 * MINUTE,
            first_response_at=posted + fr * MINUTE if fr is not None else None,
            resolved_at=posted + res * MINUTE if res is not None else None,
            closed_at=(
                posted + (1000 if name == "t2" else 45) * MINUTE if status == "closed" else None
            ),
            category=category,
            assignee=agent,
            recovery_status=outcome,
        )
    old_author = world.author()
    world.task(
        old_author,
        [world.mention(old_author, T0 - DAY, NEG)],
        first_response_at=T0 - DAY + HOUR,
        recovery_status="worse",
    )
    for name, kind, amount, currency in [
        ("t1", "refund", "20.00", "EUR"),
        ("t2", "apology", None, None),
        ("t2", "voucher", "10.00", "EUR"),
        ("t3", "refund", "5.50", "EUR"),
        ("t3", "refund", "4.50", "EUR"),
        ("t5", "refund", "15.00", "USD"),
    ]:
        world.session.add(
            Compensation(
                task_id=tasks[name].id,
                kind=kind,
                amount=Decimal(amount) if amount else None,
                currency=currency,
                created_by="maya",
            )
        )
    world.session.flush()
    return tasks


def row(key, n, evaluated, outcomes, rate, fr, res, money=None):
    recovered, unchanged, worse, no_followup = outcomes
    return {
        "key": key,
        "complaints": n,
        "evaluated": evaluated,
        "recovered": recovered,
        "unchanged": unchanged,
        "worse": worse,
        "no_followup": no_followup,
        "recovery_rate": rate,
        "first_response_median_minutes": fr[0],
        "first_response_p90_minutes": fr[1],
        "resolution_median_minutes": res[0],
        "resolution_p90_minutes": res[1],
        "compensation": {c: Decimal(v) for c, v in (money or {}).items()},
    }


EXPECTED = {
    "none": [
        row(
            "all",
            7,
            5,
            (2, 1, 1, 1),
            0.5,
            (37.5, 75.0),
            (180.0, 450.0),
            {"EUR": "40.00", "USD": "15.00"},
        ),
    ],
    "category": [
        row("billing", 4, 3, (1, 1, 1, 0), 0.3333, (30.0, 54.0), (240.0, 528.0), {"EUR": "40.00"}),
        row("delivery", 2, 1, (1, 0, 0, 0), 1.0, (32.5, 42.5), (72.5, 94.5), {"USD": "15.00"}),
        row("uncategorised", 1, 1, (0, 0, 0, 1), None, (90.0, 90.0), (300.0, 300.0)),
    ],
    "channel": [
        row("twitter", 4, 2, (1, 1, 0, 0), 0.5, (45.0, 57.0), (120.0, 216.0), {"EUR": "30.00"}),
        row("reddit", 2, 2, (0, 0, 1, 1), 0.0, (50.0, 82.0), (450.0, 570.0), {"EUR": "10.00"}),
        row("appstore", 1, 1, (1, 0, 0, 0), 1.0, (20.0, 20.0), (100.0, 100.0), {"USD": "15.00"}),
    ],
    "agent": [
        row("ann", 3, 2, (1, 1, 0, 0), 0.5, (45.0, 57.0), (180.0, 228.0), {"EUR": "30.00"}),
        row("bob", 2, 2, (0, 0, 1, 1), 0.0, (50.0, 82.0), (450.0, 570.0), {"EUR": "10.00"}),
        row("cyd", 1, 0, (0, 0, 0, 0), None, (45.0, 45.0), (45.0, 45.0)),
        row("unassigned", 1, 1, (1, 0, 0, 0), 1.0, (20.0, 20.0), (100.0, 100.0), {"USD": "15.00"}),
    ],
    "compensation": [
        row("none", 3, 1, (0, 0, 0, 1), None, (67.5, 85.5), (172.5, 274.5)),
        row(
            "refund",
            3,
            3,
            (2, 0, 1, 0),
            0.6667,
            (20.0, 28.0),
            (120.0, 504.0),
            {"EUR": "30.00", "USD": "15.00"},
        ),
        row("apology", 1, 1, (0, 1, 0, 0), 0.0, (60.0, 60.0), (240.0, 240.0)),
        row("voucher", 1, 1, (0, 1, 0, 0), 0.0, (60.0, 60.0), (240.0, 240.0), {"EUR": "10.00"}),
    ],
}


@pytest.mark.parametrize("group_by", list(EXPECTED))
def test_report_numbers_per_grouping(world, session, group_by):
    seed_report(world)
    report = service.recovery_report(session, T0, T0 + 30 * DAY, group_by)
    assert (report.group_by, report.since, report.until) == (group_by, T0, T0 + 30 * DAY)
    assert [r.model_dump() for r in report.rows] == EXPECTED[group_by]


def test_report_period_and_validation(world, session):
    seed_report(world)
    # Only t1..t3 opened in the first three hours (t1 at 09:10, t3 at 11:10).
    report = service.recovery_report(session, T0, T0 + 3 * HOUR, "none")
    assert (report.rows[0].complaints, report.rows[0].recovery_rate) == (3, 0.3333)
    default = service.recovery_report(session, now=T0 + 10 * DAY)
    assert (default.since, default.until) == (T0 - 20 * DAY, T0 + 10 * DAY)
    assert default.rows[0].complaints == 8  # the one opened the day before T0 too
    assert service.recovery_report(session, T0 + 40 * DAY, T0 + 41 * DAY).rows == []
    with pytest.raises(InvalidError, match="group_by must be one of"):
        service.recovery_report(session, T0, T0 + DAY, "weekday")
    with pytest.raises(InvalidError, match="since must be before until"):
        service.recovery_report(session, T0 + DAY, T0, "none")


# --- retention risk ---------------------------------------------------------------------------

NOW = T0 + 60 * DAY


def seed_risk(world: World) -> dict[str, Customer]:
    """Customers with complaints at different values; see test_retention_ranking."""
    w = world
    out: dict[str, Customer] = {}

    def complaint(customer, author, days_ago, **kw):
        posted = NOW - days_ago * DAY
        m = w.mention(author, posted, NEG)
        return w.task(author, [m], customer=customer, first_response_at=posted + HOUR, **kw)

    a, a2 = w.author("twitter"), w.author("reddit")
    out["ada"] = ada = w.customer("ada", a, a2, value="5000.00", tier="vip")
    complaint(ada, a, 2, status="assigned", assignee="ann")
    complaint(ada, a, 40, recovery_status="recovered")
    w.mention(a2, NOW - 10 * DAY, VERY_NEG)
    w.mention(a, NOW - 100 * DAY, ("negative", 1.0, 0.0, 0.0))  # older than 90 days
    w.mention(a, NOW - DAY, ("negative", 1.0, 0.0, 0.0), brand=True)

    b = w.author()
    out["ben"] = ben = w.customer("ben", b, value="1200.00")
    complaint(ben, b, 20, recovery_status="recovered")
    complaint(ben, b, 5, recovery_status="worse")

    g = w.author()
    out["gus"] = gus = w.customer("gus", g, value="2000.00")
    complaint(gus, g, 30, recovery_status="unchanged")
    complaint(gus, g, 3)

    c = w.author("appstore")
    out["cat"] = w.customer("cat", c, value="300.00")
    # Opened before cat's identity was linked: the task has no customer_id.
    complaint(None, c, 1, status="new", reason="negative+low_rating")

    d = w.author()
    out["dan"] = dan = w.customer("dan", d)
    for days in (10, 20, 30):
        complaint(dan, d, days, recovery_status="unchanged")

    e = w.author()
    out["eve"] = eve = w.customer("eve", e, value="10000.00")
    complaint(eve, e, 10, recovery_status="recovered")

    f = w.author()
    out["fay"] = fay = w.customer("fay", f, value="800.00")
    complaint(fay, f, 200, recovery_status="worse")
    complaint(fay, f, 1, status="new", reason="question")

    i = w.author()
    out["ivy"] = ivy = w.customer("ivy", i, value="700.00")
    complaint(ivy, i, 50, recovery_status="worse")
    return out


def test_retention_ranking(world, session):
    people = seed_risk(world)
    rows = service.retention_risk(session, 50, now=NOW)
    assert [(r.name, r.risk_score) for r in rows] == [
        ("ada", 12500.0),  # 5000 x (1 + 1 open + 0.5 x 1 extra)
        ("gus", 3000.0),  # 2000 x (1 + 0.5): ties with ben, higher value first
        ("ben", 3000.0),  # 1200 x (1 + 0.5 + 1 worse)
        ("ivy", 1400.0),  # 700 x (1 + 1 worse)
        ("cat", 600.0),  # 300 x (1 + 1 open)
        ("dan", 0.0),  # unknown value
    ]
    ada = rows[0].model_dump()
    assert ada == {
        "customer_id": people["ada"].id,
        "crm_id": "crm-ada",
        "name": "ada",
        "tier": "vip",
        "lifetime_value": Decimal("5000.00"),
        "open_complaints": 1,
        "complaints_90d": 2,
        "last_complaint_at": NOW - 2 * DAY,
        "worst_recent_sentiment": -0.95,
        "latest_recovery_status": "recovered",
        "risk_score": 12500.0,
    }
    by_name = {r.name: r for r in rows}
    assert (by_name["ben"].latest_recovery_status, by_name["ben"].complaints_90d) == ("worse", 2)
    assert (by_name["cat"].open_complaints, by_name["cat"].worst_recent_sentiment) == (1, -0.8)
    assert (by_name["dan"].complaints_90d, by_name["dan"].lifetime_value) == (3, None)


def test_retention_filters(world, session):
    seed_risk(world)
    rows = service.retention_risk(session, 50, Decimal("1000"), now=NOW)
    assert [r.name for r in rows] == ["ada", "gus", "ben"]
    assert [r.name for r in service.retention_risk(session, 2, now=NOW)] == ["ada", "gus"]
    with pytest.raises(InvalidError):
        service.retention_risk(session, 0, now=NOW)
