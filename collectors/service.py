"""Ingest: the one idempotent path by which any collector's mentions are stored."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from collectors import registry, repository
from collectors.models import Mention, Source
from collectors.schemas import IngestResult, MentionCreate, SourceCreate, SourceUpdate
from core.errors import NotFoundError
from core.timeutil import utcnow

log = logging.getLogger(__name__)

TRUNCATION_MARK = " […]"


def bound_text(text: str, max_chars: int) -> tuple[str, bool]:
    """Cut text to max_chars (marking the cut); drop NUL, which no database stores as text."""
    text = text.replace("\x00", "")
    if len(text) <= max_chars:
        return text, False
    return text[: max_chars - len(TRUNCATION_MARK)] + TRUNCATION_MARK, True


def bound_raw(raw: dict[str, Any] | None, max_bytes: int) -> dict[str, Any] | None:
    """Keep a raw payload only while it stays under max_bytes as JSON."""
    if raw is None:
        return None
    encoded = json.dumps(raw, default=str)
    size = len(encoded.encode())
    if size > max_bytes:
        return {"_omitted": f"raw payload of {size} bytes exceeded {max_bytes}"}
    # JSON round trip: drops NULs from strings and anything the column cannot hold.
    result: dict[str, Any] = json.loads(encoded.replace("\\u0000", ""))
    return result


def ingest(
    session: Session,
    mentions: Sequence[MentionCreate],
    *,
    source_id: int | None = None,
    max_text_chars: int = 20_000,
    max_raw_bytes: int = 65_536,
) -> IngestResult:
    """Store mentions and their authors; re-ingesting the same mentions adds nothing."""
    # Last sighting wins inside a batch, so one statement never touches a row twice.
    unique: dict[tuple[str, str], MentionCreate] = {}
    for item in mentions:
        unique[(item.platform.value, item.external_id)] = item

    now = utcnow()
    author_rows: dict[tuple[str, str], dict[str, Any]] = {}
    for item in unique.values():
        if item.author is None or item.author.key is None:
            continue
        row = {
            "platform": item.platform.value,
            "author_key": item.author.key,
            "platform_user_id": item.author.id,
            "handle": item.author.handle,
            "display_name": item.author.name,
            "followers": item.author.followers,
            "first_seen_at": now,
            "updated_at": now,
        }
        seen = author_rows.get((item.platform.value, item.author.key))
        if seen is not None:
            # A later sighting without a field keeps what an earlier one told us.
            row = {k: seen[k] if v is None else v for k, v in row.items()}
        author_rows[(item.platform.value, item.author.key)] = row
    author_ids = repository.upsert_authors(session, list(author_rows.values()))

    rows: list[dict[str, Any]] = []
    for (platform, external_id), item in unique.items():
        text, truncated = bound_text(item.text, max_text_chars)
        author_key = item.author.key if item.author else None
        rows.append(
            {
                "platform": platform,
                "external_id": external_id,
                "source_id": source_id,
                "author_id": author_ids.get((platform, author_key)) if author_key else None,
                "kind": item.kind.value if item.kind else "post",
                "text": text,
                "text_truncated": truncated,
                "title": bound_text(item.title, 500)[0] if item.title else None,
                "url": item.url,
                "language": item.language.lower() if item.language else None,
                "rating": item.rating,
                "thread_id": item.thread_id,
                "in_reply_to_id": item.in_reply_to_id,
                "metrics": item.metrics,
                "raw": bound_raw(item.raw, max_raw_bytes),
                "is_brand": item.is_brand,
                "created_at": item.created_at,
                "collected_at": now,
            }
        )
    inserted = repository.insert_mentions(session, rows)
    result = IngestResult(
        received=len(mentions),
        inserted=len(inserted),
        duplicates=len(mentions) - len(inserted),
        inserted_ids=inserted,
    )
    log.debug("ingested", extra={"inserted": result.inserted, "duplicates": result.duplicates})
    return result


def get_mention(session: Session, mention_id: int) -> Mention | None:
    """One stored mention."""
    return repository.get_mention(session, mention_id)


def list_mentions(
    session: Session, *, limit: int = 50, offset: int = 0, **filters: Any
) -> tuple[list[Mention], int]:
    """A newest-first page of mentions."""
    return repository.list_mentions(session, limit=limit, offset=offset, **filters)


def create_source(session: Session, data: SourceCreate) -> Source:
    """Add a source after checking its platform config."""
    config = registry.validate_config(data.platform.value, data.config)
    return repository.add_source(
        session,
        Source(
            name=data.name,
            platform=data.platform.value,
            query=data.query,
            config=config,
            schedule_seconds=data.schedule_seconds,
            enabled=data.enabled,
            status="idle",
        ),
    )


def get_source(session: Session, source_id: int) -> Source:
    """One source, or NotFoundError."""
    source = repository.get_source(session, source_id)
    if source is None:
        raise NotFoundError(f"source {source_id} not found")
    return source


def list_sources(session: Session, *, enabled: bool | None = None) -> list[Source]:
    """Every source with its status."""
    return repository.list_sources(session, enabled=enabled)


def update_source(session: Session, source_id: int, data: SourceUpdate) -> Source:
    """Change a source; re-enabling clears a disabled source's error state."""
    source = get_source(session, source_id)
    changes = data.model_dump(exclude_unset=True)
    if "config" in changes and changes["config"] is not None:
        changes["config"] = registry.validate_config(source.platform, changes["config"])
    for field_name, value in changes.items():
        if value is not None:
            setattr(source, field_name, value)
    if changes.get("enabled") is True and source.status == "disabled":
        source.status, source.failures, source.next_run_at = "idle", 0, None
    session.flush()
    return source


def delete_source(session: Session, source_id: int) -> None:
    """Remove a source; its mentions stay."""
    repository.delete_source(session, get_source(session, source_id))


def reset_cursor(session: Session, source_id: int) -> None:
    """Make the next run start from scratch (re-backfill); duplicates are skipped on ingest."""
    get_source(session, source_id)
    repository.reset_cursor(session, source_id)
