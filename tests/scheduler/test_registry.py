"""Jobs in the SQLAlchemy job store: stable ids, no duplicates, schedules follow the sources."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from collectors import service as sources
from collectors.base import RateLimited
from collectors.models import Source
from collectors.schemas import SourceCreate, SourceUpdate
from core.db import unit_of_work
from scheduler import registry
from scheduler.context import JobContext
from scheduler.models import apscheduler_jobs


@pytest.fixture
def sched(engine, committing_factory, settings, tmp_path):
    settings.collect_max_requests_per_run = 5
    scheduler = registry.build_scheduler(engine, JobContext(committing_factory, settings))
    scheduler.start(paused=True)
    yield scheduler
    scheduler.shutdown(wait=False)


def _add_source(factory, tmp_path, **kw):
    data = {"name": "drop", "platform": "file", "config": {"path": str(tmp_path)}}
    data.update(kw)
    with unit_of_work(factory) as session:
        return sources.create_source(session, SourceCreate.model_validate(data)).id


def _stored_ids(engine):
    with engine.connect() as conn:
        return sorted(conn.scalars(select(apscheduler_jobs.c.id)))


def test_fixed_jobs_are_stored_once_with_stable_ids(engine, sched, committing_factory, settings):
    expected = sorted(
        [
            registry.SCORE_JOB_ID,
            registry.ENGAGE_JOB_ID,
            registry.SYNC_JOB_ID,
            registry.WEBHOOKS_JOB_ID,
            registry.REPLIES_JOB_ID,
            registry.ESCALATE_JOB_ID,
            registry.RECOVERY_JOB_ID,
        ]
    )
    assert _stored_ids(engine) == expected
    registry.register_jobs(sched, JobContext(committing_factory, settings))
    assert _stored_ids(engine) == expected
    job = sched.get_job(registry.SCORE_JOB_ID)
    assert job.coalesce is True and job.max_instances == 1


def test_a_restarted_scheduler_reuses_the_stored_jobs(engine, sched, committing_factory, settings):
    sched.shutdown(wait=False)
    again = registry.build_scheduler(engine, JobContext(committing_factory, settings))
    again.start(paused=True)
    try:
        assert len(_stored_ids(engine)) == 7
    finally:
        again.shutdown(wait=False)
    sched.start(paused=True)


def test_sync_follows_sources(engine, sched, committing_factory, tmp_path):
    source_id = _add_source(committing_factory, tmp_path, schedule_seconds=600)
    job_id = registry.collect_job_id(source_id)
    assert registry.sync_sources(sched) == {"added": 1, "rescheduled": 0, "removed": 0}
    assert job_id in _stored_ids(engine)
    assert sched.get_job(job_id).trigger.interval == timedelta(seconds=600)

    with unit_of_work(committing_factory) as session:
        sources.update_source(session, source_id, SourceUpdate(schedule_seconds=120))
    assert registry.sync_sources(sched)["rescheduled"] == 1
    assert sched.get_job(job_id).trigger.interval == timedelta(seconds=120)

    with unit_of_work(committing_factory) as session:
        sources.update_source(session, source_id, SourceUpdate(enabled=False))
    assert registry.sync_sources(sched)["removed"] == 1
    assert job_id not in _stored_ids(engine)

    with unit_of_work(committing_factory) as session:
        sources.update_source(session, source_id, SourceUpdate(enabled=True))
    registry.sync_sources(sched)
    with unit_of_work(committing_factory) as session:
        sources.delete_source(session, source_id)
    assert registry.sync_sources(sched)["removed"] == 1
    assert registry.sync_sources(sched) == {"added": 0, "rescheduled": 0, "removed": 0}


def test_rate_limited_run_moves_the_next_run_to_the_reset(
    engine, sched, committing_factory, tmp_path, monkeypatch
):
    source_id = _add_source(committing_factory, tmp_path)
    registry.sync_sources(sched)
    reset = datetime(2030, 1, 1, 12, 0, 0)

    class Limited:
        platform = "file"

        def close(self):
            pass

        def fetch(self, cursor, budget):
            raise RateLimited("429 Too Many Requests", retry_at=reset)

    monkeypatch.setattr("collectors.registry.build_collector", lambda *a, **k: Limited())
    registry.run_collect(source_id)
    job = sched.get_job(registry.collect_job_id(source_id))
    assert job.next_run_time == reset.replace(tzinfo=UTC)
    with unit_of_work(committing_factory) as session:
        source = session.scalar(select(Source).where(Source.id == source_id))
        assert (source.status, source.next_run_at) == ("rate_limited", reset)


def test_collect_now_pulls_the_run_forward(sched, committing_factory, tmp_path):
    source_id = _add_source(committing_factory, tmp_path, schedule_seconds=86_400)
    registry.sync_sources(sched)
    job_id = registry.collect_job_id(source_id)
    sched.get_job(job_id).modify(next_run_time=datetime(2031, 1, 1, tzinfo=UTC))
    registry.collect_now(sched, source_id)
    assert sched.get_job(job_id).next_run_time < datetime.now(UTC) + timedelta(seconds=5)


def test_a_scheduled_collection_stores_mentions(engine, sched, committing_factory, tmp_path):
    (tmp_path / "a.jsonl").write_text(
        '{"platform": "rss", "external_id": "n1", "text": "Lumen outage", '
        '"created_at": "2026-11-20T10:00:00Z"}\n'
    )
    source_id = _add_source(committing_factory, tmp_path)
    registry.sync_sources(sched)
    job = sched.get_job(registry.collect_job_id(source_id))
    assert (job.func_ref, job.kwargs) == (
        "scheduler.registry:run_collect",
        {"source_id": source_id},
    )
    registry.run_collect(**job.kwargs)
    with unit_of_work(committing_factory) as session:
        source = session.get(Source, source_id)
        assert (source.status, source.items_fetched) == ("ok", 1)


def test_lexicon_scoring_runs_in_the_thread_pool(sched):
    assert sched.get_job(registry.SCORE_JOB_ID).executor == "default"
    assert registry.model_in_worker(registry.get_context().settings) is False
