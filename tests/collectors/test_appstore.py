"""App Store collector: Apple's customer-review feed replayed from fixtures through respx."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy import func, select

from collectors import appstore, service
from collectors.base import (
    AuthFailed,
    Budget,
    RateLimited,
    SourceConfigError,
    TransientError,
)
from collectors.models import Mention
from core.timeutil import utcnow

FIXTURES = Path(__file__).parent.parent / "fixtures" / "appstore"
APP_ID = "1477376905"
# Review k (0 = newest) of the fixture pages: id 11800000200 - k, updated 05:41:07Z - 37 min * k.
NEWEST = datetime(2026, 11, 20, 5, 41, 7)


def review_time(k: int) -> datetime:
    return NEWEST - timedelta(minutes=37 * k)


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def body(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def url(page: int, country: str = "us") -> str:
    return appstore.FEED_URL.format(country=country, page=page, app_id=APP_ID)


def serve(page: int, data: dict[str, Any] | bytes, country: str = "us") -> respx.Route:
    content = data if isinstance(data, bytes) else body(data)
    return respx.get(url(page, country)).mock(return_value=httpx.Response(200, content=content))


def serve_fixture_pages() -> list[respx.Route]:
    return [serve(n, load(f"page{n}.json")) for n in (1, 2, 3)]


@pytest.fixture
def make(settings):
    def _make(**config: Any) -> appstore.AppStoreCollector:
        return appstore.build("", {"app_id": APP_ID, **config}, settings)

    return _make


def run_all(collector, cursor=None, budget=None):
    """Fetch until the walk ends; returns (mentions, final cursor, batches)."""
    cursor = cursor or {}
    mentions, batches = [], []
    for _ in range(50):
        batch = collector.fetch(cursor, budget or Budget())
        batches.append(batch)
        mentions.extend(batch.mentions)
        cursor = batch.cursor
        if not batch.more:
            return mentions, cursor, batches
    raise AssertionError("walk did not end")


# --- configuration ---------------------------------------------------------------------------


def test_build_normalises_config(settings):
    collector = appstore.build(
        "", {"app_id": 1477376905, "countries": ["US", "gb", "us"]}, settings
    )
    assert collector.config.app_id == APP_ID
    assert collector.config.countries == ["us", "gb"]
    assert isinstance(collector.client, httpx.Client)
    collector.close()


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"app_id": "com.acme.bank"}, "app_id"),
        ({}, "app_id"),
        ({"app_id": APP_ID, "countries": ["usa"]}, "countries"),
        ({"app_id": APP_ID, "countries": []}, "countries"),
        ({"app_id": APP_ID, "sort": "mosthelpful"}, "sort"),
        ({"app_id": APP_ID, "backfill_since": "last week"}, "backfill_since"),
    ],
)
def test_build_rejects_bad_config(settings, config, fragment):
    with pytest.raises(SourceConfigError, match=f"invalid appstore config: {fragment}"):
        appstore.build("", config, settings)


def test_backfill_since_is_stored_as_naive_utc():
    config = appstore.AppStoreSourceConfig(
        app_id=APP_ID, backfill_since="2026-11-01T02:00:00+02:00"
    )
    assert config.backfill_since == datetime(2026, 11, 1, 0, 0, 0)


# --- normalisation ---------------------------------------------------------------------------


@respx.mock
def test_first_run_normalises_every_field_and_reads_page_one_only(make):
    route = serve(1, load("page1.json"))
    batch = make().fetch({}, Budget())

    assert route.call_count == 1
    assert batch.requests == 1
    assert batch.more is False
    assert batch.skipped == []
    # The app's own metadata entry is not a review.
    assert len(batch.mentions) == 50
    assert all(m.external_id.isdigit() for m in batch.mentions)

    first = batch.mentions[0]
    assert first.platform.value == "appstore"
    assert first.external_id == "11800000200"
    assert first.thread_id == "11800000200"
    assert first.in_reply_to_id is None
    assert first.kind.value == "review"
    assert first.rating == 1
    # HTML and script stay verbatim: the inbox escapes, the collector does not strip.
    assert first.title == "App <b>keeps</b> crashing & I lost my draft"
    assert first.text == (
        "Opened it 3x today <script>alert('x')</script> and it crashed each time.\n"
        "Version 5.12.0 on iOS 19.1 — please fix 🙏"
    )
    assert first.created_at == NEWEST
    assert first.url == ("https://itunes.apple.com/us/review?id=1477376905&type=Purple%20Software")
    assert first.language is None
    assert first.author is not None
    assert (first.author.id, first.author.handle, first.author.name) == (
        None,
        "J. Okafor",
        "J. Okafor",
    )
    assert first.author.followers is None
    assert first.metrics == {"votes": 12}
    assert first.is_brand is False
    assert first.raw is not None
    assert first.raw["im:version"] == {"label": "5.11.1"}
    assert first.raw["_country"] == "us"
    assert first.raw["id"] == {"label": "11800000200"}

    second = batch.mentions[1]
    assert (second.external_id, second.created_at, second.rating) == (
        "11800000199",
        review_time(1),
        4,
    )
    assert second.metrics == {"votes": 3}

    assert batch.cursor == {
        "countries": {"us": {"newest_id": "11800000200", "newest_updated": "2026-11-20T05:41:07"}}
    }


@respx.mock
def test_rating_only_and_authorless_reviews_and_malformed_entries(make):
    serve(1, load("malformed.json"))
    batch = make().fetch({}, Budget())

    ids = [m.external_id for m in batch.mentions]
    assert ids == ["11800000400", "11800000393", "11800000392", "11800000390"]
    rating_only = batch.mentions[1]
    assert (rating_only.text, rating_only.title, rating_only.rating) == ("", None, 2)
    no_author = batch.mentions[2]
    assert no_author.author is None
    assert no_author.metrics == {}
    assert no_author.url == "https://apps.apple.com/us/app/id1477376905"

    assert len(batch.skipped) == 7
    joined = "\n".join(batch.skipped)
    assert "review without id.label" in joined
    assert "im:rating 'five' is not a number" in joined
    assert "less than or equal to 5" in joined  # rating 7
    assert "review 11800000396: no updated.label" in joined
    assert "last Tuesday" in joined
    assert "entry is str" in joined
    assert batch.more is False


@respx.mock
def test_single_review_unwrapped_from_its_array(make):
    serve(1, load("single_entry.json"))
    batch = make().fetch({}, Budget())
    assert [m.external_id for m in batch.mentions] == ["11800000500"]


@respx.mock
def test_one_megabyte_review_text_is_kept_whole(make):
    page = load("single_entry.json")
    page["feed"]["entry"]["content"]["label"] = "Acme " * 200_000
    serve(1, page)
    batch = make().fetch({}, Budget())
    assert len(batch.mentions[0].text) == 1_000_000
    assert batch.mentions[0].text.startswith("Acme Acme")


@respx.mock
def test_invalid_utf8_bytes_are_replaced_not_fatal(make):
    raw = (FIXTURES / "page1.json").read_bytes()
    assert b"Froze my card" in raw
    serve(1, raw.replace(b"Froze my card", b"Froze my \xff\xfe card"))
    batch = make().fetch({}, Budget())
    assert len(batch.mentions) == 50
    assert any("Froze my \ufffd\ufffd card" in m.text for m in batch.mentions)
    assert any(m.text.startswith("Froze my card") for m in batch.mentions) is False


@respx.mock
def test_non_json_body_is_transient(make):
    serve(1, b"<html><body>Service Unavailable</body></html>")
    with pytest.raises(TransientError, match="not JSON"):
        make().fetch({}, Budget())


@respx.mock
@pytest.mark.parametrize("payload", [b"[]", b'{"feed": "none"}', b"{}"])
def test_json_without_feed_object_is_transient(make, payload):
    serve(1, payload)
    with pytest.raises(TransientError, match="no 'feed' object"):
        make().fetch({}, Budget())


@respx.mock
def test_app_without_reviews(make):
    serve(1, load("empty.json"))
    cursor = {"countries": {"us": {"newest_id": "1", "newest_updated": "2026-01-01T00:00:00"}}}
    batch = make().fetch(cursor, Budget())
    assert batch.mentions == []
    assert batch.skipped == []
    assert batch.more is False
    assert batch.cursor == cursor

    first_run = make(backfill_since="2020-01-01T00:00:00Z").fetch({}, Budget())
    assert (first_run.mentions, first_run.more, first_run.cursor) == ([], False, {"countries": {}})


# --- pagination, backfill, incremental, resume -----------------------------------------------


@respx.mock
def test_backfill_walks_every_page_until_the_last(make):
    routes = serve_fixture_pages()
    collector = make(backfill_since="2020-01-01T00:00:00")

    b1 = collector.fetch({}, Budget())
    assert (len(b1.mentions), b1.more) == (50, True)
    assert b1.cursor["walk"] == {
        "country": "us",
        "page": 2,
        "top_id": "11800000200",
        "top_updated": "2026-11-20T05:41:07",
        "last_id": "11800000151",
        "last_updated": review_time(49).isoformat(),
    }
    # The mark only moves once the walk is complete.
    assert b1.cursor["countries"] == {}

    b2 = collector.fetch(b1.cursor, Budget())
    assert (len(b2.mentions), b2.more, b2.cursor["walk"]["page"]) == (50, True, 3)
    b3 = collector.fetch(b2.cursor, Budget())
    assert (len(b3.mentions), b3.more) == (12, False)
    assert b3.cursor == {
        "countries": {"us": {"newest_id": "11800000200", "newest_updated": "2026-11-20T05:41:07"}}
    }
    ids = [m.external_id for b in (b1, b2, b3) for m in b.mentions]
    assert ids == [str(11800000200 - k) for k in range(112)]
    assert [r.call_count for r in routes] == [1, 1, 1]


@respx.mock
def test_backfill_stops_at_backfill_since(make):
    routes = serve_fixture_pages()
    since = review_time(59)
    mentions, cursor, batches = run_all(make(backfill_since=since.isoformat()))
    assert [m.external_id for m in mentions] == [str(11800000200 - k) for k in range(60)]
    assert min(m.created_at for m in mentions) == since
    assert [r.call_count for r in routes] == [1, 1, 0]
    assert len(batches) == 2
    assert cursor["countries"]["us"]["newest_id"] == "11800000200"


@respx.mock
def test_second_run_only_reads_what_is_newer(make):
    serve(1, load("page1.json"))
    collector = make()
    first = collector.fetch({}, Budget())

    respx.clear()
    later = serve(1, load("page1_later.json"))
    page2 = serve(2, load("page2.json"))
    second = collector.fetch(first.cursor, Budget())

    assert [m.external_id for m in second.mentions] == [
        "11800000203",
        "11800000202",
        "11800000201",
    ]
    assert second.more is False
    assert later.call_count == 1
    assert page2.call_count == 0
    assert str(later.calls.last.request.url) == url(1)
    assert "/page=1/" in later.calls.last.request.url.path
    assert second.cursor["countries"]["us"] == {
        "newest_id": "11800000203",
        "newest_updated": "2026-11-20T10:41:07",
    }

    # A third run with nothing new asks for page 1 once and emits nothing.
    third = collector.fetch(second.cursor, Budget())
    assert third.mentions == []
    assert third.cursor == second.cursor
    assert later.call_count == 2


@respx.mock
def test_resume_after_crash_mid_walk(settings, make):
    routes = serve_fixture_pages()
    before_crash = make(backfill_since="2020-01-01T00:00:00").fetch({}, Budget())
    stored_cursor = json.loads(json.dumps(before_crash.cursor))  # as the database returns it

    # A fresh process: new collector, new client, only the stored cursor survives.
    after = appstore.build(
        "", {"app_id": APP_ID, "backfill_since": "2020-01-01T00:00:00"}, settings
    )
    mentions, cursor, _ = run_all(after, stored_cursor)

    assert [r.call_count for r in routes] == [1, 1, 1]
    ids = [m.external_id for m in before_crash.mentions + mentions]
    assert ids == [str(11800000200 - k) for k in range(112)]
    assert cursor["countries"]["us"]["newest_id"] == "11800000200"
    assert "walk" not in cursor


@respx.mock
def test_new_reviews_arriving_mid_walk_neither_lost_nor_repeated(make):
    pages = {n: load(f"page{n}.json") for n in (1, 2, 3)}
    serve(1, pages[1])
    collector = make(backfill_since="2020-01-01T00:00:00")
    b1 = collector.fetch({}, Budget())

    # Three new reviews arrive: every review moves three places down.
    respx.clear()
    shifted2 = copy.deepcopy(pages[2])
    shifted2["feed"]["entry"] = pages[1]["feed"]["entry"][-3:] + pages[2]["feed"]["entry"][:47]
    shifted3 = copy.deepcopy(pages[3])
    shifted3["feed"]["entry"] = pages[2]["feed"]["entry"][-3:] + pages[3]["feed"]["entry"]
    serve(2, shifted2)
    serve(3, shifted3)
    rest, cursor, _ = run_all(collector, b1.cursor)

    ids = [m.external_id for m in b1.mentions + rest]
    assert ids == [str(11800000200 - k) for k in range(112)]

    # The next run starts from the top and picks up the three that arrived.
    respx.clear()
    serve(1, load("page1_later.json"))
    newer, _, _ = run_all(collector, cursor)
    assert [m.external_id for m in newer] == ["11800000203", "11800000202", "11800000201"]


@respx.mock
def test_budget_cut_inside_a_page_resumes_on_the_same_page(make):
    routes = serve_fixture_pages()
    collector = make(backfill_since="2020-01-01T00:00:00")
    b1 = collector.fetch({}, Budget(max_items=20))
    assert (len(b1.mentions), b1.more) == (20, True)
    assert b1.cursor["walk"]["page"] == 1
    assert b1.cursor["walk"]["last_id"] == "11800000181"

    rest, _, _ = run_all(collector, b1.cursor)
    ids = [m.external_id for m in b1.mentions + rest]
    assert ids == [str(11800000200 - k) for k in range(112)]
    assert [r.call_count for r in routes] == [2, 1, 1]


@respx.mock
def test_no_budget_means_no_request(make):
    route = serve(1, load("page1.json"))
    batch = make().fetch({}, Budget(max_items=0))
    assert (batch.mentions, batch.requests, route.call_count) == ([], 0, 0)


@respx.mock
def test_never_reads_past_page_ten(make):
    def page(request: httpx.Request) -> httpx.Response:
        n = int(request.url.path.split("/page=")[1].split("/")[0])
        data = load("page2.json")
        # Claims 20 pages; Apple serves 10 at most.
        for link in data["feed"]["link"]:
            if link["attributes"]["rel"] == "last":
                link["attributes"]["href"] = link["attributes"]["href"].replace(
                    "page=3/", "page=20/"
                )
        for i, entry in enumerate(data["feed"]["entry"]):
            k = n * 50 + i
            entry["id"]["label"] = str(90000000000 - k)
            entry["updated"]["label"] = (NEWEST - timedelta(minutes=k)).isoformat() + "Z"
        return httpx.Response(200, content=body(data))

    route = respx.get(url__regex=r"/us/rss/customerreviews/page=\d+/").mock(side_effect=page)
    mentions, cursor, batches = run_all(make(backfill_since="2000-01-01T00:00:00"))
    assert route.call_count == 10
    assert len(mentions) == 500
    assert batches[-1].more is False
    assert "walk" not in cursor


@respx.mock
@pytest.mark.parametrize("status", [400, 403, 404])
def test_refusal_past_page_one_ends_the_walk(make, status):
    serve(1, load("page1.json"))
    respx.get(url(2)).mock(return_value=httpx.Response(status))
    page3 = serve(3, load("page3.json"))
    mentions, cursor, batches = run_all(make(backfill_since="2020-01-01T00:00:00"))
    assert len(mentions) == 50
    assert page3.call_count == 0
    assert batches[-1].skipped == [
        f"App Store reviews 1477376905/us page 2: HTTP {status} "
        + ("(access refused)" if status == 403 else "")
        + ("(not found: check the source's configuration)" if status == 404 else "")
        + ("(the platform rejected the request)" if status == 400 else "")
        + "; taken as the end of the feed"
    ]
    assert cursor["countries"]["us"]["newest_id"] == "11800000200"
    assert "walk" not in cursor


@respx.mock
def test_countries_are_walked_in_turn(make):
    us = serve(1, load("page1.json"))
    gb = serve(1, load("empty.json"), country="gb")
    collector = make(countries=["us", "gb"])
    b1 = collector.fetch({}, Budget())
    assert (len(b1.mentions), b1.more, b1.cursor["walk"]) == (
        50,
        True,
        {"country": "gb", "page": 1},
    )
    b2 = collector.fetch(b1.cursor, Budget())
    assert (b2.mentions, b2.more) == ([], False)
    assert list(b2.cursor["countries"]) == ["us"]
    assert "walk" not in b2.cursor
    assert (us.call_count, gb.call_count) == (1, 1)


@respx.mock
def test_walk_for_a_removed_country_restarts_with_the_configured_ones(make):
    us = serve(1, load("empty.json"))
    cursor = {"countries": {}, "walk": {"country": "fr", "page": 4}}
    batch = make().fetch(cursor, Budget())
    assert us.call_count == 1
    assert batch.more is False


# --- errors -----------------------------------------------------------------------------------


@respx.mock
def test_429_with_retry_after_is_rate_limited(make):
    respx.get(url(1)).mock(return_value=httpx.Response(429, headers={"Retry-After": "600"}))
    before = utcnow()
    with pytest.raises(RateLimited) as caught:
        make().fetch({}, Budget())
    assert before + timedelta(seconds=599) <= caught.value.retry_at
    assert caught.value.retry_at <= utcnow() + timedelta(seconds=601)


@respx.mock
@pytest.mark.parametrize(
    ("status", "error"),
    [(500, TransientError), (503, TransientError), (401, AuthFailed), (403, AuthFailed)],
)
def test_http_errors(make, status, error):
    respx.get(url(1)).mock(return_value=httpx.Response(status, text="nope"))
    with pytest.raises(error, match=f"HTTP {status}"):
        make().fetch({}, Budget())


@respx.mock
def test_unknown_app_is_a_config_error(make):
    respx.get(url(1)).mock(return_value=httpx.Response(404))
    with pytest.raises(SourceConfigError, match="1477376905/us page 1: HTTP 404"):
        make().fetch({}, Budget())


@respx.mock
def test_timeout_is_transient(make):
    respx.get(url(1)).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(TransientError, match="timed out"):
        make().fetch({}, Budget())


# --- storage ----------------------------------------------------------------------------------


@respx.mock
def test_rerun_stores_each_review_once(session, make):
    serve_fixture_pages()
    collector = make(backfill_since="2020-01-01T00:00:00")
    first, _, _ = run_all(collector)
    again, _, _ = run_all(collector)  # from scratch: the same 112 reviews again

    stored = service.ingest(session, first)
    repeated = service.ingest(session, again)
    assert (stored.inserted, repeated.inserted, repeated.duplicates) == (112, 0, 112)
    assert session.scalar(select(func.count(Mention.id))) == 112
    row = session.scalars(select(Mention).where(Mention.external_id == "11800000200")).one()
    assert (row.kind, row.rating, row.platform) == ("review", 1, "appstore")
    assert row.author is not None and row.author.handle == "J. Okafor"
    assert row.raw is not None and row.raw["im:version"] == {"label": "5.11.1"}
