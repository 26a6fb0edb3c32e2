"""Negative word of mouth: how much harm one negative mention can do, from its reach.

A negative mention's WOM score is its negative probability times three reach factors:

    wom = p_negative x (1 + log10(1 + followers))
                     x (1 + log10(1 + likes + reposts + upvotes))
                     x rating factor (1 star 1.5, 2 stars 1.25, else 1)

Logarithms because reach has a long tail: an author with a million followers is more
dangerous than one with a hundred, but not ten thousand times more (and one viral account
must not push every other complaint off the list). The score is 0 to about 50 in practice:
an unknown author's certain complaint is about 1, a 10k-follower author's 4 to 5, a viral post
from a 1M-follower account above 25.
"""

from __future__ import annotations

import math
from typing import Any

from collectors.models import engagement_count

RATING_FACTOR = {1: 1.5, 2: 1.25}


def wom_score(
    label: str,
    p_negative: float,
    *,
    followers: int | None,
    metrics: dict[str, Any] | None,
    rating: int | None,
) -> float | None:
    """The WOM score of a negative mention; None for a neutral or positive one."""
    if label != "negative":
        return None
    reach = 1.0 + math.log10(1 + max(0, followers or 0))
    spread = 1.0 + math.log10(1 + max(0, engagement_count(metrics)))
    stars = RATING_FACTOR.get(rating or 0, 1.0)
    return round(p_negative * reach * spread * stars, 4)
