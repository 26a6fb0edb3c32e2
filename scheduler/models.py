"""APScheduler's job table, declared here so the one Alembic history creates it."""

from __future__ import annotations

from sqlalchemy import Column, Float, LargeBinary, Table, Unicode

from core.db import Base

# Same shape as apscheduler.jobstores.sqlalchemy creates; that store only checks it exists.
JOBS_TABLE = "apscheduler_jobs"

apscheduler_jobs = Table(
    JOBS_TABLE,
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
