"""Service recovery: did our answer change how the customer talks about us?

Definition (what `classify` and `evaluate_batch` implement):

* Which tasks: complaints (reason includes "negative" or "low_rating"), resolved or closed,
  with `first_response_at` set. Call it F, and the window W = `recovery_window_days` (14).
* The customer's authors: the task's author plus every author linked (CustomerIdentity) to
  the task's customer, on any platform; when the task opened before its author was linked,
  the customer that author is linked to now.
* Sentiment score of a mention: s = p_positive - p_negative, in [-1, 1], from its newest
  sentiment result (a result without probabilities, such as unsupported_language, does not
  count).
* BEFORE: mean s of the task's own non-brand mentions by those authors posted at or before F.
  When none has a score the baseline is neutral (0.0) and "not negative".
* AFTER: mean s of the non-brand mentions by those authors posted in (F, F + W], in any
  thread (praise for the brand elsewhere counts).
* Outcome, checked in this order:
  1. no AFTER mention: not evaluated yet (None) while the window is open (now < F + W),
     else "no_followup";
  2. change = AFTER - BEFORE ≤ -DECLINE (-0.3): "worse" (a clear drop wins over rule 4);
  3. change ≥ +IMPROVEMENT (+0.3): "recovered";
  4. BEFORE was negative (more than half of its labels negative) and more than half of the
     AFTER labels are positive or neutral: "recovered" (the customer stopped complaining
     even if the probabilities moved little);
  5. otherwise "unchanged".
  Means and the change are rounded to SCORE_DECIMALS (4) before the comparisons, so 0.3
  computed in floating point is 0.3 on both databases.
* Re-evaluation: the job checks a task again while F + W + LATE_GRACE is in the future, so a
  later follow-up inside the window (or one scored a little late) updates the outcome; the
  same data always gives the same outcome, and only a change writes a "recovery" task event.
  `recovery_evaluated_at` is when the outcome was last checked.

Reports: `recovery_report` (outcomes, recovery rate, response and resolution times per
category, channel, agent or compensation kind) and `retention_risk` (who to call first).
Nothing here commits.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy.orm import Session

from core.errors import InvalidError
from core.pagination import Page
from core.timeutil import utcnow
from engagement import repository as task_repo
from engagement.models import TaskEvent
from engagement.recovery import repository as repo
from engagement.recovery.schemas import (
    GROUP_BY_VALUES,
    RECOVERY_STATUSES,
    GroupBy,
    RecoveryGroupRead,
    RecoveryJobReport,
    RecoveryReport,
    RecoveryTaskRead,
    RetentionRiskRead,
)
from engagement.service import task_payload
from engagement.webhooks.outbox import emit

SYSTEM = "system"
RECOVERED = "recovered"
UNCHANGED = "unchanged"
WORSE = "worse"
NO_FOLLOWUP = "no_followup"

# A mean score at least this much higher after our answer is a recovery ...
IMPROVEMENT = 0.3
# ... and at least this much lower is a customer we made unhappier.
DECLINE = 0.3
SCORE_DECIMALS = 4
# Mentions are collected and scored a while after they are posted: keep re-checking a task
# this long after its window closed so a late-scored follow-up still counts.
LATE_GRACE = timedelta(days=1)
EVALUATE_BATCH = 100

DEFAULT_REPORT_DAYS = 30
MINUTE_DECIMALS = 1
RATE_DECIMALS = 4
CENT = Decimal("0.01")

# Retention risk: complaints of the last RISK_WINDOW_DAYS count as recent.
RISK_WINDOW_DAYS = 90
EXTRA_COMPLAINT_WEIGHT = 0.5
WORSE_WEIGHT = 1.0


# --- the definition ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One scored mention: its sentiment score and label."""

    score: float
    label: str


@dataclass(frozen=True)
class Assessment:
    """The outcome of one task and the numbers behind it."""

    status: str | None
    before: float | None
    after: float | None
    change: float | None
    before_count: int
    after_count: int


def sentiment_score(p_positive: float, p_negative: float) -> float:
    """s = p_positive - p_negative: -1 (surely negative) … +1 (surely positive)."""
    return p_positive - p_negative


def _mean(samples: Sequence[Sample]) -> float:
    return round(sum(s.score for s in samples) / len(samples), SCORE_DECIMALS)


def _majority(samples: Sequence[Sample], labels: Iterable[str]) -> bool:
    wanted = set(labels)
    return sum(1 for s in samples if s.label in wanted) * 2 > len(samples)


def classify(
    before: Sequence[Sample], after: Sequence[Sample], *, window_ended: bool
) -> Assessment:
    """Compare the customer's sentiment before our first answer with the follow-ups after it."""
    baseline = _mean(before) if before else 0.0
    before_value = baseline if before else None
    if not after:
        status = NO_FOLLOWUP if window_ended else None
        return Assessment(status, before_value, None, None, len(before), 0)
    later = _mean(after)
    change = round(later - baseline, SCORE_DECIMALS)
    if change <= -DECLINE:
        status = WORSE
    elif change >= IMPROVEMENT or (
        before and _majority(before, ("negative",)) and _majority(after, ("positive", "neutral"))
    ):
        status = RECOVERED
    else:
        status = UNCHANGED
    return Assessment(status, before_value, later, change, len(before), len(after))


def _sample(row: Any) -> Sample:
    return Sample(sentiment_score(row.p_positive, row.p_negative), row.label)


def _assess(
    session: Session, tasks: Sequence[Any], window: timedelta, now: datetime
) -> dict[int, Assessment]:
    """Assess tasks given as rows with id, author_id, customer_id and first_response_at."""
    unlinked = [t.author_id for t in tasks if t.customer_id is None and t.author_id is not None]
    linked = repo.customers_of_authors(session, unlinked)
    customer_of = {
        t.id: t.customer_id if t.customer_id is not None else linked.get(t.author_id) for t in tasks
    }
    authors_of = repo.authors_of_customers(
        session, [c for c in customer_of.values() if c is not None]
    )
    before_rows: dict[int, list[Any]] = {}
    for row in repo.before_samples(session, [t.id for t in tasks]):
        before_rows.setdefault(row.task_id, []).append(row)
    out: dict[int, Assessment] = {}
    for task in tasks:
        customer_id = customer_of[task.id]
        authors = set(authors_of.get(customer_id, set())) if customer_id is not None else set()
        if task.author_id is not None:
            authors.add(task.author_id)
        before = [_sample(r) for r in before_rows.get(task.id, []) if r.author_id in authors]
        end = task.first_response_at + window
        after = [
            _sample(r)
            for r in repo.after_samples(session, sorted(authors), task.first_response_at, end)
        ]
        out[task.id] = classify(before, after, window_ended=now >= end)
    return out


def evaluate_batch(
    session: Session,
    *,
    window_days: int,
    now: datetime | None = None,
    limit: int = EVALUATE_BATCH,
) -> RecoveryJobReport:
    """Evaluate up to `limit` complaints due for a check (see the module docstring).

    Each examined task gets `recovery_evaluated_at = now`, so the next batch of the same run
    moves on to others; an outcome that changes also writes a "recovery" task event.
    """
    now = now or utcnow()
    window = timedelta(days=window_days)
    tasks = repo.tasks_to_evaluate(
        session, now=now, recheck_after=now - window - LATE_GRACE, limit=limit
    )
    report = RecoveryJobReport(examined=len(tasks))
    assessments = _assess(session, tasks, window, now)
    for task in tasks:
        found = assessments[task.id]
        if found.status is None:
            report.pending += 1
        else:
            setattr(report, found.status, getattr(report, found.status) + 1)
        # An outcome never goes back to "not evaluated" (a follow-up deleted since, say).
        status = found.status if found.status is not None else task.recovery_status
        if not repo.set_recovery(session, task.id, status, now):
            continue
        if status != task.recovery_status:
            report.changed += 1
            report.changed_task_ids.append(task.id)
            data = {
                "from": task.recovery_status,
                "to": status,
                "before": found.before,
                "after": found.after,
                "change": found.change,
                "followups": found.after_count,
            }
            task_repo.add_event(
                session,
                TaskEvent(
                    task_id=task.id, actor=SYSTEM, type="recovery", data=data, created_at=now
                ),
            )
            # The CRM hears whether the answer won the customer back (or made things worse).
            row = task_repo.get_task(session, task.id)
            if row is not None:
                emit(session, "task.recovery", {**task_payload(row), "recovery": data})
    session.flush()
    return report


def recovery_tasks(
    session: Session,
    *,
    window_days: int,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
    now: datetime | None = None,
) -> Page[RecoveryTaskRead]:
    """Evaluated complaints with the before/after scores behind their outcome (drill-down).

    The scores are recomputed from the current data, newest evaluation first.
    """
    if status is not None and status not in RECOVERY_STATUSES:
        raise InvalidError(f"status must be one of {', '.join(RECOVERY_STATUSES)}")
    rows, total = repo.evaluated_tasks(
        session, status=status, since=since, until=until, limit=limit, offset=offset
    )
    answered = [r for r in rows if r.first_response_at is not None]
    assessments = _assess(session, answered, timedelta(days=window_days), now or utcnow())
    items = []
    for row in rows:
        found = assessments.get(row.id)
        items.append(
            RecoveryTaskRead(
                task_id=row.id,
                customer_id=row.customer_id,
                status=row.status,
                recovery_status=row.recovery_status,
                recovery_evaluated_at=row.recovery_evaluated_at,
                category=row.category,
                channel=row.channel,
                assignee=row.assignee,
                first_response_at=row.first_response_at,
                before_score=found.before if found else None,
                after_score=found.after if found else None,
                change=found.change if found else None,
                before_mentions=found.before_count if found else 0,
                after_mentions=found.after_count if found else 0,
            )
        )
    return Page(items=items, total=total, limit=limit, offset=offset)


# --- the recovery report ----------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile with linear interpolation between ranks (PostgreSQL percentile_cont)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _minutes(start: datetime, end: datetime) -> float:
    # A brand answer noticed before the customer's post was stored would be negative.
    return max(0.0, (end - start).total_seconds() / 60)


def _rounded(value: float | None) -> float | None:
    return round(value, MINUTE_DECIMALS) if value is not None else None


def recovery_report(
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    group_by: str = "none",
    *,
    now: datetime | None = None,
) -> RecoveryReport:
    """Outcomes, recovery rate and response times of complaints opened in [since, until).

    Defaults: until = now, since = until - 30 days. Per group key ("uncategorised",
    "unassigned", "none" (no compensation) and "all" (group_by none) name the missing ones):

    * complaints, evaluated (an outcome is stored) and the count of each outcome;
    * recovery_rate = recovered / (recovered + unchanged + worse), None when that is 0
      (no_followup says nothing about recovery);
    * median and p90 minutes to first response and to resolution (resolved_at, else closed_at
      for a task closed without resolving), counted from the customer's first mention in the
      task: a task only opens when its mention is engaged, which can be well after the post;
    * compensation: total amount per currency given on the group's tasks.

    Grouped by compensation, a task that received two kinds (an apology and a voucher) counts
    in both groups, with only that kind's amounts; tasks without one form the "none" group.
    """
    if group_by not in GROUP_BY_VALUES:
        raise InvalidError(f"group_by must be one of {', '.join(GROUP_BY_VALUES)}")
    until = until or now or utcnow()
    since = since or until - timedelta(days=DEFAULT_REPORT_DAYS)
    if since >= until:
        raise InvalidError("since must be before until")
    base = repo.report_base(group_by, since, until)
    first_response: dict[str, list[float]] = {}
    resolution: dict[str, list[float]] = {}
    for row in repo.duration_rows(session, base):
        start = row.customer_first_at or row.created_at
        if row.first_response_at is not None:
            first_response.setdefault(row.group_key, []).append(
                _minutes(start, row.first_response_at)
            )
        done = row.resolved_at or row.closed_at
        if done is not None and row.status in repo.FINISHED_STATUSES:
            resolution.setdefault(row.group_key, []).append(_minutes(start, done))
    compensation: dict[str, dict[str, Decimal]] = {}
    for key, currency, total in repo.compensation_totals(
        session, base, by_kind=group_by == "compensation"
    ):
        compensation.setdefault(key, {})[currency] = Decimal(total).quantize(CENT)
    rows = []
    for counts in repo.outcome_counts(session, base):
        key = counts.group_key
        judged = counts.recovered + counts.unchanged + counts.worse
        rows.append(
            RecoveryGroupRead(
                key=key,
                complaints=counts.complaints,
                evaluated=counts.evaluated,
                recovered=counts.recovered,
                unchanged=counts.unchanged,
                worse=counts.worse,
                no_followup=counts.no_followup,
                recovery_rate=round(counts.recovered / judged, RATE_DECIMALS) if judged else None,
                first_response_median_minutes=_rounded(
                    percentile(first_response.get(key, []), 0.5)
                ),
                first_response_p90_minutes=_rounded(percentile(first_response.get(key, []), 0.9)),
                resolution_median_minutes=_rounded(percentile(resolution.get(key, []), 0.5)),
                resolution_p90_minutes=_rounded(percentile(resolution.get(key, []), 0.9)),
                compensation=dict(sorted(compensation.get(key, {}).items())),
            )
        )
    rows.sort(key=lambda r: (-r.complaints, r.key))
    return RecoveryReport(group_by=cast(GroupBy, group_by), since=since, until=until, rows=rows)


# --- retention risk ---------------------------------------------------------------------------


def risk_score(
    lifetime_value: Decimal | None, open_complaints: int, recent_complaints: int, worse: bool
) -> float:
    """lifetime_value x (1 + open complaints + 0.5 x recent complaints beyond the first
    + 1 if the latest recent recovery was "worse"); an unknown value counts as 0."""
    factor = (
        1
        + open_complaints
        + EXTRA_COMPLAINT_WEIGHT * max(0, recent_complaints - 1)
        + (WORSE_WEIGHT if worse else 0.0)
    )
    return round(float(lifetime_value or 0) * factor, 2)


def retention_risk(
    session: Session,
    limit: int = 50,
    min_value: Decimal | None = None,
    *,
    now: datetime | None = None,
) -> list[RetentionRiskRead]:
    """Customers at risk of leaving, most valuable risk first: the list to act on.

    At risk: an open complaint (unresolved negative word of mouth or low rating), at least two
    complaints in the last 90 days, or "worse" as the outcome of their latest evaluated
    complaint of the last 90 days. Ranked by `risk_score` (descending), then lifetime value
    (unknown last), then how many complaints, then the latest complaint first, then id.
    `min_value` keeps customers whose lifetime value is known and at least that much.
    """
    if limit < 1:
        raise InvalidError("limit must be at least 1")
    now = now or utcnow()
    recent_since = now - timedelta(days=RISK_WINDOW_DAYS)
    candidates = repo.risk_candidates(session, recent_since=recent_since, min_value=min_value)
    worst = repo.worst_sentiment(session, [c.customer_id for c in candidates], recent_since)
    rows = []
    for c in candidates:
        worse = c.latest_recovery_status == WORSE
        rows.append(
            RetentionRiskRead(
                customer_id=c.customer_id,
                crm_id=c.crm_id,
                name=c.name,
                tier=c.tier,
                lifetime_value=c.lifetime_value,
                open_complaints=int(c.open_complaints),
                complaints_90d=int(c.recent_complaints),
                last_complaint_at=c.last_complaint_at,
                worst_recent_sentiment=(
                    round(worst[c.customer_id], SCORE_DECIMALS) if c.customer_id in worst else None
                ),
                latest_recovery_status=c.latest_recovery_status,
                risk_score=risk_score(
                    c.lifetime_value, int(c.open_complaints), int(c.recent_complaints), worse
                ),
            )
        )

    def rank(r: RetentionRiskRead) -> tuple[Any, ...]:
        value = float(r.lifetime_value) if r.lifetime_value is not None else 0.0
        last = (r.last_complaint_at - datetime.min).total_seconds() if r.last_complaint_at else 0
        return (
            -r.risk_score,
            r.lifetime_value is None,
            -value,
            -(r.open_complaints + r.complaints_90d),
            -last,
            r.customer_id,
        )

    rows.sort(key=rank)
    return rows[:limit]
