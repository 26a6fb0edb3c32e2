"""Word-of-mouth trends: buckets, newest-result rule, categories against the previous period,
top mentions and validation (on SQLite and PostgreSQL, with hand-built sentiment results)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from collectors.models import Author, Mention
from core.errors import InvalidError
from sentiment import trends
from sentiment.models import ComplaintCategory, SentimentResult

# A Monday; the week before it is the previous period of a 7-day range.
MON = datetime(2026, 11, 2)
WEEK = timedelta(days=7)
_ids = itertools.count(1)


def score(
    session: Any,
    mention: Mention,
    label: str | None,
    wom: float | None = None,
    category: str | None = None,
    *,
    scored_at: datetime | None = None,
    model: str = "m1",
    status: str = "scored",
) -> None:
    """Store one sentiment result for the mention."""
    session.add(
        SentimentResult(
            mention_id=mention.id,
            model_name=model,
            model_version="1",
            status=status,
            label=label,
            p_negative=0.9 if label == "negative" else 0.1,
            p_neutral=0.05,
            p_positive=0.05 if label == "negative" else 0.85,
            wom_score=wom,
            category=category,
            scored_at=scored_at or mention.created_at + timedelta(minutes=5),
        )
    )
    session.flush()


def post(
    session: Any,
    at: datetime,
    label: str | None = "negative",
    wom: float | None = None,
    category: str | None = None,
    *,
    platform: str = "twitter",
    brand: bool = False,
    handle: str | None = "someone",
    followers: int | None = 120,
    text: str | None = None,
    url: str | None = None,
) -> Mention:
    """A mention with an author and (unless label is None) one result."""
    n = next(_ids)
    author = None
    if handle is not None:
        author = Author(platform=platform, author_key=f"wom{n}", handle=handle, followers=followers)
        session.add(author)
        session.flush()
    mention = Mention(
        platform=platform,
        external_id=f"wom-{n}",
        author_id=author.id if author else None,
        text=text or f"mention {n}",
        url=url,
        created_at=at,
        is_brand=brand,
    )
    session.add(mention)
    session.flush()
    if label is not None:
        score(session, mention, label, wom, category)
    return mention


def taxonomy(session: Any, **names: str) -> None:
    """Categories by key → name (keys of their own, so the seeded taxonomy does not matter)."""
    for i, (key, name) in enumerate(names.items()):
        session.add(ComplaintCategory(key=key, name=name, position=900 + i))
    session.flush()


def week_report(session: Any, **kw: Any) -> trends.WomTrends:
    return trends.wom_trends(session, MON, MON + WEEK, **kw)


def test_day_buckets_are_zero_filled_with_counts_and_shares(session):
    post(session, MON + timedelta(hours=10), "negative", 2.5, "t_billing")
    post(session, MON + timedelta(hours=23, minutes=59), "neutral")
    post(session, MON + timedelta(days=2, hours=8), "negative", 4.0, "t_delivery")
    post(session, MON + timedelta(days=2, hours=9), "positive")
    post(session, MON + timedelta(days=2, hours=10), "negative")  # negative, no WOM score
    post(session, MON + timedelta(days=6, hours=23), "negative", 1.25)
    # Outside [since, until): the first counts in the previous period only.
    post(session, MON - timedelta(minutes=1), "negative", 3.0, "t_billing")
    post(session, MON + WEEK, "negative", 8.0)
    # The brand's own post, an unsupported language and an unscored mention never count.
    post(session, MON + timedelta(days=1), "negative", 9.0, brand=True)
    unsupported = post(session, MON + timedelta(days=3), None)
    score(session, unsupported, None, status="unsupported_language")
    post(session, MON + timedelta(days=3), None)

    report = week_report(session)

    assert [
        (b.start, b.scored, b.negative, b.neutral, b.positive, b.wom_count, b.wom_score)
        for b in report.buckets
    ] == [
        (date(2026, 11, 2), 2, 1, 1, 0, 1, 2.5),
        (date(2026, 11, 3), 0, 0, 0, 0, 0, 0.0),
        (date(2026, 11, 4), 3, 2, 0, 1, 1, 4.0),
        (date(2026, 11, 5), 0, 0, 0, 0, 0, 0.0),
        (date(2026, 11, 6), 0, 0, 0, 0, 0, 0.0),
        (date(2026, 11, 7), 0, 0, 0, 0, 0, 0.0),
        (date(2026, 11, 8), 1, 1, 0, 0, 1, 1.25),
    ]
    assert [b.negative_share for b in report.buckets] == [
        0.5, None, 0.6667, None, None, None, 1.0
    ]  # fmt: skip
    assert report.totals.model_dump() == {
        "scored": 6,
        "negative": 4,
        "neutral": 1,
        "positive": 1,
        "wom_count": 3,
        "wom_score": 7.75,
        "negative_share": 0.6667,
        "previous_wom_count": 1,
        "previous_wom_score": 3.0,
    }
    assert (report.bucket, report.previous_since) == ("day", MON - WEEK)


def test_week_buckets_start_on_monday(session):
    post(session, datetime(2026, 10, 28, 12), "negative", 1.0)  # Wednesday
    post(session, datetime(2026, 11, 1, 23, 59, 59), "negative", 2.0)  # Sunday night
    post(session, datetime(2026, 11, 2, 0, 0), "neutral")  # Monday midnight
    post(session, datetime(2026, 11, 11, 8), "positive")  # Wednesday, last partial week

    report = trends.wom_trends(
        session, datetime(2026, 10, 28), datetime(2026, 11, 12, 12), bucket="week"
    )

    assert [(b.start, b.scored, b.negative, b.wom_count, b.wom_score) for b in report.buckets] == [
        (date(2026, 10, 26), 2, 2, 2, 3.0),
        (date(2026, 11, 2), 1, 0, 0, 0.0),
        (date(2026, 11, 9), 1, 0, 0, 0.0),
    ]
    assert report.bucket == "week"


def test_week_range_without_data_still_lists_every_week(session):
    report = trends.wom_trends(session, datetime(2026, 11, 8), datetime(2026, 11, 24), "week")
    assert [b.start for b in report.buckets] == [
        date(2026, 11, 2),
        date(2026, 11, 9),
        date(2026, 11, 16),
        date(2026, 11, 23),
    ]
    assert report.totals.scored == 0 and report.totals.negative_share is None


def test_only_the_newest_result_of_a_mention_counts(session):
    at = MON + timedelta(hours=9)
    # Re-scored by a newer model: old negative WOM, new positive → positive only.
    changed = post(session, at, "negative", 6.0, "t_billing")
    score(session, changed, "positive", scored_at=at + timedelta(days=1), model="m2")
    # The other way round: old positive, new negative WOM.
    worse = post(session, at, "positive")
    score(
        session, worse, "negative", 2.0, "t_billing", scored_at=at + timedelta(days=1), model="m2"
    )
    # Same scored_at: the higher id (stored later) wins.
    tie = post(session, at, "negative", 5.0)
    score(session, tie, "neutral", scored_at=at + timedelta(minutes=5), model="m2")
    # Newest result has no label (unsupported language): not scored any more.
    gone = post(session, at, "negative", 7.0)
    score(
        session,
        gone,
        None,
        scored_at=at + timedelta(days=1),
        model="m2",
        status="unsupported_language",
    )

    report = week_report(session)

    first = report.buckets[0]
    assert (first.scored, first.negative, first.neutral, first.positive) == (3, 1, 1, 1)
    assert (first.wom_count, first.wom_score) == (1, 2.0)
    assert [(c.key, c.negative, c.wom_count, c.wom_score) for c in report.categories] == [
        ("t_billing", 1, 1, 2.0)
    ]
    assert [m.mention_id for m in report.top] == [worse.id]


def test_categories_with_names_fallbacks_shares_and_change(session):
    taxonomy(session, t_billing="Billing", t_delivery="Delivery")
    day = MON + timedelta(days=1)
    post(session, day, "negative", 3.0, "t_billing")
    post(session, day, "negative", 1.0, "t_billing")
    post(session, day, "negative", 2.0, "deleted_key")  # no longer in the taxonomy
    post(session, day, "negative", 0.5)
    post(session, day, "negative")  # negative without a WOM score, uncategorised
    post(session, day, "positive")
    # The previous period (the week before).
    before = day - WEEK
    post(session, before, "negative", 1.5, "t_billing")
    post(session, before, "negative", 1.0, "t_delivery")
    post(session, before, "negative", 1.0, "t_delivery")
    post(session, before - WEEK, "negative", 9.0, "t_billing")  # older still: ignored

    report = week_report(session)

    rows = [
        (
            r.key,
            r.name,
            r.negative,
            r.wom_count,
            r.wom_score,
            r.wom_share,
            r.previous_wom_count,
            r.previous_wom_score,
            r.change,
            r.change_pct,
        )
        for r in report.categories
    ]
    assert rows == [
        ("t_billing", "Billing", 2, 2, 4.0, 0.6154, 1, 1.5, 1, 1.0),
        ("deleted_key", "deleted_key", 1, 1, 2.0, 0.3077, 0, 0.0, 1, None),
        (None, "Uncategorised", 2, 1, 0.5, 0.0769, 0, 0.0, 1, None),
        ("t_delivery", "Delivery", 0, 0, 0.0, None, 2, 2.0, -2, -1.0),
    ]
    assert (report.totals.previous_wom_count, report.totals.previous_wom_score) == (3, 3.5)


def test_top_mentions_by_wom_score_with_bounded_text(session):
    taxonomy(session, t_app="App crashes")
    day = MON + timedelta(days=3)
    low = post(session, day, "negative", 1.0)
    high = post(
        session,
        day + timedelta(hours=1),
        "negative",
        7.5,
        "t_app",
        handle="loud",
        followers=250_000,
        text="x" * 300,
        url="https://x.example/status/1",
    )
    mid = post(session, day, "negative", 3.25, "gone", handle=None)
    same_score_newer = post(session, day + timedelta(hours=2), "negative", 1.0)
    post(session, day, "negative", 99.0, brand=True)

    report = week_report(session, top=3)

    assert [m.mention_id for m in report.top] == [high.id, mid.id, same_score_newer.id]
    first = report.top[0]
    assert (first.author_handle, first.author_followers, first.platform, first.url) == (
        "loud",
        250_000,
        "twitter",
        "https://x.example/status/1",
    )
    assert (first.wom_score, first.category, first.category_name) == (7.5, "t_app", "App crashes")
    assert len(first.text) == trends.TOP_TEXT_CHARS and first.text.endswith(" […]")
    assert first.created_at == day + timedelta(hours=1)
    second = report.top[1]
    assert (second.author_handle, second.author_followers, second.category_name) == (
        None,
        None,
        "gone",
    )
    assert [m.mention_id for m in week_report(session, top=5).top][-1] == low.id
    assert week_report(session, top=0).top == []


def test_platform_and_category_filters(session):
    day = MON + timedelta(days=1)
    post(session, day, "negative", 2.0, "t_billing", platform="reddit")
    post(session, day, "positive", platform="reddit")
    post(session, day, "negative", 4.0, "t_billing")
    post(session, day, "negative", 1.0, "t_delivery")

    reddit = week_report(session, platform="reddit")
    assert (reddit.totals.scored, reddit.totals.wom_count, reddit.totals.wom_score) == (2, 1, 2.0)
    assert [m.platform for m in reddit.top] == ["reddit"]

    billing = week_report(session, category="t_billing")
    assert (billing.totals.scored, billing.totals.negative, billing.totals.wom_score) == (
        2,
        2,
        6.0,
    )
    assert [c.key for c in billing.categories] == ["t_billing"]
    assert [m.wom_score for m in billing.top] == [4.0, 2.0]


def test_default_range_is_the_last_30_whole_days():
    assert trends.default_range(now=datetime(2026, 11, 20, 15, 30)) == (
        datetime(2026, 10, 22),
        datetime(2026, 11, 21),
    )
    assert trends.default_range(7, now=datetime(2026, 11, 20)) == (
        datetime(2026, 11, 14),
        datetime(2026, 11, 21),
    )


def test_defaults_give_30_day_buckets(session):
    report = trends.wom_trends(session, now=datetime(2026, 11, 20, 15, 30))
    assert (report.since, report.until) == (datetime(2026, 10, 22), datetime(2026, 11, 21))
    assert len(report.buckets) == 30 and report.buckets[-1].start == date(2026, 11, 20)
    assert report.totals.scored == 0 and report.categories == [] and report.top == []


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"until": MON}, "since must be before until"),
        ({"until": MON - timedelta(days=1)}, "since must be before until"),
        ({"until": MON + timedelta(days=367)}, "at most 366 days"),
        ({"bucket": "month"}, "bucket must be one of day, week"),
        ({"platform": "myspace"}, "unknown platform 'myspace'"),
        ({"top": 101}, "top must be between 0 and 100"),
        ({"top": -1}, "top must be between 0 and 100"),
    ],
)
def test_invalid_input_is_refused(session, kw, message):
    args: dict[str, Any] = {"since": MON, "until": MON + WEEK, **kw}
    with pytest.raises(InvalidError, match=message):
        trends.wom_trends(session, **args)


def test_a_range_of_exactly_366_days_is_allowed(session):
    report = trends.wom_trends(session, MON, MON + timedelta(days=366), "week")
    assert report.buckets[0].start == date(2026, 11, 2) and len(report.buckets) == 53


def test_newest_scored_at_skips_brand_posts_unscored_mentions_and_other_platforms(session):
    assert trends.newest_scored_at(session) is None
    post(session, MON, "negative")
    post(session, MON + timedelta(days=2), "positive", platform="reddit")
    post(session, MON + timedelta(days=5), "negative", brand=True)
    post(session, MON + timedelta(days=6), None)  # no result at all
    assert trends.newest_scored_at(session) == MON + timedelta(days=2)
    assert trends.newest_scored_at(session, "twitter") == MON
    assert trends.newest_scored_at(session, "appstore") is None
