"""Import throughput: the `socialcrm import mentions FILE` path on fresh SQLite and PostgreSQL.

Generates N synthetic mentions (seeded, no network, no real data) into a temporary JSONL file,
then for each database creates a fresh empty database, migrates it, and times:

  a. ingest            import_file(..., process=False): validate + store, committed batches
  b. re-import         the same file again: every line is a duplicate, nothing new is stored
  c. score+engage      scheduler.jobs.process_pending: lexicon scoring + response tasks
  d. end-to-end        a + c

The figures belong in notes (docs/), never in test assertions: they depend on the machine.

    python benchmarks/import_throughput.py                 # N=20000, sqlite and postgresql
    python benchmarks/import_throughput.py --n 2000 --databases sqlite --json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from common import (
    Unavailable,
    fresh_postgres,
    fresh_sqlite,
    machine_facts,
    server_settings,
    server_version,
)
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

from cli.importer import import_file
from collectors.models import Mention
from core.db import make_engine, make_session_factory
from core.errors import ConfigError
from core.migrate import upgrade
from core.settings import Settings
from engagement.models import ResponseTask
from scheduler.jobs import process_pending
from sentiment.classifier import load_model

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

# --------------------------------------------------------------------------------------------
# Synthetic mentions
# --------------------------------------------------------------------------------------------

PRODUCTS = [
    "the app",
    "my order",
    "the checkout",
    "customer support",
    "the latest update",
    "my account",
    "the delivery",
    "the refund",
    "the login page",
    "my subscription",
    "the mobile site",
    "the new dashboard",
]
NEG_OPENERS = [
    "Ugh,",
    "Seriously,",
    "Honestly,",
    "Worst experience ever:",
    "Really disappointed,",
    "Not happy at all.",
    "So frustrated,",
    "Unbelievable,",
]
NEG_PROBLEMS = [
    "keeps crashing",
    "is broken again",
    "charged me twice",
    "still hasn't arrived",
    "is completely useless",
    "won't let me log in",
    "lost all my data",
    "is terrible",
    "has been down for hours",
    "is so slow it's unusable",
    "failed with an error",
    "never works when I need it",
]
NEG_WHEN = [
    "since yesterday",
    "for the third time this week",
    "after the update",
    "every single time",
    "again today",
    "for two weeks now",
]
NEG_DEMANDS = [
    "Fix this now!",
    "I want a refund.",
    "Nobody answers my emails.",
    "Awful service.",
    "I'm cancelling.",
    "This is unacceptable.",
    "Worst support I have ever dealt with.",
    "Do better.",
]
POS_SENTENCES = [
    "Love {p}, works great!",
    "Thanks for the quick help with {p}, really appreciated.",
    "Great job on {p}, so much better now.",
    "{P} is honestly the best I've used.",
    "Super happy with {p} this week.",
    "Shoutout to the team, {p} is smooth and fast.",
    "Five stars, {p} just works.",
    "Impressed by how easy {p} is.",
]
NEU_SENTENCES = [
    "Does anyone know if {p} supports exports?",
    "Just updated {p}, checking out the changes.",
    "Is {p} available in Canada yet?",
    "Looking at {p} for our team next month.",
    "What time does {p} reset each day?",
    "Switching over to {p} on Monday.",
    "Anyone tried {p} on a tablet?",
    "Reading the release notes for {p}.",
]
REPLY_PREFIXES = ["Same here.", "+1", "Agreed.", "Replying to this:", "This.", "Also:"]
TITLES_POS = ["Great app", "Love it", "Works well", "Five stars", "Very useful"]
TITLES_NEG = ["Crashes constantly", "Don't bother", "Terrible update", "Refund please", "Broken"]
TITLES_NEU = ["Okay so far", "Some thoughts", "Feature request", "Mixed feelings"]
FIRST = ["alex", "sam", "jo", "maria", "li", "priya", "omar", "kim", "noah", "eva", "yuki", "ben"]
LAST = ["smith", "garcia", "chen", "patel", "khan", "mueller", "rossi", "novak", "silva", "ng"]
PLATFORM_WEIGHTS = {"twitter": 0.55, "reddit": 0.30, "appstore": 0.15}
BRAND_HANDLE = "acme_support"


@dataclass(frozen=True)
class _Author:
    platform: str
    id: str
    handle: str
    name: str
    followers: int


def _followers(rng: random.Random) -> int:
    # Heavy-tailed: most accounts are small, a few have a very large reach.
    return min(5_000_000, int(rng.lognormvariate(5.0, 2.0)))


def _sentence(rng: random.Random, tone: str) -> str:
    product = rng.choice(PRODUCTS)
    if tone == "negative":
        opener = rng.choice(NEG_OPENERS)
        subject = product[:1].upper() + product[1:] if opener.endswith(".") else product
        out = f"{opener} {subject} {rng.choice(NEG_PROBLEMS)} {rng.choice(NEG_WHEN)}."
        return f"{out} {rng.choice(NEG_DEMANDS)}" if rng.random() < 0.6 else out
    pool = POS_SENTENCES if tone == "positive" else NEU_SENTENCES
    return rng.choice(pool).format(p=product, P=product[:1].upper() + product[1:])


def _text(rng: random.Random, tone: str, prefix: str = "") -> str:
    """20 to 280 characters of `tone`: whole sentences, or one cut at a word boundary."""
    target = int(rng.triangular(20, 280, 90))
    out = prefix
    while True:
        candidate = f"{out} {_sentence(rng, tone)}".strip()
        if len(candidate) <= target:
            out = candidate
        elif len(out) >= 20:
            return out
        else:
            limit = max(target, 20)
            cut = candidate[: limit + 1].rsplit(" ", 1)[0].rstrip(",;:")
            return cut if len(cut) >= 20 else candidate[:limit]


def _external_id(rng: random.Random, plat: str, kind: str, index: int) -> str:
    if plat == "twitter":
        return str(1_700_000_000_000_000_000 + index * 7919 + rng.randrange(7919))
    if plat == "reddit":
        return f"{'t1' if kind == 'reply' else 't3'}_{index:x}{rng.randrange(36**3):03x}"
    return f"rv{900_000_000 + index}"


def generate_mentions(n: int, seed: int) -> Iterator[dict[str, Any]]:
    """N realistic mention lines in the import schema; the same seed gives the same lines."""
    rng = random.Random(seed)
    platforms = list(PLATFORM_WEIGHTS)
    weights = list(PLATFORM_WEIGHTS.values())
    authors: dict[str, list[_Author]] = {p: [] for p in platforms}
    for i in range(max(1, n // 5)):
        plat = rng.choices(platforms, weights)[0]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        authors[plat].append(
            _Author(
                platform=plat,
                id=str(10_000_000 + i),
                handle=f"{first}_{last}{i}",
                name=f"{first.title()} {last.title()}",
                followers=_followers(rng),
            )
        )
    for plat in platforms:  # every platform needs at least one author
        if not authors[plat]:
            authors[plat].append(_Author(plat, f"{plat}-0", f"{plat}_user", "User", 10))
    brand = _Author("twitter", "1", BRAND_HANDLE, "Acme Support", 250_000)

    start = datetime(2024, 5, 1, tzinfo=UTC)
    step = timedelta(days=30) / max(1, n)
    # Earlier conversation starters per platform: (external_id, thread_id).
    roots: dict[str, list[tuple[str, str]]] = {"twitter": [], "reddit": []}

    for i in range(n):
        plat = rng.choices(platforms, weights)[0]
        created = (start + step * i + timedelta(seconds=rng.randrange(60))).replace(microsecond=0)
        roll = rng.random()
        tone = "negative" if roll < 0.30 else "positive" if roll < 0.75 else "neutral"
        is_reply = plat != "appstore" and bool(roots[plat]) and rng.random() < 0.235
        is_brand = is_reply and plat == "twitter" and rng.random() < 0.10
        author = brand if is_brand else rng.choice(authors[plat])
        if is_brand:
            tone = "positive"
        kind = "reply" if is_reply else ("review" if plat == "appstore" else "post")
        ext = _external_id(rng, plat, kind, i)

        line: dict[str, Any] = {
            "platform": plat,
            "external_id": ext,
            "created_at": created.isoformat().replace("+00:00", "Z"),
            "language": "en",
            "author": {
                "id": author.id,
                "handle": "@" + author.handle,
                "name": author.name,
                "followers": author.followers,
            },
        }
        if is_reply:
            # Reply to a recent conversation (recency-biased), joining its thread.
            recent = roots[plat][-200:]
            parent_ext, thread = recent[int(len(recent) * (1 - rng.random() ** 2)) - 1]
            line["thread_id"] = thread
            line["in_reply_to_id"] = parent_ext
            line["kind"] = "reply"
            prefix = "" if is_brand else rng.choice(REPLY_PREFIXES)
            line["text"] = _text(rng, tone, prefix)
            roots[plat].append((ext, thread))
        elif plat == "appstore":
            if tone == "negative":
                rating, titles = rng.choice([1, 1, 2]), TITLES_NEG
            elif tone == "positive":
                rating, titles = rng.choice([4, 5, 5]), TITLES_POS
            else:
                rating, titles = 3, TITLES_NEU
            line["rating"] = rating
            line["title"] = rng.choice(titles)
            line["text"] = _text(rng, tone)
            line["kind"] = "review"
        else:
            line["text"] = _text(rng, tone)
            line["thread_id"] = ext  # a conversation starter is its own thread
            if plat == "reddit":
                line["title"] = _sentence(rng, tone)[:120]
            roots[plat].append((ext, ext))

        if plat == "twitter":
            line["url"] = f"https://twitter.com/{author.handle}/status/{ext}"
            line["metrics"] = {
                "likes": int(rng.expovariate(1 / 12)),
                "reposts": int(rng.expovariate(1 / 3)),
                "replies": int(rng.expovariate(1 / 2)),
            }
        elif plat == "reddit":
            post = line.get("thread_id", ext).removeprefix("t3_")
            line["url"] = f"https://www.reddit.com/r/acme/comments/{post}/_/{ext[3:]}/"
            line["metrics"] = {
                "upvotes": int(rng.expovariate(1 / 25)),
                "comments": int(rng.expovariate(1 / 4)),
            }
        else:
            line["url"] = f"https://apps.apple.com/app/id123456789?review={ext}"
        if is_brand:
            line["is_brand"] = True
        if rng.random() < 0.25:
            line["raw"] = {"source": "benchmark", "seq": i}
        yield line


def write_jsonl(path: Path, n: int, seed: int) -> int:
    """Write the synthetic file; return its size in bytes."""
    with path.open("w", encoding="utf-8") as fh:
        for line in generate_mentions(n, seed):
            fh.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
    return path.stat().st_size


# --------------------------------------------------------------------------------------------
# Fresh databases
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------------------------


@dataclass
class Stage:
    """One timed stage."""

    name: str
    items: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class DatabaseRun:
    """Everything measured on one database."""

    database: str
    server_version: str
    location: str
    migrate_seconds: float
    server_settings: dict[str, str] = field(default_factory=dict)
    stages: list[Stage] = field(default_factory=list)
    tasks_opened: int = 0
    mentions_attached: int = 0
    labels: dict[str, int] = field(default_factory=dict)


def _count(engine: Engine, column: Any) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count(column))) or 0)


def bench_database(
    kind: str, url: str, location: str, path: Path, n: int, batch_size: int
) -> DatabaseRun:
    """Migrate the fresh database at `url`, then time the four stages."""
    settings = Settings(database_url=url)
    engine = make_engine(settings.database_url)
    try:
        factory = make_session_factory(engine)
        t0 = time.perf_counter()
        upgrade(engine)
        run = DatabaseRun(kind, server_version(engine), location, time.perf_counter() - t0)
        run.server_settings = server_settings(engine)

        t0 = time.perf_counter()
        first = import_file(factory, settings, path, batch_size=batch_size, process=False)
        t_ingest = time.perf_counter() - t0
        if first.errors:
            raise RuntimeError(f"{len(first.errors)} invalid lines, first: {first.errors[0]}")
        stored = _count(engine, Mention.id)
        assert first.ingest.inserted == n == stored, (first.ingest, stored)
        run.stages.append(Stage("ingest (validate+store)", n, t_ingest))

        t0 = time.perf_counter()
        again = import_file(factory, settings, path, batch_size=batch_size, process=False)
        t_again = time.perf_counter() - t0
        assert again.ingest.inserted == 0, f"re-import stored {again.ingest.inserted} new rows"
        assert again.ingest.duplicates == n, again.ingest
        assert _count(engine, Mention.id) == n
        run.stages.append(Stage("re-import (all duplicates)", n, t_again))

        t0 = time.perf_counter()
        pipeline = process_pending(factory, settings)
        t_process = time.perf_counter() - t0
        assert pipeline.score.scored + pipeline.score.unsupported_language == n, pipeline.score
        assert pipeline.engage.examined == n, pipeline.engage
        assert _count(engine, ResponseTask.id) == pipeline.engage.opened
        run.stages.append(Stage(f"score+engage ({settings.sentiment_backend})", n, t_process))
        run.stages.append(Stage("end-to-end (ingest+score+engage)", n, t_ingest + t_process))
        run.tasks_opened = pipeline.engage.opened
        run.mentions_attached = pipeline.engage.attached
        run.labels = dict(sorted(pipeline.score.by_label.items()))
        return run
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def print_run(run: DatabaseRun, out: TextIO) -> None:
    """A small table for one database."""
    print(f"\n== {run.database}: {run.server_version}", file=out)
    print(f"   {run.location}; migrate to head {run.migrate_seconds:.2f} s", file=out)
    print("   " + ", ".join(f"{k}={v}" for k, v in run.server_settings.items()), file=out)
    print(f"   {'stage':<34}{'items':>8}{'seconds':>10}{'items/s':>11}", file=out)
    for s in run.stages:
        print(f"   {s.name:<34}{s.items:>8}{s.seconds:>10.2f}{s.rate:>11,.0f}", file=out)
    labels = ", ".join(f"{k} {v}" for k, v in run.labels.items())
    print(
        f"   tasks opened {run.tasks_opened}, mentions attached to open tasks "
        f"{run.mentions_attached}; labels: {labels}",
        file=out,
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=20_000, help="mentions to generate")
    parser.add_argument("--seed", type=int, default=42, help="generator seed")
    parser.add_argument(
        "--databases",
        default="sqlite,postgresql",
        help="comma-separated: sqlite, postgresql",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("SOCIALCRM_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL,
        help="server to create the throwaway database on (its database name is ignored)",
    )
    parser.add_argument("--batch-size", type=int, default=1000, help="lines per committed batch")
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    args = parser.parse_args(argv)
    args.databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    unknown = set(args.databases) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown database(s): {', '.join(sorted(unknown))}")
    if args.n < 1 or args.batch_size < 1:
        parser.error("--n and --batch-size must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # With --json the table goes to stderr so stdout stays machine-readable.
    out = sys.stderr if args.json else sys.stdout
    facts = machine_facts()
    print("social-crm import throughput", file=out)
    for key, value in facts.items():
        print(f"   {key:<11}{value}", file=out)

    runs: list[DatabaseRun] = []
    skipped: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="socialcrm-bench-data-") as tmp:
        path = Path(tmp) / "mentions.jsonl"
        t0 = time.perf_counter()
        size = write_jsonl(path, args.n, args.seed)
        print(
            f"   data       {args.n} synthetic mentions, seed {args.seed}, "
            f"{size / 1e6:.1f} MB JSONL (generated in {time.perf_counter() - t0:.1f} s), "
            f"batch size {args.batch_size}",
            file=out,
        )
        # Build the model once, outside the timings (both databases then score alike).
        t0 = time.perf_counter()
        load_model(Settings(database_url="sqlite://"))
        print(
            f"   model      lexicon loaded in {time.perf_counter() - t0:.2f} s (untimed)", file=out
        )

        for kind in args.databases:
            fresh = fresh_sqlite() if kind == "sqlite" else fresh_postgres(args.postgres_url)
            try:
                with fresh as (url, location):
                    run = bench_database(kind, url, location, path, args.n, args.batch_size)
            except (Unavailable, ConfigError) as exc:
                if kind != "postgresql":
                    raise
                safe = make_url(args.postgres_url).render_as_string(hide_password=True)
                skipped[kind] = str(exc)
                print(f"\n== {kind}: SKIPPED, server {safe} unreachable: {exc}", file=out)
                continue
            runs.append(run)
            print_run(run, out)

    if args.json:
        summary = {
            "n": args.n,
            "seed": args.seed,
            "batch_size": args.batch_size,
            "machine": facts,
            "skipped": skipped,
            "runs": [
                {
                    **{k: v for k, v in asdict(r).items() if k != "stages"},
                    "stages": [{**asdict(s), "rate_per_s": round(s.rate, 1)} for s in r.stages],
                }
                for r in runs
            ],
        }
        print(json.dumps(summary, indent=2))
    return 0 if runs else 1


if __name__ == "__main__":
    sys.exit(main())
