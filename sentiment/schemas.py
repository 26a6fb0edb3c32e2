"""Pydantic I/O for sentiment results."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class SentimentRead(BaseModel):
    """A stored sentiment result."""

    model_config = ConfigDict(from_attributes=True)

    mention_id: int
    model_name: str
    model_version: str
    status: str
    label: str | None
    p_negative: float | None
    p_neutral: float | None
    p_positive: float | None
    wom_score: float | None
    category: str | None
    scored_at: datetime


class ScoreReport(BaseModel):
    """What one scoring pass did."""

    scored: int = 0
    unsupported_language: int = 0
    by_label: dict[str, int] = {}

    def add(self, other: ScoreReport) -> None:
        """Accumulate another pass's counts."""
        self.scored += other.scored
        self.unsupported_language += other.unsupported_language
        for label, n in other.by_label.items():
            self.by_label[label] = self.by_label.get(label, 0) + n
