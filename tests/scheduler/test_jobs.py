from __future__ import annotations

from sqlalchemy import func, select

from collectors import service as collect
from engagement.models import ResponseTask
from scheduler import jobs
from sentiment.fake import FakeModel
from sentiment.models import SentimentResult
from tests.conftest import mention


def test_score_then_engage_jobs_commit_their_work(session_factory, settings, session):
    collect.ingest(
        session, [mention(str(i), "this is terrible", thread_id=str(i)) for i in range(5)]
    )
    session.commit()
    settings.score_batch_size = 2
    score = jobs.score_pending(session_factory, settings, model=FakeModel())
    assert score.scored == 5
    engage = jobs.engage_pending(session_factory, settings)
    assert engage.opened == 5
    with session_factory() as check:
        assert check.scalar(select(func.count(SentimentResult.id))) == 5
        assert check.scalar(select(func.count(ResponseTask.id))) == 5


def test_score_job_stops_after_max_batches(session_factory, settings, session):
    collect.ingest(session, [mention(str(i), "ok") for i in range(10)])
    session.commit()
    settings.score_batch_size = 2
    report = jobs.score_pending(session_factory, settings, model=FakeModel(), max_batches=3)
    assert report.scored == 6


def test_process_pending_drains_both_stages(session_factory, settings, session):
    collect.ingest(session, [mention("1", "awful"), mention("2", "great")])
    session.commit()
    report = jobs.process_pending(session_factory, settings, model=FakeModel())
    assert report.score.scored == 2
    assert report.engage.examined == 2 and report.engage.opened == 1
