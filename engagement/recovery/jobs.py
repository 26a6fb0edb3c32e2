"""Job `recovery:evaluate`: measure service recovery on answered complaints, a batch at a time."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from core.db import unit_of_work
from core.settings import Settings
from core.timeutil import utcnow
from engagement.recovery import service
from engagement.recovery.schemas import RecoveryJobReport

log = logging.getLogger(__name__)

JOB_ID = "recovery:evaluate"
INTERVAL_SECONDS = 600
BATCH_SIZE = service.EVALUATE_BATCH
# Bound one run so a backlog never holds the scheduler thread for long.
MAX_BATCHES = 40


def evaluate_recovery(
    session_factory: sessionmaker[Session],
    settings: Settings,
    *,
    now: datetime | None = None,
    batch_size: int = BATCH_SIZE,
    max_batches: int = MAX_BATCHES,
) -> RecoveryJobReport:
    """Job `recovery:evaluate`: evaluate complaints whose outcome is unknown or whose window
    is still open, committing after every batch.

    Every examined task is stamped with `now`, so each batch picks tasks not yet seen in this
    run, and the least recently checked tasks come first in the next run.
    """
    now = now or utcnow()
    total = RecoveryJobReport()
    for _ in range(max_batches):
        with unit_of_work(session_factory) as session:
            report = service.evaluate_batch(
                session, window_days=settings.recovery_window_days, now=now, limit=batch_size
            )
        if report.examined == 0:
            break
        for field in ("examined", "changed", "recovered", "unchanged", "worse", "no_followup"):
            setattr(total, field, getattr(total, field) + getattr(report, field))
        total.pending += report.pending
        total.changed_task_ids.extend(report.changed_task_ids)
    if total.changed:
        log.info(
            "service recovery evaluated",
            extra={
                "examined": total.examined,
                "changed": total.changed,
                "recovered": total.recovered,
                "worse": total.worse,
            },
        )
    return total
