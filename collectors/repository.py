"""All SQL for authors and mentions: idempotent upserts and the reads the API needs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from collectors.models import Author, CollectorCursor, Mention, Source
from core.sql import dialect_insert
from core.timeutil import utcnow


def upsert_authors(session: Session, rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """Insert or refresh authors; return ids keyed by (platform, author_key)."""
    if not rows:
        return {}
    stmt = dialect_insert(session, Author)
    excluded = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=[Author.platform, Author.author_key],
        set_={
            # A later sighting refreshes the profile, but never erases what we knew.
            "handle": func.coalesce(excluded.handle, Author.handle),
            "platform_user_id": func.coalesce(excluded.platform_user_id, Author.platform_user_id),
            "display_name": func.coalesce(excluded.display_name, Author.display_name),
            "followers": func.coalesce(excluded.followers, Author.followers),
            "updated_at": excluded.updated_at,
        },
    )
    session.execute(stmt, list(rows))
    keys = {(r["platform"], r["author_key"]) for r in rows}
    ids: dict[tuple[str, str], int] = {}
    by_platform: dict[str, list[str]] = {}
    for platform, key in keys:
        by_platform.setdefault(platform, []).append(key)
    for platform, platform_keys in by_platform.items():
        found = session.execute(
            select(Author.author_key, Author.id).where(
                Author.platform == platform, Author.author_key.in_(platform_keys)
            )
        )
        ids.update({(platform, key): author_id for key, author_id in found})
    return ids


def insert_mentions(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert mentions, skipping any (platform, external_id) already stored; return new ids."""
    if not rows:
        return []
    stmt = (
        dialect_insert(session, Mention)
        .on_conflict_do_nothing(index_elements=[Mention.platform, Mention.external_id])
        .returning(Mention.id)
    )
    result = session.execute(stmt, list(rows))
    return [row[0] for row in result]


def get_mention(session: Session, mention_id: int) -> Mention | None:
    """One mention with its author."""
    return session.get(Mention, mention_id)


def mentions_query(
    platform: str | None = None, kind: str | None = None, author_id: int | None = None
) -> Select[Mention]:
    """Newest-first mention listing with optional filters."""
    stmt = select(Mention)
    if platform:
        stmt = stmt.where(Mention.platform == platform)
    if kind:
        stmt = stmt.where(Mention.kind == kind)
    if author_id is not None:
        stmt = stmt.where(Mention.author_id == author_id)
    return stmt.order_by(Mention.created_at.desc(), Mention.id.desc())


def list_mentions(
    session: Session, *, limit: int, offset: int, **filters: Any
) -> tuple[list[Mention], int]:
    """A page of mentions and the total matching count."""
    stmt = mentions_query(**filters)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = list(session.scalars(stmt.limit(limit).offset(offset)).unique())
    return items, total


def thread_mentions(
    session: Session, platform: str, thread_ids: Sequence[str], limit: int = 500
) -> list[Mention]:
    """Every stored mention of the given conversations, oldest first."""
    if not thread_ids:
        return []
    stmt = (
        select(Mention)
        .where(Mention.platform == platform, Mention.thread_id.in_(thread_ids))
        .order_by(Mention.created_at, Mention.id)
        .limit(limit)
    )
    return list(session.scalars(stmt).unique())


def count_mentions(session: Session) -> int:
    """Total stored mentions."""
    return session.scalar(select(func.count(Mention.id))) or 0


def unengaged_mentions(session: Session, mention_ids: Sequence[int]) -> list[Mention]:
    """The given mentions that the engagement stage has not looked at yet."""
    return list(
        session.scalars(
            select(Mention).where(Mention.id.in_(mention_ids), Mention.engaged_at.is_(None))
        ).unique()
    )


def mark_engaged(session: Session, mention_ids: Sequence[int]) -> None:
    """Record that the engagement stage has handled these mentions."""
    if mention_ids:
        session.execute(
            update(Mention).where(Mention.id.in_(mention_ids)).values(engaged_at=utcnow())
        )


def add_source(session: Session, source: Source) -> Source:
    """Insert a source and get its id."""
    session.add(source)
    session.flush()
    return source


def get_source(session: Session, source_id: int) -> Source | None:
    """One source."""
    return session.get(Source, source_id)


def list_sources(session: Session, *, enabled: bool | None = None) -> list[Source]:
    """Sources by id (optionally only enabled or only paused ones)."""
    stmt = select(Source).order_by(Source.id)
    if enabled is not None:
        stmt = stmt.where(Source.enabled.is_(enabled))
    return list(session.scalars(stmt))


def delete_source(session: Session, source: Source) -> None:
    """Remove a source (its mentions stay; their source_id becomes null)."""
    session.delete(source)
    session.flush()


def get_cursor(session: Session, source_id: int) -> dict[str, Any]:
    """A source's stored cursor ({} before the first batch)."""
    row = session.get(CollectorCursor, source_id)
    return dict(row.cursor) if row is not None else {}


def save_cursor(session: Session, source_id: int, cursor: dict[str, Any]) -> None:
    """Store a source's cursor (in the caller's transaction, with the batch it belongs to)."""
    row = session.get(CollectorCursor, source_id)
    if row is None:
        session.add(CollectorCursor(source_id=source_id, cursor=dict(cursor)))
    else:
        row.cursor = dict(cursor)
    session.flush()


def reset_cursor(session: Session, source_id: int) -> None:
    """Forget a source's cursor so the next run starts (or backfills) afresh."""
    row = session.get(CollectorCursor, source_id)
    if row is not None:
        session.delete(row)
