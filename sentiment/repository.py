"""All SQL for sentiment results."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from collectors.models import Author, Mention
from core.errors import ConflictError
from core.sql import dialect_insert
from sentiment.models import ComplaintCategory, SentimentResult


def _scored_by(model_name: str, model_version: str) -> ColumnElement[bool]:
    """The mention (of the outer query) has a result from this model version."""
    return (
        select(SentimentResult.id)
        .where(
            SentimentResult.mention_id == Mention.id,
            SentimentResult.model_name == model_name,
            SentimentResult.model_version == model_version,
        )
        .exists()
    )


class PendingMention(NamedTuple):
    """What scoring reads of a mention: its text and what its WOM score is weighted by."""

    id: int
    text: str
    title: str | None
    language: str | None
    followers: int | None
    metrics: dict[str, Any] | None
    rating: int | None


def unscored_mentions(
    session: Session,
    model_name: str,
    model_version: str,
    limit: int,
    *,
    since: datetime | None = None,
) -> list[PendingMention]:
    """Mentions without a result from this model version, oldest id first."""
    scored = _scored_by(model_name, model_version)
    stmt = (
        select(
            Mention.id,
            Mention.text,
            Mention.title,
            Mention.language,
            Author.followers,
            Mention.metrics,
            Mention.rating,
        )
        .outerjoin(Author, Author.id == Mention.author_id)
        .where(~scored)
        .order_by(Mention.id)
        .limit(limit)
    )
    if since is not None:
        stmt = stmt.where(Mention.created_at >= since)
    return [PendingMention(*r) for r in session.execute(stmt)]


def count_unscored(
    session: Session, model_name: str, model_version: str, *, since: datetime | None = None
) -> int:
    """How many mentions lack a result from this model version."""
    scored = _scored_by(model_name, model_version)
    stmt = select(func.count()).select_from(Mention).where(~scored)
    if since is not None:
        stmt = stmt.where(Mention.created_at >= since)
    return int(session.scalar(stmt) or 0)


def insert_results(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Store results; a concurrent scorer's row for the same mention and model wins."""
    if rows:
        stmt = dialect_insert(session, SentimentResult).on_conflict_do_nothing(
            index_elements=[
                SentimentResult.mention_id,
                SentimentResult.model_name,
                SentimentResult.model_version,
            ]
        )
        session.execute(stmt, list(rows))


def is_latest_result(result: Any) -> ColumnElement[bool]:
    """`result` (SentimentResult or an alias of it) is its mention's newest result: latest
    scored_at, then highest id, whatever model produced it."""
    newer = aliased(SentimentResult)
    return ~(
        select(newer.id)
        .where(
            newer.mention_id == result.mention_id,
            or_(
                newer.scored_at > result.scored_at,
                and_(newer.scored_at == result.scored_at, newer.id > result.id),
            ),
        )
        .exists()
    )


def latest_results(session: Session, mention_ids: Sequence[int]) -> dict[int, SentimentResult]:
    """The newest result per mention (whatever model produced it)."""
    if not mention_ids:
        return {}
    stmt = select(SentimentResult).where(
        SentimentResult.mention_id.in_(mention_ids), is_latest_result(SentimentResult)
    )
    return {r.mention_id: r for r in session.scalars(stmt)}


def scored_unengaged_ids(session: Session, limit: int) -> list[int]:
    """Mentions that have a result but have not been through the engagement stage."""
    has_result = select(SentimentResult.id).where(SentimentResult.mention_id == Mention.id).exists()
    stmt = (
        select(Mention.id)
        .where(Mention.engaged_at.is_(None), has_result)
        .order_by(Mention.created_at, Mention.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def label_counts(session: Session) -> dict[str, int]:
    """How many results carry each label."""
    stmt = select(SentimentResult.label, func.count()).group_by(SentimentResult.label)
    return {str(label): n for label, n in session.execute(stmt)}


# ------------------------------------------------------------------ complaint taxonomy


def list_categories(session: Session, *, enabled_only: bool = False) -> list[ComplaintCategory]:
    """The taxonomy in display order."""
    stmt = select(ComplaintCategory).order_by(ComplaintCategory.position, ComplaintCategory.id)
    if enabled_only:
        stmt = stmt.where(ComplaintCategory.enabled.is_(True))
    return list(session.scalars(stmt))


def get_category(session: Session, key: str) -> ComplaintCategory | None:
    """One category by key."""
    return session.scalar(select(ComplaintCategory).where(ComplaintCategory.key == key))


def add_category(session: Session, category: ComplaintCategory) -> ComplaintCategory:
    """Insert a category; a key taken meanwhile by a concurrent insert is a ConflictError."""
    try:
        with session.begin_nested():
            session.add(category)
            session.flush()
    except IntegrityError as exc:
        raise ConflictError(f"complaint category {category.key!r} already exists") from exc
    return category


def delete_category(session: Session, category: ComplaintCategory) -> None:
    """Remove a category (results keep the key they were given)."""
    session.execute(delete(ComplaintCategory).where(ComplaintCategory.id == category.id))


def max_category_position(session: Session) -> int:
    """The highest position in use (0 when the taxonomy is empty)."""
    return int(session.scalar(select(func.max(ComplaintCategory.position))) or 0)


class StaleCategory(NamedTuple):
    """A negative result whose category came from another taxonomy version."""

    result_id: int
    text: str
    title: str | None


def stale_category_results(
    session: Session,
    taxonomy_version: str,
    after_id: int,
    limit: int,
    *,
    since: datetime | None = None,
) -> list[StaleCategory]:
    """Newest negative results categorised under another taxonomy, in result id order.

    An empty `taxonomy_version` means there is no taxonomy: only results that still carry a
    category or a version are stale (else every run would "re-categorise" them all again).
    """
    if taxonomy_version:
        outdated = or_(
            SentimentResult.taxonomy_version.is_(None),
            SentimentResult.taxonomy_version != taxonomy_version,
        )
    else:
        outdated = or_(
            SentimentResult.taxonomy_version.is_not(None), SentimentResult.category.is_not(None)
        )
    stmt = (
        select(SentimentResult.id, Mention.text, Mention.title)
        .join(Mention, Mention.id == SentimentResult.mention_id)
        .where(
            SentimentResult.id > after_id,
            SentimentResult.label == "negative",
            outdated,
            is_latest_result(SentimentResult),
        )
        .order_by(SentimentResult.id)
        .limit(limit)
    )
    if since is not None:
        stmt = stmt.where(Mention.created_at >= since)
    return [StaleCategory(*r) for r in session.execute(stmt)]


def set_categories(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Store new categories: rows of {id, category, category_score, taxonomy_version}."""
    for row in rows:
        session.execute(
            update(SentimentResult)
            .where(SentimentResult.id == row["id"])
            .values(
                category=row["category"],
                category_score=row["category_score"],
                taxonomy_version=row["taxonomy_version"],
            )
        )
