"""Pydantic I/O for service-recovery evaluation, reports and retention risk."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RecoveryStatus = Literal["recovered", "unchanged", "worse", "no_followup"]
GroupBy = Literal["category", "channel", "agent", "compensation", "none"]
GROUP_BY_VALUES: tuple[str, ...] = ("category", "channel", "agent", "compensation", "none")
RECOVERY_STATUSES: tuple[str, ...] = ("recovered", "unchanged", "worse", "no_followup")


class RecoveryJobReport(BaseModel):
    """What one run of the `recovery:evaluate` job did."""

    examined: int = 0
    # Tasks whose stored outcome was set or changed by this run.
    changed: int = 0
    # Outcomes of the examined tasks (whether or not they changed).
    recovered: int = 0
    unchanged: int = 0
    worse: int = 0
    no_followup: int = 0
    # No follow-up yet and the window still open: left unevaluated, checked again later.
    pending: int = 0
    changed_task_ids: list[int] = Field(default_factory=list)


class RecoveryGroupRead(BaseModel):
    """Recovery and response times of the complaints in one group."""

    key: str
    complaints: int
    evaluated: int
    recovered: int
    unchanged: int
    worse: int
    no_followup: int
    # recovered / (recovered + unchanged + worse); None when that is 0.
    recovery_rate: float | None
    first_response_median_minutes: float | None
    first_response_p90_minutes: float | None
    resolution_median_minutes: float | None
    resolution_p90_minutes: float | None
    # Amount given per currency (ISO 4217 code → total).
    compensation: dict[str, Decimal]


class RecoveryReport(BaseModel):
    """The recovery report of complaints opened in [since, until)."""

    group_by: GroupBy
    since: datetime
    until: datetime
    rows: list[RecoveryGroupRead]


class RecoveryTaskRead(BaseModel):
    """One evaluated complaint with the scores behind its outcome (drill-down)."""

    task_id: int
    customer_id: int | None
    status: str
    recovery_status: str | None
    recovery_evaluated_at: datetime | None
    category: str | None
    channel: str | None
    assignee: str | None
    first_response_at: datetime | None
    # Mean sentiment score (p_positive - p_negative) before the first response and in the window.
    before_score: float | None
    after_score: float | None
    change: float | None
    before_mentions: int
    after_mentions: int


class RetentionRiskRead(BaseModel):
    """A customer marketing or an account manager should contact, with why."""

    model_config = ConfigDict(from_attributes=True)

    customer_id: int
    crm_id: str | None
    name: str | None
    tier: str | None
    lifetime_value: Decimal | None
    open_complaints: int
    complaints_90d: int
    last_complaint_at: datetime | None
    # Lowest sentiment score (p_positive - p_negative) of the customer's last 90 days.
    worst_recent_sentiment: float | None
    latest_recovery_status: str | None
    risk_score: float
