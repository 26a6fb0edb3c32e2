"""The one place jobs are registered, each with a stable id."""

from __future__ import annotations

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from scheduler import jobs

SCORE_JOB_ID = "score:pending"
ENGAGE_JOB_ID = "engage:pending"


def register_jobs(
    scheduler: BackgroundScheduler, session_factory: sessionmaker[Session], settings: Settings
) -> list[str]:
    """Add the pipeline jobs; re-registering replaces them instead of duplicating."""
    common = {
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": 60,
        "replace_existing": True,
    }
    scheduler.add_job(
        jobs.score_pending,
        IntervalTrigger(seconds=settings.score_interval_seconds),
        id=SCORE_JOB_ID,
        name="score unscored mentions",
        kwargs={"session_factory": session_factory, "settings": settings},
        **common,
    )
    scheduler.add_job(
        jobs.engage_pending,
        IntervalTrigger(seconds=settings.engage_interval_seconds),
        id=ENGAGE_JOB_ID,
        name="open tasks for scored mentions",
        kwargs={"session_factory": session_factory, "settings": settings},
        **common,
    )
    return [SCORE_JOB_ID, ENGAGE_JOB_ID]


def build_scheduler(
    session_factory: sessionmaker[Session], settings: Settings
) -> BackgroundScheduler:
    """An in-process scheduler with every job registered (not yet started)."""
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True})
    register_jobs(scheduler, session_factory, settings)
    return scheduler
