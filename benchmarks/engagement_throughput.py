"""Engagement throughput: tasks from a complaint burst, webhook deliveries, dry-run replies.

On a fresh SQLite file and a fresh PostgreSQL database (each migrated to head), times with
time.perf_counter the three outbound halves of the engagement pipeline:

  1. tasks        a burst of N negative-sounding mentions (about N/3 authors, about 30 %
                  replies in earlier threads, half of those follow-ups by the thread's own
                  author) is ingested and scored with the VADER lexicon (each timed on its
                  own), then `scheduler.jobs.engage_pending(..., max_batches=10_000)` turns
                  them into response tasks: one open task per thread, later complaints by the
                  same author join the author's open task
  2. webhooks     a. one subscription (all events) to a real local HTTP receiver that checks
                  every Standard Webhooks signature (tests/webhook_receiver.py); E
                  complaint.flagged events (payloads built from the tasks of step 1) emitted
                  in one transaction; `deliver_webhooks` runs until none is pending
                  b. that subscription disabled; two new ones, the second endpoint answering
                  500 to everything; E more events; `deliver_webhooks` runs until the healthy
                  endpoint has all of them; the failing one's deliveries are left pending a
                  retry (never dead, never blocking)
  3. replies      R replies queued with `engagement.replies.service.create_reply` on X tasks
                  of step 1, then `deliver_replies` in dry-run mode (settings.dry_run_replies)
                  until none is pending; each stores the brand's answer as a mention and sets
                  the task's first_response_at. Webhook subscriptions are disabled first, so
                  reply.sent events are stored without deliveries.

All data is synthetic (seeded, no network except 127.0.0.1, no real accounts). The figures
belong in notes (docs/), never in test assertions: they depend on the machine and its load.

    python benchmarks/engagement_throughput.py        # N=10000, E=2000, R=1000, both databases
    python benchmarks/engagement_throughput.py --n 1000 --events 200 --replies 100 --json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from common import (
    Unavailable,
    fresh_postgres,
    fresh_sqlite,
    loadavg,
    machine_facts,
    server_settings,
    server_version,
)
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from collectors import service as collect
from collectors.models import Mention, MentionKind, Platform
from collectors.schemas import AuthorIn, MentionCreate
from core.db import make_engine, make_session_factory, unit_of_work
from core.errors import ConfigError
from core.migrate import upgrade
from core.settings import Settings
from core.timeutil import utcnow
from engagement.models import (
    Reply,
    ResponseTask,
    TaskMention,
    WebhookDelivery,
    WebhookEvent,
)
from engagement.replies import service as replies
from engagement.replies.jobs import deliver_replies
from engagement.service import complaint_payload
from engagement.webhooks import service as webhooks
from engagement.webhooks.jobs import deliver_webhooks
from engagement.webhooks.outbox import emit
from engagement.webhooks.schemas import WebhookSubscriptionCreate, WebhookSubscriptionUpdate
from scheduler.jobs import engage_pending, score_pending
from sentiment import repository as sentiment_repo
from sentiment.lexicon import VaderModel
from sentiment.models import SentimentResult

# The receiver lives with the tests (not an installed package): import it from the checkout.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from tests.webhook_receiver import WebhookReceiver  # noqa: E402

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
INGEST_BATCH = 1000
# How long the burst lasts (an outage afternoon): inside the 72 h same-author window.
BURST_SPAN = timedelta(hours=6)
REPLY_SHARE = 0.30
FOLLOW_UP_SHARE = 0.5  # of the replies: written by the thread's own author
PLATFORM_WEIGHTS = {"twitter": 0.8, "reddit": 0.2}
# A drain that does not finish in this long is a bug, not a slow machine.
DRAIN_LIMIT_SECONDS = 600.0

# --------------------------------------------------------------------------------------------
# Synthetic complaint burst
# --------------------------------------------------------------------------------------------

SUBJECTS = [
    "the app",
    "my card",
    "the transfer",
    "customer support",
    "the latest update",
    "my account",
    "the login",
    "the refund",
    "the checkout",
    "my order",
    "the delivery",
    "the statement export",
]
# No "Honestly", "Unbelievable" or "Fix": VADER scores them positive ("support" too: a few of
# the burst come out positive or neutral; the labels line counts them).
OPENERS = [
    "Ugh,",
    "Seriously,",
    "Fed up:",
    "Worst experience ever:",
    "Really disappointed,",
    "So frustrated,",
    "Angry customer here:",
    "Not happy at all:",
]
PROBLEMS = [
    "keeps crashing",
    "is broken again",
    "charged me twice",
    "is completely useless",
    "won't let me log in",
    "lost all my data",
    "is terrible",
    "has been down for hours",
    "failed with an error",
    "froze my card for no reason",
]
WHEN = [
    "since yesterday",
    "for the third time this week",
    "after the update",
    "every single time",
    "again today",
    "for two weeks now",
]
DEMANDS = [
    "This is ridiculous!",
    "This is unacceptable.",
    "Awful service.",
    "Worst support I have ever dealt with.",
    "I'm furious.",
    "Terrible, just terrible.",
    "I want my money back, this is a disgrace.",
    "Nobody answers, useless.",
]
REPLY_LEADS = ["Same here.", "Still broken.", "+1, awful.", "No answer yet?!", "Still waiting."]
FIRST = ["alex", "sam", "jo", "maria", "li", "priya", "omar", "kim", "noah", "eva", "yuki", "ben"]
LAST = ["smith", "garcia", "chen", "patel", "khan", "mueller", "rossi", "novak", "silva", "ng"]
REPLY_BODIES = [
    "Sorry about this! Could you DM us your account email so we can look into it right away?",
    "We're sorry for the trouble. Our team is on it; please DM us the details.",
    "That's not the experience we want for you. Please send us a DM and we'll sort it out.",
    "Apologies! A fix is rolling out now. DM us if it still fails after the update.",
]


@dataclass(frozen=True)
class _Author:
    platform: str
    id: str
    handle: str
    name: str
    followers: int


@dataclass(frozen=True)
class _Post:
    """An earlier mention a reply can answer."""

    external_id: str
    thread_id: str
    author: _Author


@dataclass
class BurstShape:
    """What the generator made."""

    mentions: int = 0
    authors: int = 0
    starters: int = 0
    replies: int = 0
    follow_ups: int = 0  # replies by the thread's own author
    threads: int = 0
    by_platform: dict[str, int] = field(default_factory=dict)


def _complaint(rng: random.Random) -> str:
    subject = rng.choice(SUBJECTS)
    out = f"{rng.choice(OPENERS)} {subject} {rng.choice(PROBLEMS)} {rng.choice(WHEN)}."
    return f"{out} {rng.choice(DEMANDS)}"


def generate_burst(n: int, seed: int, end: datetime) -> tuple[list[MentionCreate], BurstShape]:
    """N negative mentions over BURST_SPAN before `end`; the same seed gives the same burst."""
    rng = random.Random(seed)
    platforms = list(PLATFORM_WEIGHTS)
    weights = list(PLATFORM_WEIGHTS.values())
    authors: list[_Author] = []
    for i in range(max(1, n // 3)):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        authors.append(
            _Author(
                platform=rng.choices(platforms, weights)[0],
                id=str(20_000_000 + i),
                handle=f"{first}_{last}{i}"[:15],
                name=f"{first.title()} {last.title()}",
                followers=min(5_000_000, int(rng.lognormvariate(5.0, 2.0))),
            )
        )
    by_platform: dict[str, list[_Author]] = {p: [] for p in platforms}
    for author in authors:
        by_platform[author.platform].append(author)
    for plat in platforms:  # every platform needs someone to reply with
        if not by_platform[plat]:
            fallback = _Author(plat, f"{plat}-0", f"{plat}_user", "User", 10)
            by_platform[plat].append(fallback)
            authors.append(fallback)
    # Every author speaks at least once (in a random order), then anyone may speak again.
    order = list(authors)
    rng.shuffle(order)

    start = end - BURST_SPAN
    step = BURST_SPAN / max(1, n)
    earlier: dict[str, list[_Post]] = {p: [] for p in platforms}
    shape = BurstShape(mentions=n)
    used: set[tuple[str, str]] = set()
    out: list[MentionCreate] = []
    for i in range(n):
        created = (start + step * i).replace(microsecond=0)
        is_reply = rng.random() < REPLY_SHARE and any(earlier.values())
        if is_reply:
            plat = rng.choices(
                [p for p in platforms if earlier[p]],
                [PLATFORM_WEIGHTS[p] for p in platforms if earlier[p]],
            )[0]
            recent = earlier[plat][-300:]
            parent = recent[int(len(recent) * (1 - rng.random() ** 2)) - 1]
            follow_up = rng.random() < FOLLOW_UP_SHARE
            author = parent.author if follow_up else rng.choice(by_platform[plat])
            shape.replies += 1
            shape.follow_ups += follow_up
            ext = (
                str(1_790_000_000_000_000_000 + i * 4099 + rng.randrange(4099))
                if plat == "twitter"
                else f"t1_{i:x}{rng.randrange(36**3):03x}"
            )
            thread, reply_to = parent.thread_id, parent.external_id
            body = f"{rng.choice(REPLY_LEADS)} {_complaint(rng)}"
            if plat == "twitter":
                body = f"@{parent.author.handle} {body}"
        else:
            author = order[i] if i < len(order) else rng.choice(authors)
            plat = author.platform
            shape.starters += 1
            ext = (
                str(1_790_000_000_000_000_000 + i * 4099 + rng.randrange(4099))
                if plat == "twitter"
                else f"t3_{i:x}{rng.randrange(36**3):03x}"
            )
            thread, reply_to = ext, None
            body = _complaint(rng)
            if plat == "twitter" and rng.random() < 0.4:
                body = f"@AcmeSupport {body}"
        post = thread.removeprefix("t3_")
        url = (
            f"https://twitter.com/{author.handle}/status/{ext}"
            if plat == "twitter"
            else f"https://www.reddit.com/r/acme/comments/{post}/_/{ext.removeprefix('t1_')}/"
        )
        used.add((plat, author.id))
        earlier[plat].append(_Post(ext, thread, author))
        shape.by_platform[plat] = shape.by_platform.get(plat, 0) + 1
        out.append(
            MentionCreate(
                platform=Platform(plat),
                external_id=ext,
                text=body,
                created_at=created,
                kind=MentionKind.reply if reply_to else MentionKind.post,
                url=url,
                language="en",
                thread_id=thread,
                in_reply_to_id=reply_to,
                author=AuthorIn(
                    id=author.id, handle=author.handle, name=author.name, followers=author.followers
                ),
                metrics={"likes": int(rng.expovariate(1 / 12)), "replies": rng.randrange(4)},
            )
        )
    shape.authors = len(used)
    shape.threads = shape.starters
    return out, shape


# --------------------------------------------------------------------------------------------
# Fresh databases
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------------------------


@dataclass
class Stage:
    """One timed stage: `items` of `unit` in `seconds`."""

    name: str
    items: int
    unit: str
    seconds: float
    runs: int = 1  # job runs (or batches) it took

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class DatabaseRun:
    """Everything measured on one database."""

    database: str
    server_version: str
    location: str
    migrate_seconds: float
    server_settings: dict[str, str] = field(default_factory=dict)
    load_before: str = ""
    load_after: str = ""
    stages: list[Stage] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


def _scalar(factory: sessionmaker[Session], stmt: Any) -> int:
    with factory() as session:
        return int(session.scalar(stmt) or 0)


def _undelivered(factory: sessionmaker[Session], subscription_id: int) -> int:
    return _scalar(
        factory,
        select(func.count(WebhookDelivery.id)).where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.status != "delivered",
        ),
    )


def _drain(step: Callable[[], int], done: Callable[[], bool], what: str) -> tuple[float, int, int]:
    """Call `step` (one job run; returns items it claimed) until `done`: (seconds, runs, idle).

    Idle runs (nothing due yet, e.g. only retries scheduled later) sleep 50 ms before the next.
    """
    t0 = time.perf_counter()
    runs = idle = 0
    while not done():
        if time.perf_counter() - t0 > DRAIN_LIMIT_SECONDS:
            raise RuntimeError(f"{what}: not drained after {DRAIN_LIMIT_SECONDS:.0f} s")
        runs += 1
        if step() == 0:
            idle += 1
            time.sleep(0.05)
    return time.perf_counter() - t0, runs, idle


def _complaint_payloads(factory: sessionmaker[Session], count: int) -> list[dict[str, Any]]:
    """`count` complaint.flagged payloads from the tasks of step 1 (their first mention)."""
    with factory() as session:
        rows = session.execute(
            select(ResponseTask, Mention)
            .join(TaskMention, TaskMention.task_id == ResponseTask.id)
            .join(Mention, Mention.id == TaskMention.mention_id)
            .order_by(ResponseTask.id, Mention.created_at, Mention.id)
        ).all()
        first: dict[int, tuple[ResponseTask, Mention]] = {}
        for task, mention in rows:
            first.setdefault(task.id, (task, mention))
        if not first:
            raise RuntimeError("step 1 opened no task: nothing to build complaint payloads from")
        results: dict[int, SentimentResult] = sentiment_repo.latest_results(
            session, [m.id for _, m in first.values()]
        )
        base = [complaint_payload(t, m, results.get(m.id)) for t, m in first.values()]
    return [base[i % len(base)] for i in range(count)]


def _emit_events(factory: sessionmaker[Session], payloads: list[dict[str, Any]]) -> set[str]:
    with unit_of_work(factory) as session:
        return {emit(session, "complaint.flagged", p).event_id for p in payloads}


def _subscribe(factory: sessionmaker[Session], url: str, description: str) -> tuple[int, str]:
    data = WebhookSubscriptionCreate.model_validate(
        {"url": url, "event_types": ["*"], "description": description}
    )
    with unit_of_work(factory) as session:
        sub = webhooks.create_subscription(session, data)
        return sub.id, sub.secret


def _disable(factory: sessionmaker[Session], subscription_ids: list[int]) -> None:
    with unit_of_work(factory) as session:
        for sub_id in subscription_ids:
            webhooks.update_subscription(
                session, sub_id, WebhookSubscriptionUpdate.model_validate({"enabled": False})
            )


def bench_tasks(
    run: DatabaseRun,
    factory: sessionmaker[Session],
    settings: Settings,
    burst: list[MentionCreate],
    model: VaderModel,
) -> None:
    """Step 1: ingest, score, then time engage_pending until every mention is engaged."""
    n = len(burst)
    t0 = time.perf_counter()
    inserted = 0
    for i in range(0, n, INGEST_BATCH):
        with unit_of_work(factory) as session:
            inserted += collect.ingest(session, burst[i : i + INGEST_BATCH]).inserted
    t_ingest = time.perf_counter() - t0
    assert inserted == n == _scalar(factory, select(func.count(Mention.id))), inserted
    batches = (n + INGEST_BATCH - 1) // INGEST_BATCH
    run.stages.append(Stage("1 ingest (not in engage)", n, "mentions", t_ingest, batches))

    t0 = time.perf_counter()
    score = score_pending(factory, settings, model, max_batches=10_000)
    t_score = time.perf_counter() - t0
    assert score.scored == n, score
    batches = (n + settings.score_batch_size - 1) // settings.score_batch_size
    run.stages.append(Stage("1 score (VADER lexicon)", n, "mentions", t_score, batches))

    t0 = time.perf_counter()
    engage = engage_pending(factory, settings, max_batches=10_000)
    t_engage = time.perf_counter() - t0
    unengaged = _scalar(factory, select(func.count(Mention.id)).where(Mention.engaged_at.is_(None)))
    assert engage.examined == n and unengaged == 0, (engage, unengaged)
    tasks = _scalar(factory, select(func.count(ResponseTask.id)))
    attached = _scalar(factory, select(func.count()).select_from(TaskMention))
    assert tasks == engage.opened, (tasks, engage.opened)
    assert attached == engage.opened + engage.attached, (attached, engage)
    batches = (n + 499) // 500
    run.stages.append(Stage("1 engage: tasks opened", engage.opened, "tasks", t_engage, batches))
    run.stages.append(Stage("1 engage: mentions engaged", n, "mentions", t_engage, batches))
    with factory() as session:
        labels = dict(
            session.execute(
                select(SentimentResult.label, func.count()).group_by(SentimentResult.label)
            ).all()
        )
        per_task = Counter(
            c
            for (c,) in session.execute(
                select(func.count()).select_from(TaskMention).group_by(TaskMention.task_id)
            )
        )
        events = dict(
            session.execute(
                select(WebhookEvent.type, func.count()).group_by(WebhookEvent.type)
            ).all()
        )
    run.facts["tasks"] = {
        "labels": {str(k): int(v) for k, v in sorted(labels.items(), key=lambda kv: str(kv[0]))},
        "tasks_in_db": tasks,
        "opened": engage.opened,
        "attached": engage.attached,
        "reopened": engage.reopened,
        "mentions_in_tasks": attached,
        "mentions_without_task": n - attached,
        "mentions_per_task": {
            "1": per_task.get(1, 0),
            "2-3": per_task.get(2, 0) + per_task.get(3, 0),
            "4+": sum(v for k, v in per_task.items() if k >= 4),
            "max": max(per_task, default=0),
        },
        "webhook_events_emitted": {str(k): int(v) for k, v in sorted(events.items())},
    }


def bench_webhooks(
    run: DatabaseRun, factory: sessionmaker[Session], settings: Settings, events: int
) -> list[int]:
    """Step 2: one healthy subscription, then one healthy beside one answering 500."""
    payloads = _complaint_payloads(factory, events)
    subscriptions: list[int] = []

    # a. one subscription, every delivery answered 200
    with WebhookReceiver() as rx:
        sub_id, rx.secret = _subscribe(factory, rx.url, "benchmark: healthy")
        subscriptions.append(sub_id)
        t0 = time.perf_counter()
        ids = _emit_events(factory, payloads)
        t_emit = time.perf_counter() - t0
        assert len(ids) == events
        run.stages.append(Stage("2a emit (one transaction)", events, "events", t_emit))

        totals: Counter[str] = Counter()

        def step_a() -> int:
            report = deliver_webhooks(factory, settings)
            totals.update(report.model_dump(exclude={"disabled_subscriptions"}))
            return report.claimed

        seconds, runs, idle = _drain(step_a, lambda: _undelivered(factory, sub_id) == 0, "2a")
        got = rx.ids()
        bad = [r for r in rx.received if not r.verified or r.answered != 200]
        assert len(got) == len(set(got)) == events, (len(got), len(set(got)), events)
        assert set(got) == ids, "the receiver got other webhook-ids than were emitted"
        assert not bad, f"{len(bad)} requests failed verification: {bad[0].error}"
        assert totals["delivered"] == events, totals
        run.stages.append(Stage("2a deliver, 1 endpoint", events, "deliveries", seconds, runs))
        run.facts["webhooks_one"] = {
            "job_runs": runs,
            "idle_runs": idle,
            "requests_received": len(got),
            "distinct_webhook_ids": len(set(got)),
            "signatures_valid": sum(r.verified for r in rx.received),
            "report_totals": dict(totals),
        }
    _disable(factory, [sub_id])

    # b. a healthy endpoint beside one that answers 500 to everything
    with WebhookReceiver() as ok_rx, WebhookReceiver() as bad_rx:
        bad_rx.fail(500, times=50 * events + 1000)
        ok_id, ok_rx.secret = _subscribe(factory, ok_rx.url, "benchmark: healthy")
        bad_id, bad_rx.secret = _subscribe(factory, bad_rx.url, "benchmark: answers 500")
        subscriptions += [ok_id, bad_id]
        ids = _emit_events(factory, payloads)
        totals = Counter()

        def step_b() -> int:
            report = deliver_webhooks(factory, settings)
            totals.update(report.model_dump(exclude={"disabled_subscriptions"}))
            return report.claimed

        seconds, runs, idle = _drain(step_b, lambda: _undelivered(factory, ok_id) == 0, "2b")
        now = utcnow()
        got = ok_rx.ids()
        assert len(got) == len(set(got)) == events and set(got) == ids, (len(got), events)
        assert all(r.verified and r.answered == 200 for r in ok_rx.received)
        bad_requests = list(bad_rx.received)
        assert all(r.verified and r.answered == 500 for r in bad_requests)
        run.stages.append(
            Stage("2b deliver, healthy beside a 500", events, "deliveries", seconds, runs)
        )
        with factory() as session:
            states = Counter(
                f"{status} after {attempts} attempt{'s' if attempts != 1 else ''}"
                for status, attempts in session.execute(
                    select(WebhookDelivery.status, WebhookDelivery.attempts).where(
                        WebhookDelivery.subscription_id == bad_id
                    )
                )
            )
            soonest, latest = session.execute(
                select(
                    func.min(WebhookDelivery.next_attempt_at),
                    func.max(WebhookDelivery.next_attempt_at),
                ).where(
                    WebhookDelivery.subscription_id == bad_id,
                    WebhookDelivery.status == "pending",
                )
            ).one()
            codes = Counter(
                code
                for (code,) in session.execute(
                    select(WebhookDelivery.last_status_code).where(
                        WebhookDelivery.subscription_id == bad_id
                    )
                )
            )
        pending = sum(v for k, v in states.items() if k.startswith("pending"))
        assert pending == events, states
        run.facts["webhooks_two"] = {
            "job_runs": runs,
            "idle_runs": idle,
            "healthy_received": len(got),
            "failing_requests": len(bad_requests),
            "failing_distinct_ids": len({r.webhook_id for r in bad_requests}),
            "failing_states": dict(sorted(states.items())),
            "failing_last_status_codes": {str(k): v for k, v in codes.items()},
            "failing_next_retry_in_s": None
            if soonest is None
            else [
                round((soonest - now).total_seconds(), 1),
                round((latest - now).total_seconds(), 1),
            ],
            "report_totals": dict(totals),
        }
    return subscriptions


def bench_replies(
    run: DatabaseRun, factory: sessionmaker[Session], settings: Settings, count: int
) -> None:
    """Step 3: queue `count` replies on X tasks, then time the dry-run outbox until done."""
    with factory() as session:
        task_ids = list(
            session.scalars(
                select(ResponseTask.id)
                .where(ResponseTask.thread_key.like("twitter:%"))
                .order_by(ResponseTask.id)
                .limit(count)
            )
        )
    if not task_ids:
        raise RuntimeError("step 1 opened no X task to reply on")
    targets = [task_ids[i % len(task_ids)] for i in range(count)]
    rng = random.Random(len(targets))

    t0 = time.perf_counter()
    for i in range(0, count, 100):
        with unit_of_work(factory) as session:
            for task_id in targets[i : i + 100]:
                replies.create_reply(
                    session,
                    task_id=task_id,
                    mention_id=None,
                    body=rng.choice(REPLY_BODIES),
                    author="bench-agent",
                )
    t_queue = time.perf_counter() - t0
    run.stages.append(
        Stage("3 queue (create_reply)", count, "replies", t_queue, (count + 99) // 100)
    )

    totals: Counter[str] = Counter()

    def step() -> int:
        report = deliver_replies(factory, settings)
        totals.update(report.model_dump(exclude={"sent_ids", "failed_ids"}))
        return report.claimed

    def pending() -> int:
        return _scalar(
            factory,
            select(func.count(Reply.id)).where(Reply.status.in_(("pending", "sending"))),
        )

    seconds, runs, _idle = _drain(step, lambda: pending() == 0, "3")
    with factory() as session:
        states = dict(
            session.execute(select(Reply.status, func.count()).group_by(Reply.status)).all()
        )
        linked = int(
            session.scalar(select(func.count(Reply.id)).where(Reply.sent_mention_id.is_not(None)))
            or 0
        )
        brand = int(
            session.scalar(
                select(func.count(Mention.id)).where(
                    Mention.is_brand.is_(True), Mention.external_id.like("dryrun-%")
                )
            )
            or 0
        )
        answered = int(
            session.scalar(
                select(func.count(ResponseTask.id)).where(
                    ResponseTask.id.in_(set(targets)), ResponseTask.first_response_at.is_not(None)
                )
            )
            or 0
        )
        reply_events = int(
            session.scalar(
                select(func.count(WebhookEvent.id)).where(WebhookEvent.type == "reply.sent")
            )
            or 0
        )
    assert states == {"dry_run": count}, states
    assert linked == brand == count, (linked, brand, count)
    assert answered == len(set(targets)), (answered, len(set(targets)))
    assert totals["dry_run"] == count, totals
    run.stages.append(Stage("3 deliver (dry run)", count, "replies", seconds, runs))
    run.facts["replies"] = {
        "job_runs": runs,
        "tasks_replied": len(set(targets)),
        "brand_mentions_stored": brand,
        "tasks_with_first_response": answered,
        "reply_sent_events": reply_events,
        "report_totals": dict(totals),
    }


def bench_database(
    kind: str,
    url: str,
    location: str,
    burst: list[MentionCreate],
    args: argparse.Namespace,
    model: VaderModel,
) -> DatabaseRun:
    """Migrate the fresh database at `url`, then run the three steps on it."""
    settings = Settings(database_url=url, dry_run_replies=True)
    engine = make_engine(settings.database_url)
    try:
        factory = make_session_factory(engine)
        load = loadavg()
        t0 = time.perf_counter()
        upgrade(engine)
        run = DatabaseRun(kind, server_version(engine), location, time.perf_counter() - t0)
        run.load_before = load
        run.server_settings = server_settings(engine)
        bench_tasks(run, factory, settings, burst, model)
        subscriptions = bench_webhooks(run, factory, settings, args.events)
        _disable(factory, subscriptions)
        bench_replies(run, factory, settings, args.replies)
        run.load_after = loadavg()
        return run
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def print_run(run: DatabaseRun, out: TextIO) -> None:
    """A table for one database, then what the checks counted."""
    print(f"\n== {run.database}: {run.server_version}", file=out)
    print(f"   {run.location}; migrate to head {run.migrate_seconds:.2f} s", file=out)
    print("   " + ", ".join(f"{k}={v}" for k, v in run.server_settings.items()), file=out)
    print(f"   load avg before {run.load_before}, after {run.load_after}", file=out)
    print(
        f"   {'stage':<36}{'items':>7} {'unit':<11}{'runs':>6}{'seconds':>9}{'per second':>12}",
        file=out,
    )
    for s in run.stages:
        print(
            f"   {s.name:<36}{s.items:>7} {s.unit:<11}{s.runs:>6}{s.seconds:>9.2f}{s.rate:>12,.1f}",
            file=out,
        )
    t = run.facts["tasks"]
    print(
        f"   1: labels {t['labels']}; tasks {t['tasks_in_db']} (opened {t['opened']}), "
        f"attached {t['attached']}, reopened {t['reopened']};",
        file=out,
    )
    print(
        f"      mentions in tasks {t['mentions_in_tasks']}, without a task "
        f"{t['mentions_without_task']}; mentions per task {t['mentions_per_task']}",
        file=out,
    )
    print(f"      webhook events emitted by engagement: {t['webhook_events_emitted']}", file=out)
    a = run.facts["webhooks_one"]
    print(
        f"   2a: receiver got {a['requests_received']} requests, {a['distinct_webhook_ids']} "
        f"distinct webhook-ids, {a['signatures_valid']} valid signatures; "
        f"{a['job_runs']} deliver_webhooks runs",
        file=out,
    )
    b = run.facts["webhooks_two"]
    print(
        f"   2b: healthy got {b['healthy_received']}; failing endpoint got "
        f"{b['failing_requests']} requests ({b['failing_distinct_ids']} distinct ids), "
        f"{b['job_runs']} runs ({b['idle_runs']} idle)",
        file=out,
    )
    retry = b["failing_next_retry_in_s"]
    if retry is None:
        when = "no retry scheduled"
    elif retry[0] < 0:
        # First attempts of other events are older, so they were claimed before these retries.
        when = f"retries due from {-retry[0]:g} s ago (next run) to in {retry[1]:g} s"
    else:
        when = f"retries due in {retry[0]:g} to {retry[1]:g} s"
    print(
        f"       failing deliveries: {b['failing_states']}, last codes "
        f"{b['failing_last_status_codes']}, {when}",
        file=out,
    )
    r = run.facts["replies"]
    print(
        f"   3: {r['tasks_replied']} tasks answered, {r['brand_mentions_stored']} brand mentions "
        f"stored, {r['tasks_with_first_response']} tasks with first_response_at, "
        f"{r['reply_sent_events']} reply.sent events; {r['job_runs']} deliver_replies runs",
        file=out,
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=10_000, help="negative mentions in the burst")
    parser.add_argument("--events", type=int, default=2000, help="webhook events per measurement")
    parser.add_argument("--replies", type=int, default=1000, help="replies to queue and deliver")
    parser.add_argument("--seed", type=int, default=42, help="generator seed")
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("SOCIALCRM_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL,
        help="server to create the throwaway database on (its database name is ignored)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    args = parser.parse_args(argv)
    args.databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    unknown = set(args.databases) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown database(s): {', '.join(sorted(unknown))}")
    if min(args.n, args.events, args.replies) < 1:
        parser.error("--n, --events and --replies must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # With --json the tables go to stderr so stdout stays machine-readable.
    out = sys.stderr if args.json else sys.stdout
    facts = machine_facts([("httpx", "httpx"), ("vader", "vaderSentiment")])
    print("social-crm engagement throughput", file=out)
    for key, value in facts.items():
        print(f"   {key:<11}{value}", file=out)

    t0 = time.perf_counter()
    burst, shape = generate_burst(args.n, args.seed, utcnow() - timedelta(minutes=1))
    print(
        f"   data       {shape.mentions} negative mentions over {BURST_SPAN}, seed {args.seed}: "
        f"{shape.authors} authors, {shape.starters} threads, {shape.replies} replies "
        f"({shape.follow_ups} by the thread's author), {shape.by_platform} "
        f"(built in {time.perf_counter() - t0:.1f} s, untimed)",
        file=out,
    )
    print(f"   events     {args.events} per webhook measurement; replies {args.replies}", file=out)
    t0 = time.perf_counter()
    model = VaderModel()
    print(f"   model      VADER built in {time.perf_counter() - t0:.2f} s (untimed)", file=out)

    runs: list[DatabaseRun] = []
    skipped: dict[str, str] = {}
    for kind in args.databases:
        fresh = fresh_sqlite() if kind == "sqlite" else fresh_postgres(args.postgres_url)
        try:
            with fresh as (url, location):
                run = bench_database(kind, url, location, burst, args, model)
        except (Unavailable, ConfigError) as exc:
            if kind != "postgresql":
                raise
            safe = make_url(args.postgres_url).render_as_string(hide_password=True)
            skipped[kind] = str(exc)
            print(f"\n== {kind}: SKIPPED, server {safe} unreachable: {exc}", file=out)
            continue
        runs.append(run)
        print_run(run, out)

    print(
        "\n   runs = job runs (deliver_*) or committed batches (ingest 1000, score "
        f"{Settings(database_url='sqlite://').score_batch_size}, engage 500, queue 100);\n"
        "   the webhook receiver is a ThreadingHTTPServer in this same process (it shares the "
        "GIL and the 2 cores).",
        file=out,
    )
    if args.json:
        summary = {
            "n": args.n,
            "events": args.events,
            "replies": args.replies,
            "seed": args.seed,
            "machine": facts,
            "burst": asdict(shape),
            "skipped": skipped,
            "runs": [
                {
                    **{k: v for k, v in asdict(r).items() if k != "stages"},
                    "stages": [{**asdict(s), "rate_per_s": round(s.rate, 1)} for s in r.stages],
                }
                for r in runs
            ],
        }
        print(json.dumps(summary, indent=2, default=str))
    return 0 if runs else 1


if __name__ == "__main__":
    sys.exit(main())
