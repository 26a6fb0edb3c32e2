"""Service recovery and retention-risk reports for marketing and account managers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import SessionDep, get_settings
from core.pagination import Page
from core.settings import Settings
from core.timeutil import to_naive_utc
from engagement.recovery import service
from engagement.recovery.schemas import (
    GroupBy,
    RecoveryReport,
    RecoveryStatus,
    RecoveryTaskRead,
    RetentionRiskRead,
)

router = APIRouter(prefix="/reports", tags=["reports"])

SettingsDep = Annotated[Settings, Depends(get_settings)]
Since = Annotated[
    datetime | None, Query(description="Complaints opened at or after (ISO 8601; default 30 days)")
]
Until = Annotated[datetime | None, Query(description="Complaints opened before (default now)")]


def _naive(value: datetime | None) -> datetime | None:
    return to_naive_utc(value) if value is not None else None


@router.get("/recovery", response_model=RecoveryReport)
def recovery_report(
    session: SessionDep, since: Since = None, until: Until = None, group_by: GroupBy = "none"
) -> RecoveryReport:
    """Recovery rate and response/resolution times of complaints, per group."""
    return service.recovery_report(session, _naive(since), _naive(until), group_by)


@router.get("/recovery/tasks", response_model=Page[RecoveryTaskRead])
def recovery_tasks(
    session: SessionDep,
    settings: SettingsDep,
    status: RecoveryStatus | None = None,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[RecoveryTaskRead]:
    """Evaluated complaints with their before/after sentiment scores (drill-down)."""
    return service.recovery_tasks(
        session,
        window_days=settings.recovery_window_days,
        status=status,
        since=_naive(since),
        until=_naive(until),
        limit=limit,
        offset=offset,
    )


@router.get("/retention-risk", response_model=list[RetentionRiskRead])
def retention_risk(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    min_value: Annotated[
        Decimal | None, Query(ge=0, description="Only customers worth at least this much")
    ] = None,
) -> list[RetentionRiskRead]:
    """Customers at risk of leaving, ranked by value-weighted risk."""
    return service.retention_risk(session, limit, min_value)
