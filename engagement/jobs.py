"""Engagement jobs: each opens its own unit of work per batch and calls the services."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from core.db import unit_of_work
from core.settings import Settings
from core.timeutil import utcnow
from engagement import service
from engagement.schemas import EscalationReport

log = logging.getLogger(__name__)

ESCALATE_JOB_ID = "sla:escalate"
ESCALATE_INTERVAL_SECONDS = 60
ESCALATE_BATCH = 200
# Bound one run so a backlog never holds the scheduler thread for long.
MAX_BATCHES_PER_RUN = 40


def escalate_overdue(
    session_factory: sessionmaker[Session],
    settings: Settings,
    *,
    now: datetime | None = None,
    batch_size: int = ESCALATE_BATCH,
    max_batches: int = MAX_BATCHES_PER_RUN,
) -> EscalationReport:
    """Job `sla:escalate`: escalate each SLA breach of open tasks once, committing per batch.

    The deadlines were set from the SLA settings when each task opened, so `settings` is only
    part of the common job signature.
    """
    now = now or utcnow()
    total = EscalationReport()
    after_id = 0
    for _ in range(max_batches):
        with unit_of_work(session_factory) as session:
            report, last_id = service.escalate_batch(
                session, now=now, after_id=after_id, limit=batch_size
            )
        total.escalated += report.escalated
        total.first_response += report.first_response
        total.resolution += report.resolution
        total.task_ids.extend(report.task_ids)
        if last_id is None:
            break
        after_id = last_id
    if total.escalated:
        log.warning(
            "tasks escalated after an SLA breach",
            extra={
                "escalated": total.escalated,
                "first_response": total.first_response,
                "resolution": total.resolution,
            },
        )
    return total
