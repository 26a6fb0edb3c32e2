"""Sentiment results: one row per mention and model version."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.timeutil import utcnow


class Label(enum.StrEnum):
    negative = "negative"
    neutral = "neutral"
    positive = "positive"


class ScoreStatus(enum.StrEnum):
    scored = "scored"
    unsupported_language = "unsupported_language"
    error = "error"


class SentimentResult(Base):
    """The label and class probabilities one model version gave one mention."""

    __tablename__ = "sentiment_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    model_name: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(32), default=ScoreStatus.scored.value)
    label: Mapped[str | None] = mapped_column(String(16))
    p_negative: Mapped[float | None] = mapped_column(Float)
    p_neutral: Mapped[float | None] = mapped_column(Float)
    p_positive: Mapped[float | None] = mapped_column(Float)
    wom_score: Mapped[float | None] = mapped_column(Float)
    category: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(String(500))
    scored_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint(
            "mention_id", "model_name", "model_version", name="uq_sentiment_mention_model"
        ),
        CheckConstraint(
            "label is null or label in ('negative', 'neutral', 'positive')", name="label_valid"
        ),
        Index("ix_sentiment_label_scored", "label", "scored_at"),
        Index("ix_sentiment_mention_scored", "mention_id", "scored_at"),
    )
