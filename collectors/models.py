"""Tables for sources, cursors, authors (social identities) and mentions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base
from core.timeutil import utcnow
from core.types import JsonType


class Platform(enum.StrEnum):
    twitter = "twitter"
    reddit = "reddit"
    appstore = "appstore"
    googleplay = "googleplay"
    rss = "rss"
    file = "file"
    other = "other"


class MentionKind(enum.StrEnum):
    post = "post"
    reply = "reply"
    review = "review"


class Source(Base):
    """A configured collector: what to fetch, from where, how often."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(32))
    query: Mapped[str] = mapped_column(Text, default="")
    config: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    schedule_seconds: Mapped[int] = mapped_column(Integer, default=900)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    items_fetched: Mapped[int] = mapped_column(Integer, default=0)
    # idle | ok | rate_limited | retrying | disabled (see collectors.runner)
    status: Mapped[str] = mapped_column(String(16), default="idle", server_default="idle")
    # Earliest time the next collection may start (rate-limit reset, backoff).
    next_run_at: Mapped[datetime | None] = mapped_column(DateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_run_items: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (
        CheckConstraint("schedule_seconds > 0", name="schedule_positive"),
        Index("ix_sources_platform", "platform"),
    )


class CollectorCursor(Base):
    """Where a source's next fetch starts; moved in the same transaction as its batch."""

    __tablename__ = "collector_cursors"

    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    )
    cursor: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Author(Base):
    """A social identity on one platform (a customer may own several)."""

    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    # Platform user id when known, else "@handle": ids survive handle changes.
    author_key: Mapped[str] = mapped_column(String(255))
    platform_user_id: Mapped[str | None] = mapped_column(String(255))
    handle: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    followers: Mapped[int | None] = mapped_column(Integer)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("platform", "author_key", name="uq_authors_platform_key"),
        Index("ix_authors_platform_handle", "platform", "handle"),
    )


# Metrics that spread a post to people beyond the author's followers.
ENGAGEMENT_METRICS = ("likes", "reposts", "upvotes")


def engagement_count(metrics: dict[str, Any] | None) -> int:
    """Sum of the engagement metrics present as integers (platforms omit or null some)."""
    total = 0
    for name in ENGAGEMENT_METRICS:
        value = (metrics or {}).get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            total += value
    return total


class Mention(Base):
    """One post, reply or review from a platform, stored once per (platform, external_id)."""

    __tablename__ = "mentions"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(255))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16), default=MentionKind.post.value)
    text: Mapped[str] = mapped_column(Text)
    text_truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str | None] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(String(2048))
    language: Mapped[str | None] = mapped_column(String(16))
    rating: Mapped[int | None] = mapped_column(Integer)
    thread_id: Mapped[str | None] = mapped_column(String(255))
    in_reply_to_id: Mapped[str | None] = mapped_column(String(255))
    metrics: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    raw: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    is_brand: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    collected_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Stage marker: set once the engagement rules have looked at this mention.
    engaged_at: Mapped[datetime | None] = mapped_column(DateTime)

    author: Mapped[Author | None] = relationship(lazy="joined")

    @property
    def engagement(self) -> int:
        """Likes + reposts + upvotes: how far the mention has travelled beyond its author."""
        return engagement_count(self.metrics)

    __table_args__ = (
        UniqueConstraint("platform", "external_id", name="uq_mentions_platform_external_id"),
        CheckConstraint("kind in ('post', 'reply', 'review')", name="kind_valid"),
        CheckConstraint("rating is null or (rating >= 1 and rating <= 5)", name="rating_range"),
        Index("ix_mentions_created_at", "created_at"),
        Index("ix_mentions_platform_thread", "platform", "thread_id"),
        Index("ix_mentions_author_created", "author_id", "created_at"),
        Index("ix_mentions_source_id", "source_id"),
        Index("ix_mentions_unengaged", "engaged_at", "id"),
    )
