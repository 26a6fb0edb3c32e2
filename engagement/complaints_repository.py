"""All SQL for the complaints export."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, or_, select
from sqlalchemy.orm import Session, aliased

from collectors.models import Author, Mention
from engagement.models import Customer, CustomerIdentity, ResponseTask, TaskMention
from sentiment.models import SentimentResult
from sentiment.repository import is_latest_result


def complaint_rows(
    session: Session,
    *,
    since: datetime | None,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[Row[Any]]:
    """Up to `limit` complaints in (created_at, id) order, strictly after the `after` key.

    A complaint is a mention not posted by the brand whose newest sentiment result (latest
    scored_at, then highest id: the rule of sentiment.repository.latest_results) is labelled
    negative. Plain columns, not entities, so a long export holds no identity map.
    """
    result = aliased(SentimentResult)
    stmt = (
        select(
            Mention.id,
            Mention.platform,
            Mention.external_id,
            Mention.kind,
            Mention.url,
            Mention.text,
            Mention.rating,
            Mention.created_at,
            Author.handle.label("author_handle"),
            Author.followers.label("author_followers"),
            result.label.label("sentiment_label"),
            result.p_negative,
            result.p_neutral,
            result.p_positive,
            result.wom_score,
            result.category,
            TaskMention.task_id,
            ResponseTask.status.label("task_status"),
            Customer.crm_id.label("customer_crm_id"),
        )
        .join(result, result.mention_id == Mention.id)
        .outerjoin(Author, Author.id == Mention.author_id)
        .outerjoin(TaskMention, TaskMention.mention_id == Mention.id)
        .outerjoin(ResponseTask, ResponseTask.id == TaskMention.task_id)
        # author_id is unique among identities, so at most one customer per mention.
        .outerjoin(CustomerIdentity, CustomerIdentity.author_id == Mention.author_id)
        .outerjoin(Customer, Customer.id == CustomerIdentity.customer_id)
        .where(Mention.is_brand.is_(False), result.label == "negative", is_latest_result(result))
        .order_by(Mention.created_at, Mention.id)
        .limit(limit)
    )
    if since is not None:
        stmt = stmt.where(Mention.created_at >= since)
    if after is not None:
        created, mention_id = after
        stmt = stmt.where(
            or_(
                Mention.created_at > created,
                and_(Mention.created_at == created, Mention.id > mention_id),
            )
        )
    return list(session.execute(stmt))
