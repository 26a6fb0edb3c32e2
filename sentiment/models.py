"""Sentiment results: one row per mention and model version."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.timeutil import utcnow
from core.types import JsonType


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
    # Set only for negative word of mouth: p_negative weighted by the author's reach.
    wom_score: Mapped[float | None] = mapped_column(Float)
    # A ComplaintCategory key (negative results only), its similarity, and the taxonomy
    # fingerprint it was chosen from (so an edited taxonomy can re-categorise old results).
    category: Mapped[str | None] = mapped_column(String(100))
    category_score: Mapped[float | None] = mapped_column(Float)
    taxonomy_version: Mapped[str | None] = mapped_column(String(32))
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


class ComplaintCategory(Base):
    """One complaint category of the brand's taxonomy, matched by meaning, not keywords.

    A negative mention gets the category whose description and examples its sentence
    embedding is closest to, so adding a category needs no retraining.
    """

    __tablename__ = "complaint_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable identifier stored on results and tasks ("billing"); name is what people read.
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    examples: Mapped[list[str]] = mapped_column(JsonType, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
