"""Collection throughput: mentions/s normalised and stored, from replayed fixtures.

Times the real collection run, `collectors.runner.run_source(..., collector=...)`: the platform
client's request and response path, our normalisation, and ingest + cursor in one transaction
per page. Only the network is replaced, at the lowest hook each client offers:

  x           tweepy's own requests session, with a fake transport adapter mounted on it
              (as tests/collectors/test_twitter.py does): recent search, N tweets in pages of
              100 with includes.users / includes.tweets, public_metrics, referenced_tweets,
              conversation_id; page k carries meta.next_token for page k+1
  rss         httpx.MockTransport through collectors.http.build_client(transport=...): one
              RSS 2.0 document with N items
  appstore    httpx.MockTransport: Apple's review feed, 10 pages of 50 reviews (the most the
              feed ever gives; not scaled by --n), page 1 led by the app's metadata entry
  dropfolder  a drop folder holding one JSONL file of N lines in the import schema

All fixtures are synthetic (seeded, no network, no real accounts) and built before the clock
starts. For each database a fresh, empty database is created per platform and migrated, a
source is created with `collectors.service.create_source`, and three runs are timed:

  first        the first run: pages through everything; every mention is new (stored count
               is asserted to equal what was served)
  rerun        the same source again with its stored cursor, against the same replayed pages:
               what a scheduled run costs when nothing is new (X: the replay ignores since_id,
               so every tweet comes again and ingest finds duplicates; RSS: the cursor's `seen`
               window skips the entries it remembers; App Store: the walk stops at the stored
               mark on page 1; drop folder: the unchanged file is not read again)
  re-backfill  `service.reset_cursor`, then a run: every page again, every mention a duplicate

The figures belong in notes (docs/), never in test assertions: they depend on the machine.

    python benchmarks/collect_throughput.py                 # N=10000, sqlite and postgresql
    python benchmarks/collect_throughput.py --n 1000 --databases sqlite --json
"""

from __future__ import annotations

import argparse
import email.utils
import io
import json
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

import httpx
import requests
from common import (
    Unavailable,
    fresh_postgres,
    fresh_sqlite,
    machine_facts,
    server_version,
)
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from collectors import appstore, http, rss, service, twitter
from collectors.base import Collector
from collectors.filesource import FileCollector, FileSourceConfig
from collectors.models import Author, Mention, Platform
from collectors.runner import CollectResult, run_source
from collectors.schemas import SourceCreate
from core.db import make_engine, make_session_factory, unit_of_work
from core.errors import ConfigError
from core.migrate import upgrade
from core.settings import Settings

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PLATFORMS = ("x", "rss", "appstore", "dropfolder")

X_SEARCH_PATH = "/2/tweets/search/recent"
X_PAGE_SIZE = 100
X_QUERY = "acme OR $ACME OR #acmebank"
BRAND_USER_ID = "1100000001"
BRAND_USERNAME = "AcmeSupport"
SNOWFLAKE_EPOCH_MS = 1288834974657

FEED_URL = "https://fintechweekly.example/feed.xml"
APP_ID = "1477376905"
APPSTORE_PAGES = 10
APPSTORE_PAGE_SIZE = 50
_APPSTORE_PAGE = re.compile(r"/page=(\d+)/id=(\d+)/")

# --------------------------------------------------------------------------------------------
# Synthetic text
# --------------------------------------------------------------------------------------------

SUBJECTS = [
    "the app",
    "my card",
    "the transfer",
    "customer support",
    "the latest update",
    "my account",
    "the login",
    "the refund",
    "Apple Pay",
    "the savings pot",
    "the statement export",
    "two-factor codes",
]
NEGATIVE = [
    "keeps crashing",
    "charged me twice",
    "has been down for hours",
    "won't let me log in",
    "lost my transaction history",
    "is so slow it's unusable",
    "failed with error 503 again",
    "froze my card for no reason",
]
POSITIVE = [
    "works great",
    "is so much faster now",
    "sorted my problem in five minutes",
    "is the best in the business",
    "just works",
    "made switching painless",
]
NEUTRAL = [
    "supports exports?",
    "is available in Canada yet?",
    "works with a tablet?",
    "has a business plan?",
]
TAILS = [
    "",
    "",
    " Fix this now!",
    " Anyone else?",
    " 😡",
    " 🙏",
    " #acmebank",
    " $ACME",
    " Thanks @AcmeSupport",
    " https://t.co/Zx81kQm2Lp",
]
FIRST = ["alex", "sam", "jo", "maria", "li", "priya", "omar", "kim", "noah", "eva", "yuki", "ben"]
LAST = ["smith", "garcia", "chen", "patel", "khan", "mueller", "rossi", "novak", "silva", "ng"]
LANGS = ["en"] * 16 + ["es", "de", "fr", "ja", "und", "qme"]


def mention_text(rng: random.Random, *, at_brand: bool = False) -> str:
    """One short brand mention: a complaint, praise or question, with an optional tail."""
    subject = rng.choice(SUBJECTS)
    roll = rng.random()
    if roll < 0.35:
        body = f"Acme, {subject} {rng.choice(NEGATIVE)} since yesterday."
    elif roll < 0.75:
        body = f"Honestly Acme {subject} {rng.choice(POSITIVE)}."
    else:
        body = f"Does anyone know if Acme {subject} {rng.choice(NEUTRAL)}"
    prefix = "@AcmeSupport " if at_brand else ""
    return f"{prefix}{body}{rng.choice(TAILS)}"


def person(rng: random.Random, index: int) -> tuple[str, str]:
    """(handle, display name) of a synthetic person."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return f"{first}_{last}{index}"[:15], f"{first.title()} {last.title()}"


def _followers(rng: random.Random) -> int:
    return min(5_000_000, int(rng.lognormvariate(5.0, 2.0)))


# --------------------------------------------------------------------------------------------
# Replay plumbing
# --------------------------------------------------------------------------------------------


@dataclass
class Served:
    """What a fake transport handed out during one run."""

    requests: int = 0
    items: int = 0
    bytes: int = 0
    params: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Page:
    """One pre-serialised response body and the number of mentions in it."""

    body: bytes
    items: int


@dataclass
class Fixture:
    """A platform's replayed pages and how to build a collector that reads them."""

    name: str
    platform: Platform
    query: str
    config: dict[str, Any]
    items: int
    pages: int
    bytes: int
    describe: str
    build: Callable[[Settings, Served], Collector]


class FakeXAdapter(BaseAdapter):
    """A requests transport serving X API v2 search pages by next_token (no network)."""

    def __init__(self, pages: list[Page], tokens: list[str], served: Served) -> None:
        super().__init__()
        self.pages = pages
        self.by_token = {token: index + 1 for index, token in enumerate(tokens)}
        self.served = served
        self.reset = int(time.time()) + 900

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        """Serve page 0 without a token, page k for the token page k-1 carried."""
        url = urlsplit(str(request.url))
        params = {key: values[0] for key, values in parse_qs(url.query).items()}
        self.served.params.append(params)
        token = params.get("next_token")
        index = self.by_token.get(token) if token else 0
        if url.path != X_SEARCH_PATH or index is None:
            detail = {"title": "Invalid Request", "detail": f"unexpected {url.path} {token}"}
            return self._response(request, 400, json.dumps({"errors": [detail]}).encode())
        page = self.pages[index]
        self.served.requests += 1
        self.served.items += page.items
        self.served.bytes += len(page.body)
        return self._response(request, 200, page.body)

    def _response(
        self, request: requests.PreparedRequest, status: int, body: bytes
    ) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response.reason = "OK" if status == 200 else "Bad Request"
        response.headers = CaseInsensitiveDict(
            {
                "content-type": "application/json; charset=utf-8",
                "x-rate-limit-limit": "450",
                "x-rate-limit-remaining": str(max(0, 450 - self.served.requests)),
                "x-rate-limit-reset": str(self.reset),
            }
        )
        response._content = body
        response._content_consumed = True
        response.raw = io.BytesIO(body)
        response.url = str(request.url)
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        """Nothing to release."""


# --------------------------------------------------------------------------------------------
# X (Twitter) recent search
# --------------------------------------------------------------------------------------------


def _x_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _snowflake(created: datetime, rng: random.Random) -> int:
    ms = int(created.replace(tzinfo=UTC).timestamp() * 1000)
    return ((ms - SNOWFLAKE_EPOCH_MS) << 22) | (rng.randrange(1024) << 12) | rng.randrange(4096)


def x_pages(n: int, rng: random.Random, now: datetime) -> tuple[list[Page], list[str]]:
    """N tweets, newest first, in pages of 100, and the next_token each page hands out."""
    users: list[dict[str, Any]] = []
    for i in range(max(20, n // 4)):
        handle, name = person(rng, i)
        users.append(
            {
                "id": str(1_400_000_000 + i * 37),
                "name": name,
                "username": handle,
                "public_metrics": {
                    "followers_count": _followers(rng),
                    "following_count": rng.randrange(2000),
                    "tweet_count": rng.randrange(50_000),
                    "listed_count": rng.randrange(40),
                    "like_count": rng.randrange(20_000),
                },
            }
        )
    brand = {
        "id": BRAND_USER_ID,
        "name": "Acme Support",
        "username": BRAND_USERNAME,
        "public_metrics": {
            "followers_count": 250_300,
            "following_count": 12,
            "tweet_count": 80_211,
            "listed_count": 950,
            "like_count": 400,
        },
    }
    user_by_id = {u["id"]: u for u in [*users, brand]}

    # Oldest first, so a reply can point at an earlier tweet of the same set.
    newest = now - timedelta(minutes=2)
    step = timedelta(days=6) / max(1, n)
    tweets: list[dict[str, Any]] = []
    seen_ids: set[int] = set()
    for j in range(n):
        created = (newest - step * (n - 1 - j)).replace(microsecond=rng.randrange(1000) * 1000)
        tid = _snowflake(created, rng)
        while tid in seen_ids:
            tid += 1
        seen_ids.add(tid)
        tweet_id = str(tid)
        roll = rng.random()
        is_reply = bool(tweets) and roll < 0.25
        is_brand = is_reply and rng.random() < 0.2
        author = brand if is_brand else rng.choice(users)
        tweet: dict[str, Any] = {
            "id": tweet_id,
            "edit_history_tweet_ids": [tweet_id],
            "author_id": author["id"],
            "created_at": _x_time(created),
            "lang": rng.choice(LANGS),
            "conversation_id": tweet_id,
            "public_metrics": {
                "retweet_count": int(rng.expovariate(1 / 3)),
                "reply_count": int(rng.expovariate(1 / 2)),
                "like_count": int(rng.expovariate(1 / 12)),
                "quote_count": int(rng.expovariate(1 / 0.5)),
                "bookmark_count": int(rng.expovariate(1 / 0.8)),
                "impression_count": int(rng.lognormvariate(5.5, 1.5)),
            },
        }
        if is_reply:
            parent = tweets[-1 - int(min(len(tweets), 200) * rng.random() ** 2)]
            tweet["conversation_id"] = parent["conversation_id"]
            tweet["in_reply_to_user_id"] = parent["author_id"]
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": parent["id"]}]
            handle = user_by_id[parent["author_id"]]["username"]
            tweet["text"] = f"@{handle} " + mention_text(rng)
        elif roll < 0.33:
            quoted = str(tid - rng.randrange(1, 10**15))
            tweet["referenced_tweets"] = [{"type": "quoted", "id": quoted}]
            tweet["text"] = mention_text(rng) + " https://t.co/Qp0aXy1Lz9"
        else:
            tweet["text"] = mention_text(rng, at_brand=rng.random() < 0.4)
        if rng.random() < 0.03:
            long_text = " ".join(mention_text(rng) for _ in range(6))
            tweet["note_tweet"] = {"text": long_text}
            tweet["text"] = long_text[:255] + "… https://t.co/Lg9mQ2pXz1"
        tweets.append(tweet)
    tweets.reverse()

    by_id = {t["id"]: t for t in tweets}
    pages: list[Page] = []
    tokens: list[str] = []
    count = (n + X_PAGE_SIZE - 1) // X_PAGE_SIZE
    for k in range(count):
        data = tweets[k * X_PAGE_SIZE : (k + 1) * X_PAGE_SIZE]
        page_users: dict[str, dict[str, Any]] = {}
        included: dict[str, dict[str, Any]] = {}
        for tweet in data:
            page_users.setdefault(tweet["author_id"], user_by_id[tweet["author_id"]])
            for ref in tweet.get("referenced_tweets", []):
                known = by_id.get(ref["id"])
                if known is not None:
                    included[ref["id"]] = {
                        key: known[key]
                        for key in ("id", "edit_history_tweet_ids", "text", "author_id")
                    }
                else:
                    included[ref["id"]] = {
                        "id": ref["id"],
                        "edit_history_tweet_ids": [ref["id"]],
                        "text": mention_text(rng),
                        "author_id": rng.choice(users)["id"],
                    }
        meta: dict[str, Any] = {
            "newest_id": data[0]["id"],
            "oldest_id": data[-1]["id"],
            "result_count": len(data),
        }
        if k + 1 < count:
            token = f"b26v89c19zqg8o3fo{rng.getrandbits(112):028x}"
            tokens.append(token)
            meta["next_token"] = token
        body = {
            "data": data,
            "includes": {"users": list(page_users.values()), "tweets": list(included.values())},
            "meta": meta,
        }
        pages.append(Page(json.dumps(body, ensure_ascii=False).encode(), len(data)))
    return pages, tokens


def x_fixture(n: int, rng: random.Random, now: datetime) -> Fixture:
    pages, tokens = x_pages(n, rng, now)
    # Inside recent search's 7-day window, so nothing is clamped and no warning is logged.
    backfill = now - timedelta(days=6, hours=12)
    config = {
        "mode": "search",
        "backfill_since": backfill.isoformat() + "Z",
        "brand_username": BRAND_USERNAME,
    }

    def build(settings: Settings, served: Served) -> Collector:
        collector = twitter.build(X_QUERY, config, settings)
        session: requests.Session = collector.client.session  # type: ignore[attr-defined]
        session.mount("https://", FakeXAdapter(pages, tokens, served))
        return collector

    size = sum(len(p.body) for p in pages)
    return Fixture(
        name="x",
        platform=Platform.twitter,
        query=X_QUERY,
        config=config,
        items=n,
        pages=len(pages),
        bytes=size,
        describe=f"{len(pages)} search pages x {X_PAGE_SIZE} tweets, {size / 1e6:.1f} MB JSON",
        build=build,
    )


# --------------------------------------------------------------------------------------------
# RSS
# --------------------------------------------------------------------------------------------

RSS_CATEGORIES = ["Outages", "Reviews", "Fees", "Apps"]
RSS_TITLES = [
    "Acme Bank outage leaves customers locked out",
    "Is Acme's new savings pot worth it?",
    "Five budgeting apps compared, Acme included",
    "Acme raises fees for international transfers",
    "Review: the Acme card, six months on",
    "Acme support wait times, measured",
]


def rss_document(n: int, rng: random.Random, now: datetime) -> bytes:
    """An RSS 2.0 feed with N items, newest first, every one about Acme."""
    items: list[str] = []
    step = timedelta(days=30) / max(1, n)
    for i in range(n):
        published = (now - timedelta(hours=1) - step * i).replace(microsecond=0, tzinfo=UTC)
        slug = f"{published:%Y/%m/%d}/acme-story-{n - i}"
        _, author = person(rng, i)
        paragraphs = "".join(f"<p>{escape(mention_text(rng))}</p>" for _ in range(3))
        item = [
            "<item>",
            f"<title>{escape(rng.choice(RSS_TITLES))} (part {n - i})</title>",
            f"<link>https://fintechweekly.example/{slug}/</link>",
            f'<guid isPermaLink="false">https://fintechweekly.example/?p={50_000 + n - i}</guid>',
            f"<dc:creator><![CDATA[{author}]]></dc:creator>",
            f"<pubDate>{email.utils.format_datetime(published)}</pubDate>",
            "<category><![CDATA[Acme Bank]]></category>",
            f"<category><![CDATA[{rng.choice(RSS_CATEGORIES)}]]></category>",
            f"<description><![CDATA[<p>{escape(mention_text(rng))}&#8230;</p>]]></description>",
        ]
        if rng.random() < 0.5:
            item.append(f"<content:encoded><![CDATA[{paragraphs}]]></content:encoded>")
        item.append("</item>")
        items.append("".join(item))
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">'
        "<channel><title>Fintech Weekly</title><link>https://fintechweekly.example/</link>"
        f'<atom:link href="{FEED_URL}" rel="self" type="application/rss+xml"/>'
        "<description>News and opinion on consumer banking apps</description>"
        "<language>en-us</language>"
        f"<lastBuildDate>{email.utils.format_datetime(now.replace(tzinfo=UTC))}</lastBuildDate>"
    )
    return (head + "\n".join(items) + "</channel></rss>").encode()


def rss_fixture(n: int, rng: random.Random, now: datetime) -> Fixture:
    document = rss_document(n, rng, now)
    config = {"url": FEED_URL, "match_terms": ["acme"]}

    def build(settings: Settings, served: Served) -> Collector:
        def handler(request: httpx.Request) -> httpx.Response:
            served.params.append(dict(request.headers))
            if str(request.url) != FEED_URL:
                return httpx.Response(404)
            served.requests += 1
            served.items += n
            served.bytes += len(document)
            # No ETag / Last-Modified: every run gets the whole document (no 304 shortcut).
            headers = {"content-type": "application/rss+xml; charset=UTF-8"}
            return httpx.Response(200, content=document, headers=headers)

        client = http.build_client(settings, transport=httpx.MockTransport(handler))
        return rss.RssCollector(rss.RssSourceConfig.model_validate(config), client)

    return Fixture(
        name="rss",
        platform=Platform.rss,
        query="",
        config=config,
        items=n,
        pages=1,
        bytes=len(document),
        describe=f"1 RSS 2.0 document x {n} items, {len(document) / 1e6:.1f} MB XML",
        build=build,
    )


# --------------------------------------------------------------------------------------------
# App Store
# --------------------------------------------------------------------------------------------


def _label(value: str) -> dict[str, str]:
    return {"label": value}


def _feed_link(rel: str, page: int) -> dict[str, Any]:
    href = appstore.FEED_URL.format(country="us", page=page, app_id=APP_ID)
    return {"attributes": {"rel": rel, "href": href.replace("/json", "/xml?urlDesc=/json")}}


def appstore_pages(rng: random.Random, now: datetime) -> list[Page]:
    """10 pages of 50 reviews, newest first, in the shape of tests/fixtures/appstore."""
    newest = (now - timedelta(hours=1)).replace(microsecond=0)
    pages: list[Page] = []
    total = APPSTORE_PAGES * APPSTORE_PAGE_SIZE
    for page in range(1, APPSTORE_PAGES + 1):
        entries: list[dict[str, Any]] = []
        if page == 1:
            entries.append(
                {
                    "im:name": _label("Acme Bank: Mobile Banking"),
                    "rights": _label("© 2026 Acme Financial, Inc."),
                    "im:price": {
                        "label": "Get",
                        "attributes": {"amount": "0.00", "currency": "USD"},
                    },
                    "im:artist": _label("Acme Financial, Inc."),
                    "title": _label("Acme Bank: Mobile Banking - Acme Financial, Inc."),
                    "id": {"label": f"https://apps.apple.com/us/app/id{APP_ID}"},
                }
            )
        for slot in range(APPSTORE_PAGE_SIZE):
            k = (page - 1) * APPSTORE_PAGE_SIZE + slot
            updated = newest - timedelta(minutes=37 * k) - timedelta(hours=7)
            rating = rng.choice([1, 1, 2, 3, 4, 5, 5, 5])
            _, name = person(rng, k)
            entries.append(
                {
                    "author": {
                        "uri": _label(f"https://itunes.apple.com/us/reviews/id{900_000_000 + k}"),
                        "name": _label(name),
                        "label": "",
                    },
                    "updated": _label(updated.strftime("%Y-%m-%dT%H:%M:%S-07:00")),
                    "im:rating": _label(str(rating)),
                    "im:version": _label(f"5.{rng.randrange(8, 13)}.{rng.randrange(3)}"),
                    "id": _label(str(11_900_000_000 + total - k)),
                    "title": _label(rng.choice(["Great app", "Crashes", "Okay", "Fees!"])),
                    "content": {
                        "label": " ".join(mention_text(rng) for _ in range(rng.randrange(1, 4))),
                        "attributes": {"type": "text"},
                    },
                    "link": {
                        "attributes": {
                            "rel": "related",
                            "href": f"https://itunes.apple.com/us/review?id={APP_ID}",
                        }
                    },
                    "im:voteSum": _label(str(rng.randrange(20))),
                    "im:contentType": {
                        "attributes": {"term": "Application", "label": "Application"}
                    },
                    "im:voteCount": _label(str(rng.randrange(20))),
                }
            )
        feed = {
            "feed": {
                "author": {
                    "name": _label("iTunes Store"),
                    "uri": _label("http://www.apple.com/itunes/"),
                },
                "updated": _label((now - timedelta(hours=7)).strftime("%Y-%m-%dT%H:%M:%S-07:00")),
                "title": _label("iTunes Store: Customer Reviews"),
                "link": [
                    _feed_link("self", page),
                    _feed_link("first", 1),
                    _feed_link("last", APPSTORE_PAGES),
                    _feed_link("previous", max(1, page - 1)),
                    _feed_link("next", min(APPSTORE_PAGES, page + 1)),
                ],
                "id": _label(appstore.FEED_URL.format(country="us", page=page, app_id=APP_ID)),
                "entry": entries,
            }
        }
        pages.append(Page(json.dumps(feed, ensure_ascii=False).encode(), APPSTORE_PAGE_SIZE))
    return pages


def appstore_fixture(rng: random.Random, now: datetime) -> Fixture:
    pages = appstore_pages(rng, now)
    # Older than the oldest review: the first walk reads all 10 pages.
    config = {"app_id": APP_ID, "countries": ["us"], "backfill_since": "2020-01-01T00:00:00Z"}

    def build(settings: Settings, served: Served) -> Collector:
        def handler(request: httpx.Request) -> httpx.Response:
            match = _APPSTORE_PAGE.search(request.url.path)
            page = int(match.group(1)) if match and match.group(2) == APP_ID else 0
            served.params.append({"page": str(page)})
            if not 1 <= page <= len(pages):
                return httpx.Response(400)
            served.requests += 1
            served.items += pages[page - 1].items
            served.bytes += len(pages[page - 1].body)
            headers = {"content-type": "text/javascript; charset=utf-8"}
            return httpx.Response(200, content=pages[page - 1].body, headers=headers)

        client = http.build_client(settings, transport=httpx.MockTransport(handler))
        return appstore.AppStoreCollector(
            appstore.AppStoreSourceConfig.model_validate(config), client
        )

    size = sum(len(p.body) for p in pages)
    return Fixture(
        name="appstore",
        platform=Platform.appstore,
        query="",
        config=config,
        items=APPSTORE_PAGES * APPSTORE_PAGE_SIZE,
        pages=APPSTORE_PAGES,
        bytes=size,
        describe=f"{APPSTORE_PAGES} review pages x {APPSTORE_PAGE_SIZE}, {size / 1e6:.1f} MB JSON",
        build=build,
    )


# --------------------------------------------------------------------------------------------
# Drop folder
# --------------------------------------------------------------------------------------------


def write_drop_file(path: Path, n: int, rng: random.Random, now: datetime) -> int:
    """N lines in the import schema (twitter, reddit and app-store mentions); returns bytes."""
    step = timedelta(days=30) / max(1, n)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            plat = rng.choices(["twitter", "reddit", "appstore"], [0.55, 0.3, 0.15])[0]
            handle, name = person(rng, rng.randrange(max(1, n // 5)))
            line: dict[str, Any] = {
                "platform": plat,
                "external_id": f"drop-{plat}-{i}",
                "text": mention_text(rng),
                "created_at": (now - step * i).replace(microsecond=0).isoformat() + "Z",
                "language": "en",
                "author": {
                    "id": f"{plat}-{handle}",
                    "handle": "@" + handle,
                    "name": name,
                    "followers": _followers(rng),
                },
            }
            if plat == "appstore":
                line["rating"] = rng.randint(1, 5)
                line["title"] = rng.choice(["Great app", "Crashes", "Okay", "Fees!"])
                line["url"] = f"https://apps.apple.com/app/id{APP_ID}?review={i}"
            else:
                line["url"] = f"https://example.com/{plat}/{i}"
                line["metrics"] = {"likes": int(rng.expovariate(1 / 12))}
            if rng.random() < 0.25:
                line["raw"] = {"source": "benchmark", "seq": i}
            fh.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
    return path.stat().st_size


def dropfolder_fixture(n: int, rng: random.Random, now: datetime, folder: Path) -> Fixture:
    folder.mkdir(parents=True, exist_ok=True)
    size = write_drop_file(folder / "mentions-0001.jsonl", n, rng, now)
    config = {"path": str(folder), "patterns": ["*.jsonl"]}

    def build(settings: Settings, served: Served) -> Collector:
        return FileCollector(FileSourceConfig.model_validate(config))

    return Fixture(
        name="dropfolder",
        platform=Platform.file,
        query="",
        config=config,
        items=n,
        pages=1,
        bytes=size,
        describe=f"1 JSONL file x {n} lines, {size / 1e6:.1f} MB",
        build=build,
    )


# --------------------------------------------------------------------------------------------
# Fresh databases (as in benchmarks/import_throughput.py, which is not an importable package)
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------------------------


@dataclass
class Run:
    """One timed `run_source` call."""

    run: str
    status: str
    requests: int
    served: int
    fetched: int
    inserted: int
    seconds: float
    stored_after: int

    @property
    def rate(self) -> float | None:
        """Mentions normalised (and stored, on the first run) per second."""
        return self.fetched / self.seconds if self.fetched and self.seconds > 0 else None

    @property
    def ms_per_request(self) -> float | None:
        return self.seconds * 1000 / self.requests if self.requests else None


@dataclass
class PlatformRun:
    """The three runs of one platform on one fresh database."""

    platform: str
    database: str
    migrate_seconds: float
    runs: list[Run] = field(default_factory=list)
    authors: int = 0


def _stored(factory: sessionmaker[Session], source_id: int) -> int:
    with factory() as session:
        count = session.scalar(select(func.count(Mention.id)).where(Mention.source_id == source_id))
        return int(count or 0)


def _timed_run(
    factory: sessionmaker[Session],
    settings: Settings,
    source_id: int,
    fixture: Fixture,
    name: str,
) -> tuple[Run, Served, CollectResult]:
    served = Served()
    collector = fixture.build(settings, served)  # built outside the clock
    t0 = time.perf_counter()
    result = run_source(factory, settings, source_id, collector=collector)
    seconds = time.perf_counter() - t0
    if result.status != "ok":
        raise RuntimeError(f"{fixture.name} {name} run ended {result.status}: {result.error}")
    if result.skipped_items:
        raise RuntimeError(f"{fixture.name} {name} run skipped {result.skipped_items} items")
    if fixture.name == "dropfolder":
        # No transport: the file is the page.
        served.requests = result.requests
        served.items = result.fetched
    elif served.requests != result.requests:
        raise RuntimeError(f"{fixture.name}: served {served.requests}, runner {result.requests}")
    run = Run(
        run=name,
        status=result.status,
        requests=result.requests,
        served=served.items,
        fetched=result.fetched,
        inserted=result.inserted,
        seconds=seconds,
        stored_after=_stored(factory, source_id),
    )
    return run, served, result


def bench_platform(kind: str, url: str, fixture: Fixture, settings: Settings) -> PlatformRun:
    """Migrate the fresh database at `url`, create the source, time the three runs."""
    engine = make_engine(url)
    try:
        factory = make_session_factory(engine)
        t0 = time.perf_counter()
        upgrade(engine)
        out = PlatformRun(fixture.name, kind, time.perf_counter() - t0)
        with unit_of_work(factory) as session:
            source = service.create_source(
                session,
                SourceCreate(
                    name=f"bench {fixture.name}",
                    platform=fixture.platform,
                    query=fixture.query,
                    config=fixture.config,
                ),
            )
            source_id = source.id

        first, served, _ = _timed_run(factory, settings, source_id, fixture, "first")
        expected = fixture.items
        assert served.requests == fixture.pages, (served.requests, fixture.pages)
        assert served.items == expected, (served.items, expected)
        assert first.fetched == first.inserted == expected, first
        assert first.stored_after == expected, (first.stored_after, expected)
        if fixture.name == "x":
            assert "start_time" in served.params[0] and "since_id" not in served.params[0]
        out.runs.append(first)

        rerun, served, _ = _timed_run(factory, settings, source_id, fixture, "rerun")
        assert rerun.inserted == 0 and rerun.stored_after == expected, rerun
        if fixture.name == "x":
            assert "since_id" in served.params[0], served.params[0]
        out.runs.append(rerun)

        with unit_of_work(factory) as session:
            service.reset_cursor(session, source_id)
        again, _, _ = _timed_run(factory, settings, source_id, fixture, "re-backfill")
        assert again.inserted == 0 and again.fetched == expected, again
        assert again.stored_after == expected and again.requests == fixture.pages, again
        out.runs.append(again)

        with factory() as session:
            out.authors = int(session.scalar(select(func.count(Author.id))) or 0)
        return out
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_database(kind: str, version: str, results: list[PlatformRun], out: TextIO) -> None:
    """One table for one database."""
    print(f"\n== {kind}: {version}", file=out)
    print("   (a fresh, migrated database per platform)", file=out)
    header = (
        f"   {'platform':<11}{'run':<12}{'requests':>9}{'served':>8}{'fetched':>8}"
        f"{'new':>7}{'seconds':>9}{'mentions/s':>12}{'ms/request':>12}"
    )
    print(header, file=out)
    for result in results:
        for r in result.runs:
            print(
                f"   {result.platform:<11}{r.run:<12}{r.requests:>9}{r.served:>8}{r.fetched:>8}"
                f"{r.inserted:>7}{r.seconds:>9.2f}{_fmt(r.rate, ',.0f'):>12}"
                f"{_fmt(r.ms_per_request, '.1f'):>12}",
                file=out,
            )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--n",
        type=int,
        default=10_000,
        help="tweets (in pages of 100), RSS items and drop-folder lines; App Store is 10 x 50",
    )
    parser.add_argument("--seed", type=int, default=42, help="fixture generator seed")
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql"
    )
    parser.add_argument(
        "--platforms", default=",".join(PLATFORMS), help=f"comma-separated: {', '.join(PLATFORMS)}"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("SOCIALCRM_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL,
        help="server to create the throwaway databases on (its database name is ignored)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    args = parser.parse_args(argv)
    args.databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    args.platforms = [p.strip() for p in args.platforms.split(",") if p.strip()]
    unknown = set(args.databases) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown database(s): {', '.join(sorted(unknown))}")
    unknown = set(args.platforms) - set(PLATFORMS)
    if unknown:
        parser.error(f"unknown platform(s): {', '.join(sorted(unknown))}")
    if args.n < 1:
        parser.error("--n must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # With --json the tables go to stderr so stdout stays machine-readable.
    out = sys.stderr if args.json else sys.stdout
    facts = machine_facts(
        [
            ("tweepy", "tweepy"),
            ("requests", "requests"),
            ("httpx", "httpx"),
            ("feedparser", "feedparser"),
            ("pydantic", "pydantic"),
        ]
    )
    print("social-crm collection throughput (replayed fixtures, no network)", file=out)
    for key, value in facts.items():
        print(f"   {key:<11}{value}", file=out)

    settings_kw: dict[str, Any] = {
        "x_bearer_token": "benchmark-bearer-token",
        # One run must page through everything.
        "collect_max_items_per_run": 10 * args.n + 10_000,
        "collect_max_requests_per_run": args.n + 1_000,
    }
    summary: dict[str, Any] = {
        "n": args.n,
        "seed": args.seed,
        "machine": facts,
        "fixtures": {},
        "skipped": {},
        "databases": [],
    }
    measured = 0
    with tempfile.TemporaryDirectory(prefix="socialcrm-bench-collect-") as tmp:
        rng = random.Random(args.seed)
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        t0 = time.perf_counter()
        makers: dict[str, Callable[[], Fixture]] = {
            "x": lambda: x_fixture(args.n, rng, now),
            "rss": lambda: rss_fixture(args.n, rng, now),
            "appstore": lambda: appstore_fixture(rng, now),
            "dropfolder": lambda: dropfolder_fixture(args.n, rng, now, Path(tmp) / "drop"),
        }
        fixtures = [makers[name]() for name in args.platforms]
        print(
            f"   data       seed {args.seed}, built in {time.perf_counter() - t0:.1f} s (untimed):",
            file=out,
        )
        for fx in fixtures:
            print(f"     {fx.name:<11}{fx.describe}", file=out)
            summary["fixtures"][fx.name] = {
                "items": fx.items,
                "pages": fx.pages,
                "bytes": fx.bytes,
                "config": fx.config,
            }

        for kind in args.databases:
            results: list[PlatformRun] = []
            version = ""
            try:
                for fx in fixtures:
                    fresh = (
                        fresh_sqlite() if kind == "sqlite" else fresh_postgres(args.postgres_url)
                    )
                    with fresh as (url, _location):
                        settings = Settings(database_url=url, **settings_kw)
                        if not version:
                            engine = make_engine(url)
                            try:
                                version = server_version(engine)
                            finally:
                                engine.dispose()
                        results.append(bench_platform(kind, url, fx, settings))
            except (Unavailable, ConfigError) as exc:
                if kind != "postgresql":
                    raise
                safe = make_url(args.postgres_url).render_as_string(hide_password=True)
                summary["skipped"][kind] = str(exc)
                print(f"\n== {kind}: SKIPPED, server {safe} unreachable: {exc}", file=out)
                continue
            measured += 1
            print_database(kind, version, results, out)
            summary["databases"].append(
                {
                    "database": kind,
                    "server_version": version,
                    "platforms": [
                        {
                            "platform": r.platform,
                            "migrate_seconds": round(r.migrate_seconds, 3),
                            "authors": r.authors,
                            "runs": [
                                {
                                    **asdict(run),
                                    "seconds": round(run.seconds, 4),
                                    "mentions_per_s": None if run.rate is None else round(run.rate),
                                    "ms_per_request": None
                                    if run.ms_per_request is None
                                    else round(run.ms_per_request, 2),
                                }
                                for run in r.runs
                            ],
                        }
                        for r in results
                    ],
                }
            )
    print(
        "\n   served = mentions in the replayed responses; fetched = normalised and handed to "
        "ingest;\n   new = rows stored; mentions/s = fetched / seconds (first run: all new; "
        "reruns: all duplicates).",
        file=out,
    )
    if args.json:
        print(json.dumps(summary, indent=2))
    return 0 if measured else 1


if __name__ == "__main__":
    sys.exit(main())
