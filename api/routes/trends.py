"""Word-of-mouth trends for marketing: negative WOM per day or week, per category, top posts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep
from core.timeutil import to_naive_utc
from sentiment import trends
from sentiment.trends_schemas import Bucket, WomTrends

router = APIRouter(prefix="/wom", tags=["wom"])


def _naive(value: datetime | None) -> datetime | None:
    return to_naive_utc(value) if value is not None else None


@router.get("/trends", response_model=WomTrends)
def wom_trends(
    session: SessionDep,
    since: Annotated[
        datetime | None,
        Query(description="Mentions posted at or after (ISO 8601; default: 30 days before until)"),
    ] = None,
    until: Annotated[
        datetime | None, Query(description="Mentions posted before (default: end of today, UTC)")
    ] = None,
    bucket: Bucket = "day",
    platform: Annotated[str | None, Query(max_length=32)] = None,
    category: Annotated[str | None, Query(max_length=100, description="A category key")] = None,
    top: Annotated[int, Query(ge=0, le=trends.MAX_TOP)] = 10,
) -> WomTrends:
    """Negative word of mouth per bucket and category, with the most harmful mentions."""
    return trends.wom_trends(session, _naive(since), _naive(until), bucket, platform, category, top)
