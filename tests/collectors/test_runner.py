"""The shared collection run: batches with cursors, crash safety, rate limits, backoff, budget."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from collectors import repository
from collectors import service as sources
from collectors.base import AuthFailed, Batch, RateLimited, TransientError
from collectors.models import Mention, Source
from collectors.runner import run_source
from collectors.schemas import SourceCreate
from core.db import unit_of_work
from core.timeutil import utcnow
from tests.conftest import mention


class Paged:
    """A fake platform with numbered pages of two mentions; can fail at a given page."""

    platform = "file"

    def __init__(self, pages=3, fail_at=None, error=None):
        self.pages = pages
        self.fail_at = fail_at
        self.error = error
        self.seen_cursors = []

    def close(self):
        self.closed = True

    def fetch(self, cursor, budget):
        self.seen_cursors.append(dict(cursor))
        page = cursor.get("page", 0) + 1
        if page == self.fail_at:
            raise self.error
        if page > self.pages:
            return Batch([], cursor, more=False)
        items = [mention(f"{page}-{i}", f"page {page} item {i}") for i in range(2)]
        return Batch(items, {"page": page}, more=page < self.pages)


@pytest.fixture
def source_id(session_factory, tmp_path):
    with unit_of_work(session_factory) as session:
        source = sources.create_source(
            session,
            SourceCreate(name="t", platform="file", config={"path": str(tmp_path)}),
        )
        return source.id


def _source(session_factory, source_id):
    with session_factory() as session:
        return session.get(Source, source_id)


def _count(session_factory):
    with session_factory() as session:
        return session.scalar(select(func.count(Mention.id)))


def test_pages_are_stored_with_their_cursor(session_factory, settings, source_id):
    fake = Paged(pages=3)
    result = run_source(session_factory, settings, source_id, collector=fake)
    assert (result.status, result.fetched, result.inserted, result.requests) == ("ok", 6, 6, 3)
    assert fake.seen_cursors == [{}, {"page": 1}, {"page": 2}]
    assert fake.closed is True
    with session_factory() as session:
        assert repository.get_cursor(session, source_id) == {"page": 3}
        mention_row = session.scalar(select(Mention).limit(1))
        assert mention_row.source_id == source_id
    src = _source(session_factory, source_id)
    assert (src.status, src.items_fetched, src.last_run_items) == ("ok", 6, 6)
    assert src.last_success_at is not None and src.last_error is None


def test_rerun_continues_from_the_cursor_and_adds_nothing_twice(
    session_factory, settings, source_id
):
    run_source(session_factory, settings, source_id, collector=Paged(pages=2))
    again = Paged(pages=2)
    result = run_source(session_factory, settings, source_id, collector=again)
    assert again.seen_cursors == [{"page": 2}]
    assert result.inserted == 0
    assert _count(session_factory) == 4


def test_crash_mid_run_keeps_committed_pages_and_resumes(session_factory, settings, source_id):
    class Crash(BaseException):
        pass

    with pytest.raises(Crash):
        run_source(
            session_factory, settings, source_id, collector=Paged(pages=3, fail_at=2, error=Crash())
        )
    assert _count(session_factory) == 2
    resumed = Paged(pages=3)
    result = run_source(session_factory, settings, source_id, collector=resumed)
    assert resumed.seen_cursors[0] == {"page": 1}
    assert result.inserted == 4 and _count(session_factory) == 6


def test_rate_limit_stops_early_keeps_cursor_and_waits_for_reset(
    session_factory, settings, source_id
):
    reset = datetime(2030, 1, 1, 12, 0)
    fake = Paged(pages=3, fail_at=2, error=RateLimited("429", retry_at=reset))
    result = run_source(session_factory, settings, source_id, collector=fake)
    assert (result.status, result.retry_at, result.fetched) == ("rate_limited", reset, 2)
    src = _source(session_factory, source_id)
    assert (src.status, src.next_run_at) == ("rate_limited", reset)
    assert "429" in src.last_error
    waiting = run_source(session_factory, settings, source_id, collector=Paged())
    assert waiting.status == "skipped" and waiting.retry_at == reset
    after = run_source(session_factory, settings, source_id, collector=Paged(), now=lambda: reset)
    assert after.status == "ok" and _count(session_factory) == 6


def test_transient_errors_back_off_exponentially(session_factory, settings, source_id):
    delays = []
    for _ in range(3):
        before = utcnow()
        result = run_source(
            session_factory,
            settings,
            source_id,
            collector=Paged(fail_at=1, error=TransientError("503 Service Unavailable")),
            force=True,
        )
        assert result.status == "retrying"
        delays.append(result.retry_at - before)
    assert _source(session_factory, source_id).failures == 3
    # Full jitter keeps each delay in [base*2^(n-1)/2, base*2^(n-1)].
    assert timedelta(seconds=15) <= delays[0] <= timedelta(seconds=31)
    assert timedelta(seconds=60) <= delays[2] <= timedelta(seconds=121)
    ok = run_source(session_factory, settings, source_id, collector=Paged(pages=1), force=True)
    assert ok.status == "ok" and _source(session_factory, source_id).failures == 0


def test_auth_failure_disables_the_source_with_a_visible_error(
    session_factory, settings, source_id
):
    result = run_source(
        session_factory,
        settings,
        source_id,
        collector=Paged(fail_at=1, error=AuthFailed("401 Unauthorized: bad bearer token")),
    )
    assert result.status == "disabled"
    src = _source(session_factory, source_id)
    assert src.enabled is False and src.status == "disabled"
    assert src.last_error == "AuthFailed: 401 Unauthorized: bad bearer token"
    assert run_source(session_factory, settings, source_id, collector=Paged()).status == "skipped"


def test_unexpected_collector_bug_is_retried_not_fatal(session_factory, settings, source_id):
    result = run_source(
        session_factory, settings, source_id, collector=Paged(fail_at=1, error=KeyError("id"))
    )
    assert result.status == "retrying" and "KeyError" in result.error


def test_budget_caps_one_run(session_factory, settings, source_id):
    settings.collect_max_requests_per_run = 2
    result = run_source(session_factory, settings, source_id, collector=Paged(pages=5))
    assert result.requests == 2 and result.fetched == 4
    settings.collect_max_requests_per_run = 50
    settings.collect_max_items_per_run = 3
    result = run_source(session_factory, settings, source_id, collector=Paged(pages=5))
    assert result.fetched == 4  # a page is never split; the next run continues after it


def test_empty_platform_is_a_successful_run(session_factory, settings, source_id):
    result = run_source(session_factory, settings, source_id, collector=Paged(pages=0))
    assert (result.status, result.fetched) == ("ok", 0)


def test_unknown_source(session_factory, settings):
    assert run_source(session_factory, settings, 987654).status == "not_found"
