"""Which mentions open a response task, and how urgent they are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from collectors.models import Mention
from sentiment.models import SentimentResult

LOW_RATING = 2  # reviews at or below this many stars need an answer
HIGH_REACH = 10_000
VERY_HIGH_REACH = 100_000


@dataclass(frozen=True)
class Decision:
    """Whether a mention opens a task, why, and at which priority (1 = most urgent)."""

    opens: bool
    reason: str = ""
    priority: int = 3


def decide(
    mention: Mention, result: SentimentResult | None, *, negative_threshold: float
) -> Decision:
    """Apply the default rules: negative word-of-mouth and low-star reviews open tasks."""
    if mention.is_brand:
        return Decision(False)
    reasons = []
    priority = 3
    p_neg = result.p_negative if result and result.p_negative is not None else 0.0
    if result is not None and result.label == "negative" and p_neg >= negative_threshold:
        reasons.append("negative")
        if p_neg >= 0.9:
            priority = 2
    if mention.rating is not None and mention.rating <= LOW_RATING:
        reasons.append("low_rating")
        priority = min(priority, 2 if mention.rating == 1 else 3)
    if not reasons:
        return Decision(False)
    followers = mention.author.followers if mention.author and mention.author.followers else 0
    if followers >= VERY_HIGH_REACH:
        priority -= 2
    elif followers >= HIGH_REACH:
        priority -= 1
    return Decision(True, "+".join(reasons), max(1, min(4, priority)))


def thread_key(mention: Mention) -> str:
    """The conversation a mention belongs to: its thread, else the mention itself."""
    if mention.thread_id:
        return f"{mention.platform}:thread:{mention.thread_id}"
    return f"{mention.platform}:mention:{mention.external_id}"


def due_at(opened_at: datetime, priority: int, sla_minutes: dict[int, int]) -> datetime:
    """First-response deadline for a priority."""
    return opened_at + timedelta(minutes=sla_minutes.get(priority, 24 * 60))
