"""All SQL for service recovery: the tasks to evaluate, the sentiment around them, the report
aggregates and the retention-risk candidates. Plain columns, never whole entities, so a report
over many tasks holds no identity map; durations are left to Python (date arithmetic differs
between SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Subquery,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from collectors.models import Mention
from engagement.models import (
    OPEN_STATUSES,
    Compensation,
    Customer,
    CustomerIdentity,
    ResponseTask,
    TaskMention,
    TaskStatus,
)
from sentiment.models import SentimentResult
from sentiment.repository import is_latest_result

FINISHED_STATUSES = (TaskStatus.resolved.value, TaskStatus.closed.value)
# A task is a complaint when one of these reasons opened it ("negative+key_customer" too).
COMPLAINT_REASONS = ("negative", "low_rating")
UNCATEGORISED = "uncategorised"
UNASSIGNED = "unassigned"
NO_COMPENSATION = "none"
UNKNOWN_CHANNEL = "unknown"
ALL = "all"


def complaint_clause() -> ColumnElement[bool]:
    """Tasks opened by negative word of mouth or a low rating."""
    return or_(*(ResponseTask.reason.contains(r, autoescape=True) for r in COMPLAINT_REASONS))


def _usable_latest(result: Any) -> ColumnElement[bool]:
    """`result` is its mention's newest result (the rule of sentiment.repository.latest_results)
    and carries a label and probabilities (an unsupported-language result does not)."""
    return and_(
        is_latest_result(result),
        result.label.is_not(None),
        result.p_positive.is_not(None),
        result.p_negative.is_not(None),
    )


def _channel() -> Any:
    """The platform of the task's first mention."""
    first = aliased(Mention)
    return (
        select(first.platform)
        .join(TaskMention, TaskMention.mention_id == first.id)
        .where(TaskMention.task_id == ResponseTask.id)
        .order_by(first.created_at, first.id)
        .limit(1)
        .correlate(ResponseTask)
        .scalar_subquery()
    )


def _customer_first_at() -> Any:
    """When the customer first wrote in the task (the platform's post time)."""
    own = aliased(Mention)
    return (
        select(func.min(own.created_at))
        .join(TaskMention, TaskMention.mention_id == own.id)
        .where(TaskMention.task_id == ResponseTask.id, own.is_brand.is_(False))
        .correlate(ResponseTask)
        .scalar_subquery()
    )


# --- evaluation -------------------------------------------------------------------------------


def tasks_to_evaluate(
    session: Session, *, now: datetime, recheck_after: datetime, limit: int
) -> list[Row[Any]]:
    """Up to `limit` answered, finished complaints due for a (re-)evaluation, least recently
    checked first: never evaluated, or first answered after `recheck_after` (their window is
    open or just closed). Tasks already checked at `now` are left out, so a run moves on."""
    stmt = (
        select(
            ResponseTask.id,
            ResponseTask.author_id,
            ResponseTask.customer_id,
            ResponseTask.first_response_at,
            ResponseTask.recovery_status,
        )
        .where(
            ResponseTask.status.in_(FINISHED_STATUSES),
            ResponseTask.first_response_at.is_not(None),
            complaint_clause(),
            or_(
                ResponseTask.recovery_status.is_(None),
                ResponseTask.first_response_at > recheck_after,
            ),
            or_(
                ResponseTask.recovery_evaluated_at.is_(None),
                ResponseTask.recovery_evaluated_at < now,
            ),
        )
        .order_by(
            case((ResponseTask.recovery_evaluated_at.is_(None), 0), else_=1),
            ResponseTask.recovery_evaluated_at,
            ResponseTask.id,
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.execute(stmt))


def customers_of_authors(session: Session, author_ids: Sequence[int]) -> dict[int, int]:
    """author_id → customer_id of the identities linked to these authors."""
    if not author_ids:
        return {}
    stmt = select(CustomerIdentity.author_id, CustomerIdentity.customer_id).where(
        CustomerIdentity.author_id.in_(set(author_ids))
    )
    return {a: c for a, c in session.execute(stmt) if a is not None}


def authors_of_customers(session: Session, customer_ids: Sequence[int]) -> dict[int, set[int]]:
    """customer_id → the authors linked to the customer (every platform)."""
    if not customer_ids:
        return {}
    stmt = select(CustomerIdentity.customer_id, CustomerIdentity.author_id).where(
        CustomerIdentity.customer_id.in_(set(customer_ids)),
        CustomerIdentity.author_id.is_not(None),
    )
    out: dict[int, set[int]] = {}
    for customer_id, author_id in session.execute(stmt):
        if author_id is not None:
            out.setdefault(customer_id, set()).add(author_id)
    return out


def before_samples(session: Session, task_ids: Sequence[int]) -> list[Row[Any]]:
    """(task_id, author_id, label, p_positive, p_negative) of each task's own non-brand
    mentions posted up to its first response, with their newest usable result."""
    if not task_ids:
        return []
    result = aliased(SentimentResult)
    stmt = (
        select(
            TaskMention.task_id,
            Mention.author_id,
            result.label,
            result.p_positive,
            result.p_negative,
        )
        .join(Mention, Mention.id == TaskMention.mention_id)
        .join(ResponseTask, ResponseTask.id == TaskMention.task_id)
        .join(result, result.mention_id == Mention.id)
        .where(
            TaskMention.task_id.in_(task_ids),
            Mention.is_brand.is_(False),
            Mention.author_id.is_not(None),
            Mention.created_at <= ResponseTask.first_response_at,
            _usable_latest(result),
        )
        .order_by(TaskMention.task_id, Mention.created_at, Mention.id)
    )
    return list(session.execute(stmt))


def after_samples(
    session: Session, author_ids: Sequence[int], start: datetime, end: datetime
) -> list[Row[Any]]:
    """(label, p_positive, p_negative) of the non-brand mentions these authors posted in
    (start, end], in any thread, with their newest usable result."""
    if not author_ids:
        return []
    result = aliased(SentimentResult)
    stmt = (
        select(result.label, result.p_positive, result.p_negative)
        .join(Mention, Mention.id == result.mention_id)
        .where(
            Mention.author_id.in_(set(author_ids)),
            Mention.created_at > start,
            Mention.created_at <= end,
            Mention.is_brand.is_(False),
            _usable_latest(result),
        )
        .order_by(Mention.created_at, Mention.id)
    )
    return list(session.execute(stmt))


def set_recovery(session: Session, task_id: int, status: str | None, at: datetime) -> bool:
    """Store an evaluation on a still-finished task; its updated_at is left as it was, since
    a derived measure is not a change an agent made."""
    stmt = (
        update(ResponseTask)
        .where(ResponseTask.id == task_id, ResponseTask.status.in_(FINISHED_STATUSES))
        .values(
            recovery_status=status,
            recovery_evaluated_at=at,
            updated_at=ResponseTask.updated_at,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]


def evaluated_tasks(
    session: Session,
    *,
    status: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[Row[Any]], int]:
    """A page of evaluated complaints (newest evaluation first) and the total count."""
    stmt = select(
        ResponseTask.id,
        ResponseTask.author_id,
        ResponseTask.customer_id,
        ResponseTask.status,
        ResponseTask.recovery_status,
        ResponseTask.recovery_evaluated_at,
        ResponseTask.category,
        ResponseTask.assignee,
        ResponseTask.first_response_at,
        _channel().label("channel"),
    ).where(complaint_clause())
    if status is None:
        stmt = stmt.where(ResponseTask.recovery_status.is_not(None))
    else:
        stmt = stmt.where(ResponseTask.recovery_status == status)
    if since is not None:
        stmt = stmt.where(ResponseTask.created_at >= since)
    if until is not None:
        stmt = stmt.where(ResponseTask.created_at < until)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = stmt.order_by(ResponseTask.recovery_evaluated_at.desc(), ResponseTask.id.desc()).limit(
        limit
    )
    return list(session.execute(page.offset(offset))), total


# --- the recovery report ----------------------------------------------------------------------


def report_base(group_by: str, since: datetime, until: datetime) -> Subquery:
    """Complaints opened in [since, until), one row per (task, group key).

    Grouped by compensation, a task has one row per distinct kind it received ("none" when
    it received nothing), so a task with a refund and a voucher counts in both groups.
    """
    kinds = select(Compensation.task_id, Compensation.kind).distinct().subquery()
    keys: dict[str, Any] = {
        "category": func.coalesce(ResponseTask.category, UNCATEGORISED),
        "channel": func.coalesce(_channel(), UNKNOWN_CHANNEL),
        "agent": func.coalesce(ResponseTask.assignee, UNASSIGNED),
        "compensation": func.coalesce(kinds.c.kind, NO_COMPENSATION),
        "none": literal(ALL),
    }
    stmt = select(
        ResponseTask.id.label("task_id"),
        keys[group_by].label("group_key"),
        ResponseTask.status,
        ResponseTask.recovery_status,
        ResponseTask.created_at,
        _customer_first_at().label("customer_first_at"),
        ResponseTask.first_response_at,
        ResponseTask.resolved_at,
        ResponseTask.closed_at,
    ).where(
        complaint_clause(),
        ResponseTask.created_at >= since,
        ResponseTask.created_at < until,
    )
    if group_by == "compensation":
        stmt = stmt.outerjoin(kinds, kinds.c.task_id == ResponseTask.id)
    return stmt.subquery("complaints")


def outcome_counts(session: Session, base: Subquery) -> list[Row[Any]]:
    """Per group key: complaints, evaluated, and each recovery outcome (GROUP BY)."""
    outcome = base.c.recovery_status

    def count_of(value: str) -> Any:
        return func.coalesce(func.sum(case((outcome == value, 1), else_=0)), 0)

    stmt = select(
        base.c.group_key,
        func.count().label("complaints"),
        func.count(outcome).label("evaluated"),
        count_of("recovered").label("recovered"),
        count_of("unchanged").label("unchanged"),
        count_of("worse").label("worse"),
        count_of("no_followup").label("no_followup"),
    ).group_by(base.c.group_key)
    return list(session.execute(stmt))


def duration_rows(session: Session, base: Subquery) -> list[Row[Any]]:
    """The timestamps response and resolution times are computed from, per row of `base`."""
    stmt = select(
        base.c.group_key,
        base.c.status,
        base.c.created_at,
        base.c.customer_first_at,
        base.c.first_response_at,
        base.c.resolved_at,
        base.c.closed_at,
    ).where(
        or_(
            base.c.first_response_at.is_not(None),
            base.c.resolved_at.is_not(None),
            base.c.closed_at.is_not(None),
        )
    )
    return list(session.execute(stmt))


def compensation_totals(
    session: Session, base: Subquery, *, by_kind: bool
) -> list[tuple[str, str, Decimal]]:
    """(group key, currency, total amount) over the compensations of each group's tasks; with
    `by_kind` only the compensations of the group's own kind."""
    on = Compensation.task_id == base.c.task_id
    if by_kind:
        on = and_(on, Compensation.kind == base.c.group_key)
    stmt = (
        select(base.c.group_key, Compensation.currency, func.sum(Compensation.amount))
        .select_from(base)
        .join(Compensation, on)
        .where(Compensation.amount.is_not(None), Compensation.currency.is_not(None))
        .group_by(base.c.group_key, Compensation.currency)
    )
    return [(key, currency, total) for key, currency, total in session.execute(stmt)]


# --- retention risk ---------------------------------------------------------------------------


def risk_candidates(
    session: Session, *, recent_since: datetime, min_value: Decimal | None
) -> list[Row[Any]]:
    """Customers with an open complaint, at least two complaints since `recent_since`, or a
    "worse" outcome on their latest evaluated complaint since then; with their aggregates.

    A task counts for its customer, or (not linked when it opened) for the customer its author
    has been linked to since.
    """
    identity = aliased(CustomerIdentity)
    customer_id = func.coalesce(ResponseTask.customer_id, identity.customer_id)
    recent = ResponseTask.created_at >= recent_since
    latest_first = func.row_number().over(
        partition_by=customer_id,
        order_by=(
            case((and_(recent, ResponseTask.recovery_status.is_not(None)), 0), else_=1),
            ResponseTask.created_at.desc(),
            ResponseTask.id.desc(),
        ),
    )
    tasks = (
        select(
            customer_id.label("customer_id"),
            ResponseTask.status,
            ResponseTask.created_at,
            ResponseTask.recovery_status,
            latest_first.label("position"),
        )
        .outerjoin(
            identity,
            and_(ResponseTask.customer_id.is_(None), identity.author_id == ResponseTask.author_id),
        )
        .where(complaint_clause())
        .subquery("customer_complaints")
    )
    open_n = func.sum(case((tasks.c.status.in_(OPEN_STATUSES), 1), else_=0))
    recent_n = func.sum(case((tasks.c.created_at >= recent_since, 1), else_=0))
    latest = func.max(
        case(
            (
                and_(tasks.c.position == 1, tasks.c.created_at >= recent_since),
                tasks.c.recovery_status,
            ),
            else_=None,
        )
    )
    per_customer = (
        select(
            tasks.c.customer_id,
            open_n.label("open_complaints"),
            recent_n.label("recent_complaints"),
            func.max(tasks.c.created_at).label("last_complaint_at"),
            latest.label("latest_recovery_status"),
        )
        .where(tasks.c.customer_id.is_not(None))
        .group_by(tasks.c.customer_id)
        .having(or_(open_n > 0, recent_n >= 2, latest == "worse"))
        .subquery("at_risk")
    )
    stmt = (
        select(
            Customer.id.label("customer_id"),
            Customer.crm_id,
            Customer.name,
            Customer.tier,
            Customer.lifetime_value,
            per_customer.c.open_complaints,
            per_customer.c.recent_complaints,
            per_customer.c.last_complaint_at,
            per_customer.c.latest_recovery_status,
        )
        .join(per_customer, per_customer.c.customer_id == Customer.id)
        .where(Customer.merged_into_id.is_(None))
    )
    if min_value is not None:
        stmt = stmt.where(Customer.lifetime_value >= min_value)
    return list(session.execute(stmt))


def worst_sentiment(
    session: Session, customer_ids: Sequence[int], since: datetime
) -> dict[int, float]:
    """customer_id → lowest p_positive - p_negative of their non-brand mentions since `since`."""
    if not customer_ids:
        return {}
    result = aliased(SentimentResult)
    stmt = (
        select(
            CustomerIdentity.customer_id,
            func.min(result.p_positive - result.p_negative),
        )
        .join(Mention, Mention.author_id == CustomerIdentity.author_id)
        .join(result, result.mention_id == Mention.id)
        .where(
            CustomerIdentity.customer_id.in_(set(customer_ids)),
            Mention.is_brand.is_(False),
            Mention.created_at >= since,
            _usable_latest(result),
        )
        .group_by(CustomerIdentity.customer_id)
    )
    return {c: float(v) for c, v in session.execute(stmt) if v is not None}
