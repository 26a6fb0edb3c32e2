"""All SQL for sentiment results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from collectors.models import Mention
from core.sql import dialect_insert
from sentiment.models import SentimentResult


def unscored_mentions(
    session: Session, model_name: str, model_version: str, limit: int
) -> list[tuple[int, str, str | None, str | None]]:
    """(id, text, title, language) of mentions without a result from this model version."""
    scored = (
        select(SentimentResult.id)
        .where(
            SentimentResult.mention_id == Mention.id,
            SentimentResult.model_name == model_name,
            SentimentResult.model_version == model_version,
        )
        .exists()
    )
    stmt = (
        select(Mention.id, Mention.text, Mention.title, Mention.language)
        .where(~scored)
        .order_by(Mention.id)
        .limit(limit)
    )
    return [(r[0], r[1], r[2], r[3]) for r in session.execute(stmt)]


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
