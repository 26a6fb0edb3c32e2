"""Job functions: each opens its own unit of work, calls services, commits once per batch."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from collectors.runner import CollectResult, run_source
from core.db import unit_of_work
from core.settings import Settings
from core.sql import refresh_stale_statistics
from engagement import service as engagement
from engagement.schemas import EngageReport
from sentiment import service as sentiment
from sentiment.categories import Categoriser, load_categoriser
from sentiment.classifier import SentimentModel, load_model
from sentiment.schemas import ScoreReport

log = logging.getLogger(__name__)

# Tables the engagement stage's look-ups lean on (thread, author and customer matches).
ENGAGE_TABLES = ("mentions", "sentiment_results", "response_tasks", "task_mentions", "authors")
# Bound one run so a backlog never holds the scheduler thread for long.
MAX_BATCHES_PER_RUN = 40


@dataclass
class PipelineReport:
    """What one pass of score + engage did."""

    score: ScoreReport
    engage: EngageReport


def score_batch(
    session_factory: sessionmaker[Session],
    model: SentimentModel,
    *,
    limit: int,
    categoriser: Categoriser | None = None,
    since: datetime | None = None,
) -> ScoreReport:
    """Score one batch: read in one short transaction, run the models outside any, store in a
    second. On SQLite no write lock is held while the model works, so the web stays writable."""
    with unit_of_work(session_factory) as session:
        sentiment.refresh_statistics(session)
        work = sentiment.read_pending(session, model, limit=limit, since=since)
    if not work.mentions:
        return ScoreReport()
    rows, report = sentiment.score_work(work, model, categoriser)
    with unit_of_work(session_factory) as session:
        sentiment.store_results(session, rows)
    return report


def score_pending(
    session_factory: sessionmaker[Session],
    settings: Settings,
    model: SentimentModel | None = None,
    max_batches: int = MAX_BATCHES_PER_RUN,
    categoriser: Categoriser | None = None,
) -> ScoreReport:
    """Job `score:pending`: score unscored mentions, committing after every batch."""
    model = model or load_model(settings)
    categoriser = categoriser or load_categoriser(settings)
    total = ScoreReport()
    for _ in range(max_batches):
        report = score_batch(
            session_factory, model, limit=settings.score_batch_size, categoriser=categoriser
        )
        if report.scored + report.unsupported_language == 0:
            break
        total.add(report)
    if total.scored or total.unsupported_language:
        log.info(
            "scored mentions",
            extra={
                "scored": total.scored,
                "labels": total.by_label,
                "categories": total.by_category,
            },
        )
    return total


def engage_pending(
    session_factory: sessionmaker[Session],
    settings: Settings,
    max_batches: int = MAX_BATCHES_PER_RUN,
) -> EngageReport:
    """Job `engage:pending`: open or extend tasks for scored mentions."""
    total = EngageReport()
    for _ in range(max_batches):
        with unit_of_work(session_factory) as session:
            refresh_stale_statistics(session, ENGAGE_TABLES)
            report = engagement.engage_pending(
                session,
                limit=500,
                negative_threshold=settings.negative_threshold,
                thread_window_hours=settings.thread_window_hours,
                sla_minutes=settings.sla_minutes(),
                resolution_sla_minutes=settings.resolution_sla_minutes(),
                calendar=settings.business_calendar(),
            )
        if report.examined == 0:
            break
        total.add(report)
    if total.examined:
        log.info(
            "engaged mentions",
            extra={"examined": total.examined, "opened": total.opened, "attached": total.attached},
        )
    return total


def process_pending(
    session_factory: sessionmaker[Session],
    settings: Settings,
    model: SentimentModel | None = None,
) -> PipelineReport:
    """Run scoring then engagement until both are drained (CLI import, demo load)."""
    score = ScoreReport()
    engage = EngageReport()
    while True:
        s = score_pending(session_factory, settings, model)
        e = engage_pending(session_factory, settings)
        score.add(s)
        engage.add(e)
        if s.scored + s.unsupported_language == 0 and e.examined == 0:
            return PipelineReport(score, engage)


def collect_source(
    session_factory: sessionmaker[Session], settings: Settings, source_id: int, force: bool = False
) -> CollectResult:
    """Job `collect:<source_id>`: one collection run of one source."""
    return run_source(session_factory, settings, source_id, force=force)
