"""How long marketing waits for the WOM trends report, on SQLite and PostgreSQL.

Stores N mentions (default 100,000) spread over 180 days, with authors, and one sentiment result
each (a third negative with a WOM score and a category; about 5 % of mentions re-scored by a
second model version, so the newest-result rule has work to do), then times
`sentiment.trends.wom_trends` (what `GET /api/v1/wom/trends` and the `/trends` page call) for
the windows the web page offers. Each window is timed 5 times after one warm-up; the median is
printed. The data is built with plain inserts and is not timed.

    .venv/bin/python benchmarks/trends_query.py                 # 100k mentions, both databases
    .venv/bin/python benchmarks/trends_query.py --n 20000 --databases sqlite

Figures go into notes, never into tests.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import (
    Unavailable,
    fresh_postgres,
    fresh_sqlite,
    machine_facts,
    server_version,
)
from sqlalchemy import insert

from collectors.models import Author, Mention
from core.db import make_engine, make_session_factory, unit_of_work
from core.migrate import upgrade
from core.sql import refresh_stale_statistics
from sentiment import trends
from sentiment.models import SentimentResult

PLATFORMS = ("twitter", "reddit", "appstore", "rss")
CATEGORIES = ("delivery", "billing", "product_quality", "customer_service", "app_technical")
SPAN_DAYS = 180
WINDOWS = ((7, "day"), (30, "day"), (90, "week"))


def build(url: str, n: int, seed: int, now: datetime) -> None:
    """Migrate a fresh database and fill it with n mentions, authors and results."""
    rng = random.Random(seed)
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    authors = max(1, n // 20)
    with unit_of_work(factory) as session:
        session.execute(
            insert(Author),
            [
                {
                    "platform": PLATFORMS[i % 4],
                    "author_key": f"a{i}",
                    "handle": f"user{i}",
                    "followers": int(rng.paretovariate(1.2) * 50),
                }
                for i in range(authors)
            ],
        )
    start = now - timedelta(days=SPAN_DAYS)
    for at in range(0, n, 5000):
        mentions, results = [], []
        for i in range(at, min(at + 5000, n)):
            created = start + timedelta(seconds=rng.uniform(0, SPAN_DAYS * 86400))
            mentions.append(
                {
                    "id": i + 1,
                    "platform": PLATFORMS[i % 4],
                    "external_id": f"m{i}",
                    "author_id": (i % authors) + 1,
                    "text": f"synthetic mention {i}",
                    "created_at": created,
                    "collected_at": created,
                    "is_brand": i % 50 == 0,
                    "metrics": {},
                }
            )
            label = rng.choice(("negative", "neutral", "positive"))
            negative = label == "negative"
            versions = ["1", "2"] if rng.random() < 0.05 else ["1"]
            for version in versions:
                results.append(
                    {
                        "mention_id": i + 1,
                        "model_name": "bench",
                        "model_version": version,
                        "status": "scored",
                        "label": label,
                        "p_negative": 0.8 if negative else 0.1,
                        "p_neutral": 0.1,
                        "p_positive": 0.1 if negative else 0.8,
                        "wom_score": round(rng.uniform(0.8, 20), 2) if negative else None,
                        "category": rng.choice(CATEGORIES) if negative else None,
                        "scored_at": created + timedelta(minutes=int(version)),
                    }
                )
        with unit_of_work(factory) as session:
            session.execute(insert(Mention), mentions)
            session.execute(insert(SentimentResult), results)
    with unit_of_work(factory) as session:
        refresh_stale_statistics(session, ("mentions", "sentiment_results", "authors"))
    engine.dispose()


def time_windows(url: str, now: datetime) -> dict[str, float]:
    """Median milliseconds of wom_trends per window."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    out: dict[str, float] = {}
    for days, bucket in WINDOWS:
        since, until = trends.default_range(days, now=now)
        spent = []
        for i in range(6):
            with unit_of_work(factory) as session:
                t0 = time.perf_counter()
                report = trends.wom_trends(session, since, until, bucket)
                if i:
                    spent.append((time.perf_counter() - t0) * 1000)
        out[f"{days} days per {bucket} ({report.totals.scored} scored)"] = statistics.median(spent)
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    for key, value in machine_facts().items():
        print(f"   {key:<10} {value}")
    now = datetime(2026, 11, 27, 12, 0)
    for kind in args.databases:
        fresh = fresh_sqlite() if kind == "sqlite" else fresh_postgres(args.postgres_url)
        try:
            with fresh as (url, _):
                t0 = time.perf_counter()
                build(url, args.n, args.seed, now)
                built = time.perf_counter() - t0
                print(f"\n== {kind} ({server_version(make_engine(url))}): {args.n} mentions")
                print(f"   built in {built:.1f} s (untimed)")
                for window, ms in time_windows(url, now).items():
                    print(f"   {window:<40} {ms:8.1f} ms (median of 5)")
        except Unavailable as exc:
            print(f"\n== {kind}: SKIPPED: {exc}")


if __name__ == "__main__":
    main()
