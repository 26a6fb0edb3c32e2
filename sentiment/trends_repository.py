"""All SQL for word-of-mouth trends: per-bucket and per-category aggregates and the most
harmful negative mentions.

Every query counts a mention once, by its newest sentiment result (the rule of
sentiment.repository.is_latest_result), leaves out the brand's own mentions and filters on
the mention's created_at (the platform's post time, naive UTC) in [since, until).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, case, func, select
from sqlalchemy.orm import Session, aliased

from collectors.models import Author, Mention
from sentiment.models import ComplaintCategory, SentimentResult
from sentiment.repository import is_latest_result


def bucket_start(dialect: str, column: Any, bucket: str) -> ColumnElement[str]:
    """The first day ('YYYY-MM-DD') of the UTC day or Monday-based week `column` falls in."""
    if dialect == "postgresql":
        # date_trunc('week') starts weeks on Monday (ISO), like the SQLite branch below.
        return func.to_char(func.date_trunc(bucket, column), "YYYY-MM-DD")
    if bucket == "week":
        # SQLite cannot truncate to a week: go back six days, then forward to a Monday.
        return func.date(column, "-6 days", "weekday 1")
    return func.date(column)


def _latest_in_range(
    result: Any,
    since: datetime,
    until: datetime,
    platform: str | None,
    category: str | None,
) -> list[ColumnElement[bool]]:
    """Conditions for mention + newest labelled result rows in the range and filters."""
    conditions = [
        Mention.is_brand.is_(False),
        Mention.created_at >= since,
        Mention.created_at < until,
        # unsupported_language and error results carry no label: such a mention is not
        # scored, even when an older model gave it one.
        result.label.is_not(None),
        is_latest_result(result),
    ]
    if platform is not None:
        conditions.append(Mention.platform == platform)
    if category is not None:
        conditions.append(result.category == category)
    return conditions


def _count_where(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def bucket_rows(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    bucket: str,
    platform: str | None = None,
    category: str | None = None,
) -> list[Row[Any]]:
    """Per bucket start (only buckets with data): scored, negative, neutral, positive,
    wom_count and wom_score (sum) of the mentions posted in [since, until)."""
    result = aliased(SentimentResult)
    dialect = session.get_bind().dialect.name
    # The bucket is computed in a subquery and grouped outside it: PostgreSQL rejects a GROUP
    # BY whose expression repeats the select's bound parameters ('week') as new parameters.
    scored = (
        select(
            bucket_start(dialect, Mention.created_at, bucket).label("bucket"),
            result.label,
            result.wom_score,
        )
        .join(result, result.mention_id == Mention.id)
        .where(*_latest_in_range(result, since, until, platform, category))
        .subquery("scored")
    )
    stmt = (
        select(
            scored.c.bucket,
            func.count().label("scored"),
            _count_where(scored.c.label == "negative").label("negative"),
            _count_where(scored.c.label == "neutral").label("neutral"),
            _count_where(scored.c.label == "positive").label("positive"),
            func.count(scored.c.wom_score).label("wom_count"),
            func.coalesce(func.sum(scored.c.wom_score), 0.0).label("wom_score"),
        )
        .group_by(scored.c.bucket)
        .order_by(scored.c.bucket)
    )
    return list(session.execute(stmt))


def category_rows(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    platform: str | None = None,
    category: str | None = None,
) -> list[Row[Any]]:
    """Per category key (None: uncategorised) of the negative mentions posted in
    [since, until): negative, wom_count and wom_score (sum)."""
    result = aliased(SentimentResult)
    # Counted with a condition rather than filtered by label: a `label = 'negative'` filter let
    # SQLite's planner start from the label index and walk every negative result ever stored.
    # Over 100k mentions (benchmarks/trends_query.py) this took SQLite from 172-205 ms to
    # 24-139 ms for 7- and 30-day windows, but from 189 to 301 ms for 90 days, and PostgreSQL
    # from 21-64 to 36-131 ms; the embedded default (SQLite, 30 days) decided.
    negative = result.label == "negative"
    stmt = (
        select(
            result.category,
            _count_where(negative).label("negative"),
            _count_where(negative & result.wom_score.is_not(None)).label("wom_count"),
            func.coalesce(func.sum(case((negative, result.wom_score), else_=None)), 0.0).label(
                "wom_score"
            ),
        )
        .select_from(Mention)
        .join(result, result.mention_id == Mention.id)
        .where(*_latest_in_range(result, since, until, platform, category))
        .group_by(result.category)
        .having(_count_where(negative) > 0)
    )
    return list(session.execute(stmt))


def top_wom_rows(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    limit: int,
    platform: str | None = None,
    category: str | None = None,
) -> list[Row[Any]]:
    """The `limit` negative word-of-mouth mentions with the highest WOM score (ties: newest
    first, then highest id), with their author's handle and followers."""
    result = aliased(SentimentResult)
    stmt = (
        select(
            Mention.id,
            Mention.platform,
            Mention.url,
            Mention.text,
            Mention.created_at,
            Author.handle.label("author_handle"),
            Author.followers.label("author_followers"),
            result.wom_score,
            result.category,
        )
        .join(result, result.mention_id == Mention.id)
        .outerjoin(Author, Author.id == Mention.author_id)
        .where(
            *_latest_in_range(result, since, until, platform, category),
            result.wom_score.is_not(None),
        )
        .order_by(result.wom_score.desc(), Mention.created_at.desc(), Mention.id.desc())
        .limit(limit)
    )
    return list(session.execute(stmt))


def category_names(session: Session) -> dict[str, str]:
    """key → name of every category of the taxonomy, disabled ones included (old results
    still carry their keys)."""
    stmt = select(ComplaintCategory.key, ComplaintCategory.name)
    return {key: name for key, name in session.execute(stmt)}


def newest_scored_at(session: Session, platform: str | None) -> datetime | None:
    """When the newest labelled, non-brand mention was posted (None: there is none)."""
    stmt = (
        select(func.max(Mention.created_at))
        .join(SentimentResult, SentimentResult.mention_id == Mention.id)
        .where(Mention.is_brand.is_(False), SentimentResult.label.is_not(None))
    )
    if platform is not None:
        stmt = stmt.where(Mention.platform == platform)
    value = session.scalar(stmt)
    return value if isinstance(value, datetime) else None
