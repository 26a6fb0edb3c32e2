"""Replies: platform limits, the service, and the outbox job with a local fake sender.

The crash tests raise `Crash` (a BaseException, like the process being killed: nothing in the
job catches it) at the points where a real process could die, then run the job again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from collectors import service as collect
from collectors.base import AuthFailed, RateLimited, TransientError
from collectors.models import Author, Mention
from core.db import make_engine, make_session_factory, unit_of_work
from core.errors import ConflictError, InvalidError, NotFoundError
from core.migrate import upgrade
from core.settings import get_settings
from engagement import repository as task_repo
from engagement import templates
from engagement.models import Reply, ResponseTask, TaskEvent, TaskMention, WebhookEvent
from engagement.replies import jobs, limits, service
from engagement.replies import repository as repo
from engagement.replies.schemas import SentResult
from engagement.replies.senders import DeliveryUncertain, SendRejected
from engagement.schemas import ReplyTemplateCreate
from engagement.service import engage_pending, lock
from sentiment.fake import FakeModel
from sentiment.service import score_all_pending
from tests.conftest import mention

T0 = datetime(2026, 11, 20, 10, 0, 0)
NOW = datetime(2026, 11, 20, 12, 0, 0)
TWEET = "2123717988971446272"


class Crash(BaseException):
    """The process dies here (not an Exception: no handler in the job sees it)."""


class Clock:
    """A settable utcnow for the service and the job."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock(NOW)
    monkeypatch.setattr(service, "utcnow", c)
    monkeypatch.setattr(jobs, "utcnow", c)
    return c


class FakeSender:
    """A platform in memory: posts are kept, so `find_sent` sees what earlier attempts posted.

    Each queued outcome is used by one `send`: "ok"; an exception (raised before anything is
    posted); or ("post", exception): the post is made, then the answer is lost.
    """

    def __init__(self, *outcomes: Any, platform: str = "twitter") -> None:
        self.platform = platform
        self.outcomes = list(outcomes)
        self.posts: list[tuple[str, str, str]] = []  # (external id, parent id, text)
        self.send_calls = 0
        self.find_calls = 0
        self.closed = False

    def _post(self, reply: Reply, parent: Mention) -> SentResult:
        external_id = str(9_000_000_000_000_000_000 + len(self.posts))
        self.posts.append((external_id, parent.external_id, reply.body))
        return self._result(external_id, reply.body)

    def _result(self, external_id: str, text: str) -> SentResult:
        return SentResult(
            external_id=external_id,
            url=f"https://x.com/i/web/status/{external_id}",
            created_at=NOW,
            text=text,
            author=collect_author(),
        )

    def send(self, reply: Reply, parent: Mention) -> SentResult:
        self.send_calls += 1
        outcome: Any = self.outcomes.pop(0) if self.outcomes else "ok"
        if outcome == "ok":
            return self._post(reply, parent)
        if isinstance(outcome, tuple):
            self._post(reply, parent)
            raise outcome[1]
        raise outcome

    def find_sent(self, reply: Reply, parent: Mention) -> SentResult | None:
        self.find_calls += 1
        for external_id, parent_id, text in self.posts:
            if parent_id == parent.external_id and text == reply.body:
                return self._result(external_id, text)
        return None

    def close(self) -> None:
        self.closed = True


def collect_author() -> Any:
    from collectors.schemas import AuthorIn

    return AuthorIn(id="1072250532645998596", handle="LumenSupport")


def seed_task(
    session: Any,
    external_id: str = TWEET,
    *,
    platform: str = "twitter",
    text: str = "my order is broken",
    created_at: datetime = T0,
    **fields: Any,
) -> tuple[ResponseTask, Mention]:
    """A task over one customer mention (stored, flushed)."""
    collect.ingest(
        session,
        [
            mention(
                external_id,
                text,
                platform=platform,
                created_at=created_at,
                author={"id": f"u{external_id}", "handle": "ann"},
                **fields,
            )
        ],
    )
    found = repo.mention_by_external_id(session, platform, external_id)
    assert found is not None
    task = task_repo.add_task(
        session,
        ResponseTask(
            thread_key=f"{platform}:mention:{external_id}",
            status="new",
            priority=2,
            reason="negative",
            author_id=found.author_id,
            due_at=created_at + timedelta(hours=1),
            last_mention_at=created_at,
        ),
    )
    task_repo.add_task_mention(session, task.id, found.id)
    session.flush()
    return task, found


def queue(session: Any, task: ResponseTask, body: str = "Sorry, we are on it", **kw: Any) -> Reply:
    """Queue a reply to the task's latest mention and commit it."""
    reply = service.create_reply(
        session, task_id=task.id, mention_id=None, body=body, author="agent-1", **kw
    )
    session.commit()
    return reply


def fresh(session: Any, reply_id: int) -> Reply:
    session.expire_all()
    reply = session.get(Reply, reply_id)
    assert reply is not None
    return reply


def events(session: Any, task_id: int) -> list[str]:
    stmt = select(TaskEvent.type).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)
    return list(session.scalars(stmt))


def webhook_events(session: Any, event_type: str) -> list[dict[str, Any]]:
    stmt = select(WebhookEvent.payload).where(WebhookEvent.type == event_type)
    return list(session.scalars(stmt.order_by(WebhookEvent.id)))


def reply_count(session: Any) -> int:
    return session.scalar(select(func.count(Reply.id))) or 0


# --- limits -----------------------------------------------------------------------------------


def test_x_counts_ascii_one_each_up_to_280():
    assert limits.weighted_length("a" * 280) == 280
    limits.validate_reply("twitter", "a" * 280)
    with pytest.raises(InvalidError, match="281 characters as X counts them; X allows 280"):
        limits.validate_reply("twitter", "a" * 281)


def test_x_counts_every_url_as_23():
    long_url = "https://example.com/" + "p" * 200
    assert limits.weighted_length(long_url) == 23
    assert limits.weighted_length(f"see {long_url} thanks") == 4 + 23 + 7
    assert limits.weighted_length("go to www.lumen.example.com/help.") == 6 + 23 + 1
    assert limits.weighted_length("visit lumen.com today") == 6 + 23 + 6
    assert limits.weighted_length("(https://x.com/a_(b))") == 1 + 23 + 1
    # Not URLs: an e-mail address and a file name.
    assert limits.weighted_length("mail ann@lumen.com") == 18
    assert limits.weighted_length("see setup.py") == 12
    # 10 URLs of any length + 9 spaces: far under the limit although 2,000+ characters long.
    limits.validate_reply("twitter", " ".join([long_url] * 10))


def test_x_counts_cjk_and_emoji_as_two():
    assert limits.weighted_length("日本語") == 6
    assert limits.weighted_length("한국어") == 6
    assert limits.weighted_length("👍") == 2
    assert limits.weighted_length("👨\u200d👩\u200d👧\u200d👦") == 2  # one ZWJ family emoji
    assert limits.weighted_length("👍🏽") == 2  # with a skin tone
    assert limits.weighted_length("🇫🇷") == 2
    assert limits.weighted_length("é") == 1 and limits.weighted_length("e\u0301") == 1  # NFC
    assert limits.weighted_length("“ok” — fine") == 11  # quotes and dashes weigh 1
    limits.validate_reply("twitter", "謝" * 140)
    with pytest.raises(InvalidError, match="282 characters"):
        limits.validate_reply("twitter", "謝" * 141)


def test_reddit_allows_10000_characters():
    limits.validate_reply("reddit", "x" * 10_000)
    with pytest.raises(InvalidError, match="10001 characters; Reddit comments allow 10000"):
        limits.validate_reply("reddit", "x" * 10_001)


@pytest.mark.parametrize(
    ("platform", "message"),
    [
        ("appstore", "App Store reviews cannot be answered from here"),
        ("googleplay", "Google Play reviews cannot be answered from here"),
        ("rss", "RSS/Atom feed items cannot be answered from here"),
        ("file", "Mentions imported from files cannot be answered from here"),
        ("other", "Mentions from other sources cannot be answered from here"),
    ],
)
def test_reviews_and_feeds_cannot_be_answered(platform, message):
    with pytest.raises(InvalidError) as exc:
        limits.validate_reply(platform, "Thanks for the review")
    assert str(exc.value) == message


def test_empty_body_is_refused():
    with pytest.raises(InvalidError, match="reply body is empty"):
        limits.validate_reply("twitter", " \n\t ")


# --- service ----------------------------------------------------------------------------------


def test_create_reply_stores_a_pending_reply_and_an_event(session, clock):
    task, target = seed_task(session)
    reply = queue(session, task)
    assert (reply.status, reply.attempts, reply.platform, reply.mention_id) == (
        "pending",
        0,
        "twitter",
        target.id,
    )
    assert reply.next_attempt_at == NOW and reply.created_at == NOW
    assert len(reply.idempotency_key) == 32 and int(reply.idempotency_key, 16) >= 0
    assert reply.author == "agent-1" and reply.dry_run is False
    event = session.scalars(select(TaskEvent).where(TaskEvent.task_id == task.id)).one()
    assert (event.type, event.actor) == ("reply_queued", "agent-1")
    assert event.data == {
        "reply_id": reply.id,
        "mention_id": target.id,
        "dry_run": False,
        "template_id": None,
    }
    assert [r.id for r in service.list_replies(session, task.id)] == [reply.id]


def test_default_mention_is_the_latest_customer_mention(session, clock):
    task, first = seed_task(session)
    collect.ingest(
        session,
        [
            mention("2123718000000000001", "still broken", created_at=T0 + timedelta(minutes=5)),
            mention(
                "2123718000000000002",
                "we are looking",
                created_at=T0 + timedelta(minutes=9),
                is_brand=True,
            ),
        ],
    )
    later = repo.mention_by_external_id(session, "twitter", "2123718000000000001")
    brand = repo.mention_by_external_id(session, "twitter", "2123718000000000002")
    task_repo.add_task_mention(session, task.id, later.id)
    task_repo.add_task_mention(session, task.id, brand.id)
    session.flush()
    reply = queue(session, task)
    assert reply.mention_id == later.id
    explicit = service.create_reply(
        session, task_id=task.id, mention_id=first.id, body="hi", author="a"
    )
    assert explicit.mention_id == first.id


def test_create_reply_refusals_store_nothing(session, clock):
    task, _target = seed_task(session)
    review_task, _review = seed_task(
        session, "rev-1", platform="appstore", text="crashes", rating=1
    )
    _other_task, other = seed_task(session, "2123718000000000009")
    with pytest.raises(InvalidError, match="App Store reviews cannot be answered from here"):
        service.create_reply(
            session, task_id=review_task.id, mention_id=None, body="Sorry", author="a"
        )
    with pytest.raises(InvalidError, match="281 characters"):
        service.create_reply(session, task_id=task.id, mention_id=None, body="a" * 281, author="a")
    with pytest.raises(InvalidError, match=f"mention {other.id} is not part of task {task.id}"):
        service.create_reply(session, task_id=task.id, mention_id=other.id, body="x", author="a")
    with pytest.raises(NotFoundError, match="task 999999 not found"):
        service.create_reply(session, task_id=999_999, mention_id=None, body="x", author="a")
    with pytest.raises(NotFoundError, match="mention 999999 not found"):
        service.create_reply(session, task_id=task.id, mention_id=999_999, body="x", author="a")
    assert reply_count(session) == 0
    assert events(session, task.id) == []


def test_task_without_customer_mention_cannot_be_answered_by_default(session, clock):
    task = task_repo.add_task(
        session,
        ResponseTask(thread_key="twitter:mention:none", reason="negative", last_mention_at=T0),
    )
    with pytest.raises(InvalidError, match="has no customer mention to reply to"):
        service.create_reply(session, task_id=task.id, mention_id=None, body="x", author="a")


def test_reply_from_a_template_is_filled_for_the_task(session, clock):
    task, _ = seed_task(session)
    template = templates.create_template(
        session, ReplyTemplateCreate(name="sorry", body="Hi {handle}, {agent} here: sorry!")
    )
    reply = service.create_reply(
        session,
        task_id=task.id,
        mention_id=None,
        body=None,
        template_id=template.id,
        author="Maya",
    )
    assert reply.body == "Hi @ann, Maya here: sorry!"
    assert events(session, task.id) == ["reply_queued"]


def test_cancel_only_pending_replies(session, clock):
    task, _ = seed_task(session)
    reply = queue(session, task)
    cancelled = service.cancel_reply(session, reply.id, "agent-2")
    assert (cancelled.status, cancelled.next_attempt_at) == ("cancelled", None)
    assert events(session, task.id) == ["reply_queued", "reply_cancelled"]
    with pytest.raises(ConflictError, match="is cancelled: only pending replies can be cancelled"):
        service.cancel_reply(session, reply.id, "agent-2")
    with pytest.raises(NotFoundError):
        service.cancel_reply(session, 999_999, "agent-2")


def test_claim_is_conditional_on_what_was_read(session, clock):
    task, _ = seed_task(session)
    reply = queue(session, task)
    (seen,) = repo.due_replies(session, NOW, 10)
    stale_status, stale_attempts = seen.status, seen.attempts
    claimed = repo.claim(session, seen, lease_until=NOW + timedelta(minutes=10), now=NOW)
    assert claimed is not None and (claimed.status, claimed.attempts) == ("sending", 1)
    # A second worker that read the row before the first claimed it gets nothing.
    other = Reply(id=reply.id, status=stale_status, attempts=stale_attempts)
    assert repo.claim(session, other, lease_until=NOW, now=NOW) is None
    assert repo.due_replies(session, NOW, 10) == []


# --- the outbox job ---------------------------------------------------------------------------


def test_outbox_sends_and_stores_the_brand_mention(session, session_factory, settings, clock):
    task, target = seed_task(session, thread_id="2123717000000000000")
    reply = queue(session, task)
    sender = FakeSender()
    report = jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    assert (report.claimed, report.sent, report.failed, report.sent_ids) == (1, 1, 0, [reply.id])
    assert sender.send_calls == 1 and sender.find_calls == 0
    assert sender.posts == [("9000000000000000000", TWEET, "Sorry, we are on it")]
    reply = fresh(session, reply.id)
    assert (reply.status, reply.attempts, reply.external_id) == ("sent", 1, "9000000000000000000")
    assert reply.sent_at == NOW and reply.next_attempt_at is None and reply.last_error is None
    sent = session.get(Mention, reply.sent_mention_id)
    assert sent.is_brand is True and sent.platform == "twitter"
    assert (sent.external_id, sent.text, sent.kind) == ("9000000000000000000", reply.body, "reply")
    assert (sent.thread_id, sent.in_reply_to_id) == ("2123717000000000000", target.external_id)
    assert sent.url == "https://x.com/i/web/status/9000000000000000000"
    brand = session.get(Author, sent.author_id)
    assert (brand.platform_user_id, brand.handle) == ("1072250532645998596", "LumenSupport")
    # The brand's reply is part of the conversation, not one of the task's customer mentions.
    assert session.scalar(select(TaskMention).where(TaskMention.mention_id == sent.id)) is None
    task = session.get(ResponseTask, task.id)
    assert task.first_response_at == NOW
    assert events(session, task.id) == ["reply_queued", "reply_sent"]
    event = session.scalars(
        select(TaskEvent).where(TaskEvent.task_id == task.id, TaskEvent.type == "reply_sent")
    ).one()
    assert event.data == {
        "reply_id": reply.id,
        "external_id": "9000000000000000000",
        "url": "https://x.com/i/web/status/9000000000000000000",
        "dry_run": False,
    }
    assert webhook_events(session, "reply.sent") == [
        {
            "reply_id": reply.id,
            "task_id": task.id,
            "customer_id": None,
            "mention_id": target.id,
            "platform": "twitter",
            "idempotency_key": reply.idempotency_key,
            "external_id": "9000000000000000000",
            "url": "https://x.com/i/web/status/9000000000000000000",
            "text": "Sorry, we are on it",
            "dry_run": False,
            "sent_at": "2026-11-20T12:00:00Z",
        }
    ]
    # Nothing left to do: a second run claims nothing and sends nothing.
    assert jobs.deliver_replies(session_factory, settings, {"twitter": sender}).claimed == 0
    assert sender.send_calls == 1


def test_first_response_at_is_kept_once_set(session, session_factory, settings, clock):
    task, _ = seed_task(session)
    task.first_response_at = T0 + timedelta(minutes=30)
    queue(session, task)
    jobs.deliver_replies(session_factory, settings, {"twitter": FakeSender()})
    session.expire_all()
    assert session.get(ResponseTask, task.id).first_response_at == T0 + timedelta(minutes=30)


def test_thread_of_a_root_mention_is_the_mention_itself(session, session_factory, settings, clock):
    task, _target = seed_task(session)  # no thread id
    reply = queue(session, task)
    jobs.deliver_replies(session_factory, settings, {"twitter": FakeSender()})
    sent = session.get(Mention, fresh(session, reply.id).sent_mention_id)
    assert (sent.thread_id, sent.in_reply_to_id) == (TWEET, TWEET)


def test_dry_run_reply_is_recorded_without_calling_the_platform(
    session, session_factory, settings, clock
):
    task, target = seed_task(session)
    reply = queue(session, task, dry_run=True)
    sender = FakeSender()
    report = jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    assert (report.sent, report.dry_run) == (0, 1)
    assert sender.send_calls == 0 and sender.find_calls == 0
    reply = fresh(session, reply.id)
    assert (reply.status, reply.external_id) == ("dry_run", f"dryrun-{reply.id}")
    sent = session.get(Mention, reply.sent_mention_id)
    assert (sent.is_brand, sent.external_id, sent.text) == (True, f"dryrun-{reply.id}", reply.body)
    assert sent.in_reply_to_id == target.external_id and sent.author_id is None
    assert session.get(ResponseTask, task.id).first_response_at == NOW
    (payload,) = webhook_events(session, "reply.sent")
    assert payload["dry_run"] is True and payload["external_id"] == f"dryrun-{reply.id}"


def test_dry_run_setting_holds_back_every_reply(session, session_factory, settings, clock):
    task, _ = seed_task(session)
    reply = queue(session, task)  # queued as a real reply
    settings.dry_run_replies = True
    sender = FakeSender()
    report = jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    assert report.dry_run == 1 and sender.send_calls == 0
    assert fresh(session, reply.id).status == "dry_run"


def test_transient_error_is_retried_with_backoff_then_sent(
    session, session_factory, settings, clock
):
    task, _ = seed_task(session)
    reply = queue(session, task)
    sender = FakeSender(TransientError("X unreachable: ConnectTimeout"), "ok")
    report = jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    assert (report.retried, report.sent, report.failed) == (1, 0, 0)
    reply = fresh(session, reply.id)
    assert (reply.status, reply.attempts) == ("pending", 1)
    assert reply.last_error == "X unreachable: ConnectTimeout"
    # backoff_delay(1, base=60): between 30 and 60 seconds.
    assert NOW + timedelta(seconds=30) <= reply.next_attempt_at <= NOW + timedelta(seconds=60)
    # Not due yet: nothing happens.
    assert jobs.deliver_replies(session_factory, settings, {"twitter": sender}).claimed == 0
    clock.advance(seconds=61)
    report = jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    assert (report.sent, report.recovered) == (1, 0)
    reply = fresh(session, reply.id)
    assert (reply.status, reply.attempts, reply.last_error) == ("sent", 2, None)
    assert sender.send_calls == 2 and len(sender.posts) == 1 and sender.find_calls == 0


def test_permanent_failure_keeps_the_platform_error(session, session_factory, settings, clock):
    task, target = seed_task(session)
    reply = queue(session, task)
    error = "X refused: HTTP 403: You are not allowed to create a Tweet with duplicate content."
    sender = FakeSender(SendRejected(error))
    report = jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    assert (report.failed, report.failed_ids, report.retried) == (1, [reply.id], 0)
    reply = fresh(session, reply.id)
    assert (reply.status, reply.last_error, reply.next_attempt_at) == ("failed", error, None)
    assert reply.sent_mention_id is None
    assert events(session, task.id) == ["reply_queued", "reply_failed"]
    assert webhook_events(session, "reply.failed") == [
        {
            "reply_id": reply.id,
            "task_id": task.id,
            "customer_id": None,
            "mention_id": target.id,
            "platform": "twitter",
            "idempotency_key": reply.idempotency_key,
            "error": error,
            "attempts": 1,
        }
    ]
    assert session.get(ResponseTask, task.id).first_response_at is None
    clock.advance(days=1)
    assert jobs.deliver_replies(session_factory, settings, {"twitter": sender}).claimed == 0


def test_auth_failure_is_permanent(session, session_factory, settings, clock):
    task, _ = seed_task(session)
    reply = queue(session, task)
    sender = FakeSender(AuthFailed("X refused the brand's credentials: HTTP 401: Unauthorized"))
    jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    reply = fresh(session, reply.id)
    assert reply.status == "failed"
    assert reply.last_error == "X refused the brand's credentials: HTTP 401: Unauthorized"


def test_missing_credentials_fail_the_reply_with_what_to_set(
    session, session_factory, settings, clock
):
    task, _ = seed_task(session)
    reply = queue(session, task)
    jobs.deliver_replies(session_factory, settings)  # no senders given: built from settings
    assert fresh(session, reply.id).last_error == (
        "X replies need credentials: set SOCIALCRM_X_CONSUMER_KEY, SOCIALCRM_X_CONSUMER_SECRET, "
        "SOCIALCRM_X_ACCESS_TOKEN, SOCIALCRM_X_ACCESS_TOKEN_SECRET"
    )


def test_gives_up_after_max_attempts(session, session_factory, settings, clock):
    settings.reply_max_attempts = 2
    task, _ = seed_task(session)
    reply = queue(session, task)
    sender = FakeSender(TransientError("X error: HTTP 502"), TransientError("X error: HTTP 502"))
    jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    assert fresh(session, reply.id).status == "pending"
    clock.advance(hours=2)
    report = jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    assert report.failed == 1
    reply = fresh(session, reply.id)
    assert (reply.status, reply.attempts) == ("failed", 2)
    assert reply.last_error == "gave up after 2 attempts: X error: HTTP 502"
    assert events(session, task.id) == ["reply_queued", "reply_failed"]


def test_rate_limit_waits_for_the_reset_and_never_fails(session, session_factory, settings, clock):
    settings.reply_max_attempts = 1
    task, _ = seed_task(session)
    reply = queue(session, task)
    reset = NOW + timedelta(minutes=15)
    sender = FakeSender(RateLimited("X rate limit (create_tweet)", reset))
    report = jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    assert (report.retried, report.failed) == (1, 0)
    reply = fresh(session, reply.id)
    assert (reply.status, reply.next_attempt_at) == ("pending", reset)
    clock.now = reset
    jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    assert fresh(session, reply.id).status == "sent"


def test_batches_until_nothing_is_due(session, session_factory, settings, clock):
    replies = []
    for n in range(5):
        task, _ = seed_task(session, f"212371798897144{n:04d}")
        replies.append(queue(session, task, body=f"reply {n}"))
    sender = FakeSender()
    report = jobs.deliver_replies(session_factory, settings, {"twitter": sender}, batch_size=2)
    assert (report.claimed, report.sent) == (5, 5)
    assert sorted(report.sent_ids) == [r.id for r in replies]
    assert [p[2] for p in sender.posts] == [f"reply {n}" for n in range(5)]


def test_unanswerable_row_fails_at_send_time(session, session_factory, settings, clock):
    _, review = seed_task(session, "rev-9", platform="appstore", text="bad", rating=1)
    session.add(
        Reply(
            mention_id=review.id,
            platform="appstore",
            body="sorry",
            author="legacy",
            status="pending",
            next_attempt_at=NOW,
            idempotency_key="k" * 32,
        )
    )
    session.commit()
    report = jobs.deliver_replies(session_factory, settings, {})
    assert report.failed == 1
    reply = session.scalars(select(Reply)).one()
    assert (reply.status, reply.last_error) == (
        "failed",
        "App Store reviews cannot be answered from here",
    )


# --- crashes: nothing lost, nothing sent twice ------------------------------------------------


def test_process_dies_between_storing_and_sending(
    session, session_factory, settings, clock, monkeypatch
):
    task, _ = seed_task(session)
    reply = queue(session, task)  # committed: the outbox row exists
    real_claim = service.claim_due

    def dies_before_commit(*args: Any, **kwargs: Any) -> Any:
        real_claim(*args, **kwargs)
        raise Crash

    sender = FakeSender()
    monkeypatch.setattr(jobs.service, "claim_due", dies_before_commit)
    with pytest.raises(Crash):
        jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    reply = fresh(session, reply.id)
    assert (reply.status, reply.attempts, reply.next_attempt_at) == ("pending", 0, NOW)
    assert sender.send_calls == 0

    monkeypatch.setattr(jobs.service, "claim_due", real_claim)
    report = jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    assert (report.sent, report.recovered) == (1, 0)
    assert jobs.deliver_replies(session_factory, settings, {"twitter": sender}).claimed == 0
    assert sender.send_calls == 1 and len(sender.posts) == 1
    assert fresh(session, reply.id).status == "sent"


def test_process_dies_while_sending_before_the_call(session, session_factory, settings, clock):
    task, _ = seed_task(session)
    reply = queue(session, task)
    sender = FakeSender(Crash())  # dies before the request leaves
    with pytest.raises(Crash):
        jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    reply = fresh(session, reply.id)
    assert (reply.status, reply.attempts) == ("sending", 1)
    assert reply.next_attempt_at == NOW + timedelta(minutes=10)

    # Still within the lease: another run leaves it alone (it could still be in flight).
    clock.advance(minutes=9)
    assert jobs.deliver_replies(session_factory, settings, {"twitter": sender}).claimed == 0

    clock.advance(minutes=2)
    report = jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    assert (report.recovered, report.reconciled, report.sent) == (1, 0, 1)
    # Looked first, found nothing, sent once.
    assert sender.find_calls == 1 and sender.send_calls == 2 and len(sender.posts) == 1
    reply = fresh(session, reply.id)
    assert (reply.status, reply.attempts) == ("sent", 2)
    assert events(session, task.id) == ["reply_queued", "reply_sent"]


def test_process_dies_after_the_post_before_recording_it(
    session, session_factory, settings, clock, monkeypatch
):
    task, _ = seed_task(session)
    reply = queue(session, task)
    sender = FakeSender()
    real_record = service.record_sent

    def dies(*args: Any, **kwargs: Any) -> Any:
        raise Crash

    monkeypatch.setattr(jobs.service, "record_sent", dies)
    with pytest.raises(Crash):
        jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    assert len(sender.posts) == 1
    assert fresh(session, reply.id).status == "sending"

    monkeypatch.setattr(jobs.service, "record_sent", real_record)
    clock.advance(minutes=11)
    report = jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    assert (report.recovered, report.reconciled, report.sent) == (1, 1, 1)
    assert sender.send_calls == 1 and len(sender.posts) == 1  # not posted again
    reply = fresh(session, reply.id)
    assert (reply.status, reply.external_id) == ("sent", "9000000000000000000")
    assert session.scalar(select(func.count(Mention.id)).where(Mention.is_brand)) == 1


def test_uncertain_outcome_is_checked_before_retrying(session, session_factory, settings, clock):
    task, _ = seed_task(session)
    first = queue(session, task, body="first")
    second = queue(session, task, body="second")
    # First: X created the tweet but the answer was lost. Second: nothing was created.
    sender = FakeSender(
        ("post", DeliveryUncertain("X connection failed: ReadTimeout")),
        DeliveryUncertain("X error: HTTP 503: Service Unavailable"),
    )
    report = jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    assert (report.retried, report.sent) == (2, 0)
    for reply_id in (first.id, second.id):
        reply = fresh(session, reply_id)
        # Kept "sending" so that the next attempt looks on the platform first.
        assert (reply.status, reply.attempts) == ("sending", 1)
        assert NOW + timedelta(seconds=30) <= reply.next_attempt_at <= NOW + timedelta(seconds=60)
    assert fresh(session, first.id).last_error == "X connection failed: ReadTimeout"

    clock.advance(minutes=2)
    report = jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    assert (report.recovered, report.reconciled, report.sent) == (2, 1, 2)
    assert sender.find_calls == 2 and sender.send_calls == 3
    assert [p[2] for p in sender.posts] == ["first", "second"]
    assert {fresh(session, r).status for r in (first.id, second.id)} == {"sent"}


def test_uncertain_until_the_last_attempt_says_so(session, session_factory, settings, clock):
    settings.reply_max_attempts = 1
    task, _ = seed_task(session)
    reply = queue(session, task)
    sender = FakeSender(DeliveryUncertain("X error: HTTP 500"))
    jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    assert fresh(session, reply.id).last_error == (
        "gave up after 1 attempts: X error: HTTP 500 (the last attempt may have been posted)"
    )


def test_unexpected_error_is_treated_as_uncertain(session, session_factory, settings, clock):
    task, _ = seed_task(session)
    reply = queue(session, task)
    sender = FakeSender(("post", KeyError("data")))
    jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    assert fresh(session, reply.id).status == "sending"
    clock.advance(minutes=5)
    jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    assert fresh(session, reply.id).status == "sent" and len(sender.posts) == 1


def test_outcome_of_a_reclaimed_attempt_is_dropped(session, session_factory, settings, clock):
    task, _ = seed_task(session)
    reply = queue(session, task)
    (_claim,) = service.claim_due(session, limit=5, lease=timedelta(minutes=10))
    session.commit()
    clock.advance(minutes=11)
    (again,) = service.claim_due(session, limit=5, lease=timedelta(minutes=10))
    session.commit()
    assert again.recovering and again.reply.attempts == 2
    result = SentResult("1", None, NOW, "x")
    # The first worker comes back late: its attempt (1) is no longer the reply's.
    assert service.record_sent(session, reply.id, 1, result, dry_run=False) is None
    assert (
        service.record_retry(session, reply.id, 1, error="x", retry_at=NOW, uncertain=False) is None
    )
    assert service.record_failure(session, reply.id, 1, error="x") is None
    assert fresh(session, reply.id).status == "sending"


# --- CLI (SQLite file, like tests/cli) --------------------------------------------------------


@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("SOCIALCRM_DATABASE_URL", url)
    monkeypatch.setenv("SOCIALCRM_DRY_RUN_REPLIES", "true")
    get_settings.cache_clear()
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as s:
        task, _ = seed_task(s)
        task_id = task.id
    yield factory, task_id
    engine.dispose()
    get_settings.cache_clear()


def test_cli_send_list_deliver_cancel(cli_db):
    from cli.replies import app

    factory, task_id = cli_db
    runner = CliRunner()
    sent = runner.invoke(app, ["send", str(task_id), "Sorry about that!"])
    assert sent.exit_code == 0, sent.output
    assert sent.output.startswith("1\ttwitter\tmention 1\tpending (dry run)\tattempts 0\t")
    queued = runner.invoke(app, ["send", str(task_id), "Second one", "--mention", "1"])
    assert queued.exit_code == 0
    cancelled = runner.invoke(app, ["cancel", "2"])
    assert "\tcancelled (dry run)\t" in cancelled.output
    delivered = runner.invoke(app, ["deliver"])
    assert delivered.stdout.strip().splitlines()[-1] == (
        "claimed 1, sent 0, dry run 1, found already posted 0, retry later 0, failed 0"
    )
    listed = runner.invoke(app, ["list", str(task_id)])
    lines = listed.output.strip().splitlines()
    assert lines[0].startswith("1\ttwitter\tmention 1\tdry_run (dry run)\tattempts 1\tdryrun-1\t")
    assert lines[1].startswith("2\ttwitter\tmention 1\tcancelled (dry run)\tattempts 0\t")
    too_long = runner.invoke(app, ["send", str(task_id), "a" * 281])
    assert too_long.exit_code == 1
    assert "error: reply is 281 characters as X counts them; X allows 280" in too_long.output
    assert runner.invoke(app, ["list", "99"]).exit_code == 1
    again = runner.invoke(app, ["cancel", "1"])
    assert again.exit_code == 1 and "only pending replies can be cancelled" in again.output
    with unit_of_work(factory) as s:
        assert reply_count(s) == 2


def test_a_failure_to_record_leaves_one_reply_for_recovery_and_goes_on(
    session, session_factory, settings, clock, monkeypatch
):
    task, _ = seed_task(session)
    first = queue(session, task, body="first")
    second = queue(session, task, body="second")
    real_record = service.record_sent
    calls: list[int] = []

    def flaky(s: Any, reply_id: int, *args: Any, **kwargs: Any) -> Any:
        calls.append(reply_id)
        if reply_id == first.id:
            raise RuntimeError("database went away")
        return real_record(s, reply_id, *args, **kwargs)

    monkeypatch.setattr(jobs.service, "record_sent", flaky)
    sender = FakeSender()
    report = jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    assert calls == [first.id, second.id] and report.sent_ids == [second.id]
    assert (fresh(session, first.id).status, fresh(session, second.id).status) == (
        "sending",
        "sent",
    )
    monkeypatch.setattr(jobs.service, "record_sent", real_record)
    clock.advance(minutes=11)
    report = jobs.deliver_replies(session_factory, settings, {"twitter": sender})
    assert (report.reconciled, report.sent_ids) == (1, [first.id])
    assert [p[2] for p in sender.posts] == ["first", "second"]


def test_senders_are_built_once_per_run(session, session_factory, settings, clock, monkeypatch):
    task, _ = seed_task(session)
    for n in range(3):
        queue(session, task, body=f"r{n}")
    built: list[str] = []
    sender = FakeSender()

    def factory(s: Any) -> FakeSender:
        built.append("twitter")
        return sender

    monkeypatch.setitem(jobs.FACTORIES, "twitter", factory)
    report = jobs.deliver_replies(session_factory, settings)
    assert report.sent == 3 and built == ["twitter"] and sender.closed is True


def test_missing_credentials_are_reported_once_per_run(
    session, session_factory, settings, clock, monkeypatch
):
    task, _ = seed_task(session)
    for n in range(2):
        queue(session, task, body=f"r{n}")
    attempts: list[str] = []

    def factory(s: Any) -> Any:
        attempts.append("twitter")
        raise AuthFailed("X replies need credentials: set SOCIALCRM_X_CONSUMER_KEY")

    monkeypatch.setitem(jobs.FACTORIES, "twitter", factory)
    report = jobs.deliver_replies(session_factory, settings)
    assert report.failed == 2 and attempts == ["twitter"]


def test_a_colleague_cannot_reply_while_the_task_is_locked(session):
    collect.ingest(session, [mention("l1", "this is terrible", thread_id="l1")])
    score_all_pending(session, FakeModel())
    engage_pending(session)
    task_id = session.scalar(select(ResponseTask.id))
    lock(session, task_id, "ana")
    with pytest.raises(ConflictError, match="ana"):
        service.create_reply(session, task_id=task_id, mention_id=None, body="Hi", author="ben")
    reply = service.create_reply(session, task_id=task_id, mention_id=None, body="Hi", author="ana")
    assert reply.status == "pending"
