"""The one place jobs are registered, each with a stable id.

Jobs live in APScheduler's SQLAlchemy job store in the service database, so schedules survive
restarts and a separate scheduler process sees them. The stored jobs reference the module-level
runners below by name and carry only plain parameters (a source id); the session factory and
settings come from `scheduler.context` of the process that runs them.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ProcessPoolExecutor, ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from collectors import service as collectors
from core.db import make_engine, make_session_factory, unit_of_work
from core.logging import configure_logging
from core.settings import Settings, get_settings
from core.timeutil import utcnow
from engagement.jobs import ESCALATE_INTERVAL_SECONDS, ESCALATE_JOB_ID, escalate_overdue
from engagement.recovery import jobs as recovery_jobs
from engagement.replies import jobs as reply_jobs
from engagement.webhooks import jobs as webhook_jobs
from scheduler import jobs
from scheduler.context import JobContext, get_context, set_context
from scheduler.models import JOBS_TABLE
from sentiment.categories import load_categoriser
from sentiment.classifier import load_model

log = logging.getLogger(__name__)

MODEL_EXECUTOR = "model"
SCORE_JOB_ID = "score:pending"
ENGAGE_JOB_ID = "engage:pending"
SYNC_JOB_ID = "collect:sync"
WEBHOOKS_JOB_ID = webhook_jobs.JOB_ID
REPLIES_JOB_ID = reply_jobs.JOB_ID
RECOVERY_JOB_ID = recovery_jobs.JOB_ID
SYNC_SECONDS = 60
COMMON: dict[str, Any] = {
    "coalesce": True,
    "max_instances": 1,
    "misfire_grace_time": 300,
    "replace_existing": True,
}


def model_in_worker(settings: Settings) -> bool:
    """Whether scoring runs in a worker process: the web process must never import torch."""
    return settings.sentiment_backend != "lexicon"


def init_model_worker() -> None:
    """Set up the scoring worker process (spawned: it starts with nothing of ours)."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    factory = make_session_factory(make_engine(settings.database_url))
    set_context(JobContext(factory, settings))
    # Load the models now, so the first scoring run does not pay for them.
    load_model(settings)
    load_categoriser(settings)


def collect_job_id(source_id: int) -> str:
    """Stable id of a source's collection job."""
    return f"collect:{source_id}"


def run_score() -> None:
    """Scheduled entry of `score:pending`."""
    ctx = get_context()
    jobs.score_pending(ctx.session_factory, ctx.settings)


def run_engage() -> None:
    """Scheduled entry of `engage:pending`."""
    ctx = get_context()
    jobs.engage_pending(ctx.session_factory, ctx.settings)


def run_collect(source_id: int) -> None:
    """Scheduled entry of `collect:<source_id>`; a rate limit or backoff moves its next run."""
    ctx = get_context()
    result = jobs.collect_source(ctx.session_factory, ctx.settings, source_id)
    if result.retry_at is not None and ctx.scheduler is not None:
        _run_at(ctx.scheduler, collect_job_id(source_id), result.retry_at)


def run_escalate() -> None:
    """Scheduled entry of `sla:escalate`: raise tasks whose SLA has passed."""
    ctx = get_context()
    escalate_overdue(ctx.session_factory, ctx.settings)


def run_recovery() -> None:
    """Scheduled entry of `recovery:evaluate`: measure service recovery on answered complaints."""
    ctx = get_context()
    recovery_jobs.evaluate_recovery(ctx.session_factory, ctx.settings)


def run_replies() -> None:
    """Scheduled entry of `outbox:replies`: post queued replies to the platforms."""
    ctx = get_context()
    reply_jobs.deliver_replies(ctx.session_factory, ctx.settings)


def run_webhooks() -> None:
    """Scheduled entry of `outbox:webhooks`: send due webhook deliveries to the CRM."""
    ctx = get_context()
    webhook_jobs.deliver_webhooks(ctx.session_factory, ctx.settings)


def run_sync() -> None:
    """Scheduled entry of `collect:sync`: make the collection jobs match the sources table."""
    ctx = get_context()
    if ctx.scheduler is not None:
        sync_sources(ctx.scheduler)


def _run_at(scheduler: BaseScheduler, job_id: str, when: datetime) -> None:
    job = scheduler.get_job(job_id)
    if job is not None:
        job.modify(next_run_time=_aware(when))


def sync_sources(scheduler: BaseScheduler) -> dict[str, int]:
    """Add, reschedule or remove `collect:<id>` jobs so they match the enabled sources."""
    ctx = get_context()
    with unit_of_work(ctx.session_factory) as session:
        wanted = {
            collect_job_id(s.id): (s.id, s.schedule_seconds, s.next_run_at)
            for s in collectors.list_sources(session, enabled=True)
        }
    existing = {j.id: j for j in scheduler.get_jobs() if j.id.startswith("collect:")}
    existing.pop(SYNC_JOB_ID, None)
    counts = {"added": 0, "rescheduled": 0, "removed": 0}
    for job_id, job in existing.items():
        if job_id not in wanted:
            job.remove()
            counts["removed"] += 1
    for job_id, (source_id, seconds, next_run_at) in wanted.items():
        job = existing.get(job_id)
        interval = timedelta(seconds=seconds)
        if job is None:
            first = max(utcnow(), next_run_at) if next_run_at else utcnow()
            scheduler.add_job(
                "scheduler.registry:run_collect",
                IntervalTrigger(seconds=seconds),
                id=job_id,
                name=f"collect source {source_id}",
                kwargs={"source_id": source_id},
                next_run_time=_aware(first),
                **COMMON,
            )
            counts["added"] += 1
        elif getattr(job.trigger, "interval", None) != interval:
            job.reschedule(IntervalTrigger(seconds=seconds))
            counts["rescheduled"] += 1
    if any(counts.values()):
        log.info("collection jobs synced", extra=counts)
    return counts


def _aware(value: datetime) -> datetime:
    # Stored times are naive UTC; APScheduler wants aware ones.
    return value.replace(tzinfo=UTC)


def register_jobs(scheduler: BaseScheduler, context: JobContext) -> list[str]:
    """Add the fixed jobs; re-registering replaces them instead of duplicating."""
    settings = context.settings
    scheduler.add_job(
        "scheduler.registry:run_score",
        IntervalTrigger(seconds=settings.score_interval_seconds),
        id=SCORE_JOB_ID,
        name="score unscored mentions",
        executor=MODEL_EXECUTOR if model_in_worker(settings) else "default",
        **COMMON,
    )
    scheduler.add_job(
        "scheduler.registry:run_engage",
        IntervalTrigger(seconds=settings.engage_interval_seconds),
        id=ENGAGE_JOB_ID,
        name="open tasks for scored mentions",
        **COMMON,
    )
    scheduler.add_job(
        "scheduler.registry:run_sync",
        IntervalTrigger(seconds=SYNC_SECONDS),
        id=SYNC_JOB_ID,
        name="match collection jobs to sources",
        next_run_time=_aware(utcnow()),
        **COMMON,
    )
    scheduler.add_job(
        "scheduler.registry:run_webhooks",
        IntervalTrigger(seconds=settings.webhook_interval_seconds),
        id=WEBHOOKS_JOB_ID,
        name="send due webhook deliveries to the CRM",
        **COMMON,
    )
    scheduler.add_job(
        "scheduler.registry:run_replies",
        IntervalTrigger(seconds=settings.reply_interval_seconds),
        id=REPLIES_JOB_ID,
        name="post queued replies",
        **COMMON,
    )
    scheduler.add_job(
        "scheduler.registry:run_escalate",
        IntervalTrigger(seconds=ESCALATE_INTERVAL_SECONDS),
        id=ESCALATE_JOB_ID,
        name="escalate tasks past their SLA",
        **COMMON,
    )
    scheduler.add_job(
        "scheduler.registry:run_recovery",
        IntervalTrigger(seconds=recovery_jobs.INTERVAL_SECONDS),
        id=RECOVERY_JOB_ID,
        name="measure service recovery on answered complaints",
        **COMMON,
    )
    return [
        SCORE_JOB_ID,
        ENGAGE_JOB_ID,
        SYNC_JOB_ID,
        WEBHOOKS_JOB_ID,
        REPLIES_JOB_ID,
        ESCALATE_JOB_ID,
        RECOVERY_JOB_ID,
    ]


def build_scheduler(
    engine: Engine,
    context: JobContext,
    scheduler_class: type[BaseScheduler] = BackgroundScheduler,
) -> BaseScheduler:
    """A scheduler over the service database's job store with the fixed jobs registered."""
    executors: dict[str, Any] = {"default": ThreadPoolExecutor(4)}
    if model_in_worker(context.settings):
        # One long-lived worker process keeps the model loaded between runs.
        executors[MODEL_EXECUTOR] = ProcessPoolExecutor(
            1, pool_kwargs={"initializer": init_model_worker}
        )
    scheduler = scheduler_class(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)},
        executors=executors,
        timezone="UTC",
    )
    context.scheduler = scheduler
    set_context(context)
    register_jobs(scheduler, context)
    return scheduler


def collect_now(scheduler: BaseScheduler, source_id: int) -> None:
    """Run a source's collection job as soon as a worker is free (adding the job if needed)."""
    job_id = collect_job_id(source_id)
    if scheduler.get_job(job_id) is None:
        sync_sources(scheduler)
    _run_at(scheduler, job_id, utcnow())
