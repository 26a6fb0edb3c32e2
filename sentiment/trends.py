"""Word-of-mouth trends for marketing: how negative word of mouth develops and what it is about.

Definitions (what `wom_trends` implements):

* A mention counts once, by its newest sentiment result (latest scored_at, then highest id,
  whatever model produced it); a mention whose newest result has no label (unsupported
  language, error) is not scored. The brand's own mentions never count.
* Mentions fall in the range and in buckets by created_at (the platform's post time, UTC);
  days run 00:00 to 24:00 UTC and weeks start on Monday. Every bucket the range touches is
  present, with zeros where nothing was posted; the first and last may be partial.
* Negative word of mouth (WOM) is a negative mention with a WOM score (p_negative weighted
  by the author's reach); its harm is the sum of those scores.
* Categories: negative mentions per complaint category (name from the taxonomy, the key when
  the category was deleted since, "Uncategorised" without one), compared with the previous
  period of equal length that ends at `since`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy.orm import Session

from collectors.models import Platform
from collectors.service import bound_text
from core.errors import InvalidError
from core.timeutil import utcnow
from sentiment import trends_repository as repo
from sentiment.trends_schemas import (
    BUCKETS,
    Bucket,
    CategoryTrend,
    TrendBucket,
    TrendTotals,
    WomMention,
    WomTrends,
)

DEFAULT_DAYS = 30
MAX_DAYS = 366
MAX_TOP = 100
TOP_TEXT_CHARS = 280
UNCATEGORISED = "Uncategorised"
# Sums of floats differ in the last bits between databases; reports round them.
DECIMALS = 4


def default_range(
    days: int = DEFAULT_DAYS, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """The last `days` whole UTC days, today included: [midnight - days + 1, tomorrow)."""
    today = (now or utcnow()).date()
    until = datetime.combine(today + timedelta(days=1), time())
    return until - timedelta(days=days), until


def newest_scored_at(session: Session, platform: str | None = None) -> datetime | None:
    """When the newest scored mention (brand posts aside) was posted, for "jump to data"."""
    return repo.newest_scored_at(session, platform)


def _bucket_starts(since: datetime, until: datetime, bucket: str) -> list[date]:
    """Every day, or every Monday, whose bucket overlaps [since, until)."""
    first = since.date()
    last = (until - timedelta(microseconds=1)).date()
    step = timedelta(days=1)
    if bucket == "week":
        first -= timedelta(days=first.weekday())
        last -= timedelta(days=last.weekday())
        step = timedelta(days=7)
    starts = []
    day = first
    while day <= last:
        starts.append(day)
        day += step
    return starts


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, DECIMALS) if whole else None


def _validate(
    since: datetime, until: datetime, bucket: str, platform: str | None, top: int
) -> None:
    if bucket not in BUCKETS:
        raise InvalidError(f"bucket must be one of {', '.join(BUCKETS)}")
    if since >= until:
        raise InvalidError("since must be before until")
    if until - since > timedelta(days=MAX_DAYS):
        raise InvalidError(f"the range may span at most {MAX_DAYS} days")
    if platform is not None and platform not in Platform.__members__:
        raise InvalidError(f"unknown platform {platform!r}")
    if not 0 <= top <= MAX_TOP:
        raise InvalidError(f"top must be between 0 and {MAX_TOP}")


def _categories(
    current: list[Any], previous: list[Any], names: dict[str, str]
) -> list[CategoryTrend]:
    """Rows for every category with negative mentions in either period, most harmful first."""
    now = {r.category: r for r in current}
    before = {r.category: r for r in previous}
    total = sum(float(r.wom_score) for r in current)
    rows = []
    for key in now.keys() | before.keys():
        cur, prev = now.get(key), before.get(key)
        wom_count = int(cur.wom_count) if cur else 0
        wom_score = round(float(cur.wom_score), DECIMALS) if cur else 0.0
        prev_count = int(prev.wom_count) if prev else 0
        rows.append(
            CategoryTrend(
                key=key,
                name=UNCATEGORISED if key is None else names.get(key, key),
                negative=int(cur.negative) if cur else 0,
                wom_count=wom_count,
                wom_score=wom_score,
                wom_share=_share(float(cur.wom_score), total) if cur else None,
                previous_wom_count=prev_count,
                previous_wom_score=round(float(prev.wom_score), DECIMALS) if prev else 0.0,
                change=wom_count - prev_count,
                change_pct=_share(wom_count - prev_count, prev_count),
            )
        )
    rows.sort(key=lambda r: (-r.wom_score, -r.wom_count, -r.negative, r.name))
    return rows


def wom_trends(
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    bucket: str = "day",
    platform: str | None = None,
    category: str | None = None,
    top: int = 10,
    *,
    now: datetime | None = None,
) -> WomTrends:
    """Negative word of mouth in [since, until) per bucket and category, and the top mentions."""
    if since is None or until is None:
        default_since, default_until = default_range(now=now)
        until = until or default_until
        since = since or until - (default_until - default_since)
    _validate(since, until, bucket, platform, top)
    filters: dict[str, Any] = {"platform": platform, "category": category}
    by_start = {
        date.fromisoformat(str(r.bucket)): r
        for r in repo.bucket_rows(session, since=since, until=until, bucket=bucket, **filters)
    }
    buckets = []
    for start in _bucket_starts(since, until, bucket):
        r = by_start.get(start)
        scored, negative = (int(r.scored), int(r.negative)) if r else (0, 0)
        buckets.append(
            TrendBucket(
                start=start,
                scored=scored,
                negative=negative,
                neutral=int(r.neutral) if r else 0,
                positive=int(r.positive) if r else 0,
                wom_count=int(r.wom_count) if r else 0,
                wom_score=round(float(r.wom_score), DECIMALS) if r else 0.0,
                negative_share=_share(negative, scored),
            )
        )
    previous_since = since - (until - since)
    current = repo.category_rows(session, since=since, until=until, **filters)
    previous = repo.category_rows(session, since=previous_since, until=since, **filters)
    names = repo.category_names(session)
    scored = sum(b.scored for b in buckets)
    negative = sum(b.negative for b in buckets)
    totals = TrendTotals(
        scored=scored,
        negative=negative,
        neutral=sum(b.neutral for b in buckets),
        positive=sum(b.positive for b in buckets),
        wom_count=sum(b.wom_count for b in buckets),
        wom_score=round(sum(float(r.wom_score) for r in by_start.values()), DECIMALS),
        negative_share=_share(negative, scored),
        previous_wom_count=sum(int(r.wom_count) for r in previous),
        previous_wom_score=round(sum(float(r.wom_score) for r in previous), DECIMALS),
    )
    top_rows = (
        repo.top_wom_rows(session, since=since, until=until, limit=top, **filters) if top else []
    )
    return WomTrends(
        since=since,
        until=until,
        previous_since=previous_since,
        bucket=cast(Bucket, bucket),
        platform=platform,
        category=category,
        totals=totals,
        buckets=buckets,
        categories=_categories(current, previous, names),
        top=[
            WomMention(
                mention_id=r.id,
                created_at=r.created_at,
                platform=r.platform,
                url=r.url,
                author_handle=r.author_handle,
                author_followers=r.author_followers,
                wom_score=round(float(r.wom_score), DECIMALS),
                category=r.category,
                category_name=UNCATEGORISED
                if r.category is None
                else names.get(r.category, r.category),
                text=bound_text(r.text, TOP_TEXT_CHARS)[0],
            )
            for r in top_rows
        ],
    )
