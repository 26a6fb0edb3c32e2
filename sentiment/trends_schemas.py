"""Pydantic I/O for word-of-mouth trends (times are naive UTC)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel

Bucket = Literal["day", "week"]
BUCKETS: tuple[str, ...] = ("day", "week")


class TrendBucket(BaseModel):
    """The scored mentions posted in one day or week (weeks start on Monday)."""

    start: date
    scored: int
    negative: int
    neutral: int
    positive: int
    # Negative mentions with a WOM score, and the sum of those scores (reach-weighted harm).
    wom_count: int
    wom_score: float
    # negative / scored; None when nothing was scored.
    negative_share: float | None


class TrendTotals(BaseModel):
    """The whole range, and the negative word of mouth of the period before it."""

    scored: int
    negative: int
    neutral: int
    positive: int
    wom_count: int
    wom_score: float
    negative_share: float | None
    previous_wom_count: int
    previous_wom_score: float


class CategoryTrend(BaseModel):
    """Negative mentions of one complaint category, against the previous period."""

    # None: negative mentions without a category ("Uncategorised").
    key: str | None
    name: str
    negative: int
    wom_count: int
    wom_score: float
    # This category's WOM score ÷ all categories' WOM score; None when that is 0.
    wom_share: float | None
    previous_wom_count: int
    previous_wom_score: float
    # wom_count - previous_wom_count, and that as a fraction of previous_wom_count (None
    # when the previous period had none).
    change: int
    change_pct: float | None


class WomMention(BaseModel):
    """One of the most harmful negative mentions of the range."""

    mention_id: int
    created_at: datetime
    platform: str
    url: str | None
    author_handle: str | None
    author_followers: int | None
    wom_score: float
    category: str | None
    category_name: str
    # Cut to TOP_TEXT_CHARS characters.
    text: str


class WomTrends(BaseModel):
    """Negative word of mouth in [since, until), per bucket and per category; the previous
    period is the same length, just before `since`."""

    since: datetime
    until: datetime
    previous_since: datetime
    bucket: Bucket
    platform: str | None
    category: str | None
    totals: TrendTotals
    buckets: list[TrendBucket]
    categories: list[CategoryTrend]
    top: list[WomMention]
