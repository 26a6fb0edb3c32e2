"""RSS/Atom collector: fixture feeds served through respx, parsed by feedparser."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy import func, select

from collectors import rss, service
from collectors.base import (
    AuthFailed,
    Budget,
    RateLimited,
    SourceConfigError,
    TransientError,
)
from collectors.models import Mention
from core.timeutil import utcnow

FIXTURES = Path(__file__).parent.parent / "fixtures" / "rss"
FEED = "https://fintechweekly.example/feed.xml"
RSS_HEADERS = {
    "Content-Type": "application/rss+xml; charset=UTF-8",
    "ETag": '"5f1c-v1"',
    "Last-Modified": "Fri, 20 Nov 2026 08:15:00 GMT",
}
RSS_IDS = [
    "https://fintechweekly.example/?p=48213",
    "https://fintechweekly.example/2026/11/18/budgeting-apps/",
    "https://fintechweekly.example/podcast/112/",
    None,  # no guid, link or date: a digest of feed, title and date
    "sponsored-7781",
]


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def serve(content: bytes, headers: dict[str, str] | None = None, status: int = 200):
    response = httpx.Response(status, content=content, headers=headers or RSS_HEADERS)
    return respx.get(FEED).mock(return_value=response)


@pytest.fixture
def make(settings):
    def _make(**config: Any) -> rss.RssCollector:
        return rss.build("", {"url": FEED, **config}, settings)

    return _make


def rss_doc(items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        "<title>T</title><link>https://fintechweekly.example/</link>"
        f"{items}</channel></rss>"
    ).encode()


def item(guid: str, title: str = "Acme news", date: str = "Fri, 20 Nov 2026 10:00:00 GMT"):
    return (
        f"<item><title>{title}</title><guid isPermaLink='false'>{guid}</guid>"
        f"<pubDate>{date}</pubDate><description>About {title}</description></item>"
    )


# --- configuration ---------------------------------------------------------------------------


def test_build_normalises_config(settings):
    collector = rss.build("", {"url": f"  {FEED} ", "match_terms": [" Acme ", "", "  "]}, settings)
    assert collector.config.url == FEED
    assert collector.config.match_terms == ["Acme"]
    assert isinstance(collector.client, httpx.Client)
    collector.close()


@pytest.mark.parametrize(
    "config",
    [
        {"url": "ftp://fintechweekly.example/feed.xml"},
        {"url": "javascript:alert(1)"},
        {"url": "file:///etc/passwd"},
        {"url": "https://"},
        {"url": "feed.xml"},
        {},
        {"url": FEED, "query": "acme"},
        {"url": FEED, "match_terms": "acme"},
    ],
)
def test_build_rejects_bad_config(settings, config):
    with pytest.raises(SourceConfigError, match="invalid rss config"):
        rss.build("", config, settings)


# --- normalisation ---------------------------------------------------------------------------


@respx.mock
def test_rss2_normalises_every_field(make):
    serve(fixture("rss2.xml"))
    before = utcnow()
    batch = make().fetch({}, Budget())

    assert batch.requests == 1
    assert batch.more is False
    assert batch.skipped == []
    assert [m.external_id for m in batch.mentions][:3] == RSS_IDS[:3]
    assert batch.mentions[3].external_id.startswith("sha256:")
    assert batch.mentions[4].external_id == "sponsored-7781"
    for m in batch.mentions:
        assert m.platform.value == "rss"
        assert m.kind.value == "post"
        assert m.thread_id == m.external_id
        assert m.in_reply_to_id is None
        assert m.rating is None
        assert m.metrics == {}
        assert m.language == "en-us"
        assert m.is_brand is False
        json.dumps(m.raw)  # JSON-safe: struct_time and feedparser dicts converted

    first = batch.mentions[0]
    assert first.title == "Acme Bank outage leaves customers locked out for six hours"
    # content:encoded wins over description, HTML and script kept verbatim.
    assert first.text == (
        "<p>Customers of <strong>Acme Bank</strong> could not log in for six hours on "
        'Thursday.</p>\n<p>"We apologise", the bank said. '
        '<a href="https://status.acme.example/">Status page</a></p>\n'
        "<script>trackRead(48213)</script>"
    )
    assert first.url == "https://fintechweekly.example/2026/11/20/acme-bank-outage/"
    assert first.created_at == datetime(2026, 11, 20, 7, 58, 12)
    assert first.author is not None
    assert (first.author.id, first.author.handle, first.author.name) == (
        None,
        "Dana Whitfield",
        "Dana Whitfield",
    )
    assert first.raw is not None
    assert first.raw["published_parsed"] == "2026-11-20T07:58:12"
    assert first.raw["tags"][1]["term"] == "Acme Bank"

    second = batch.mentions[1]
    assert second.text.startswith("We tried Acme, Brightwallet")
    assert second.created_at == datetime(2026, 11, 18, 19, 30, 0)
    assert second.author is not None and second.author.name == "Sam Ortiz"

    assert batch.mentions[2].author is None

    undated = batch.mentions[3]
    assert undated.title == "Reader letter: my card was frozen twice"
    assert undated.url is None
    assert before <= undated.created_at <= utcnow()
    assert undated.raw is not None and "collection time" in undated.raw["_created_at"]

    # javascript: links never reach the inbox.
    assert batch.mentions[4].url is None

    assert batch.cursor["etag"] == '"5f1c-v1"'
    assert batch.cursor["modified"] == "Fri, 20 Nov 2026 08:15:00 GMT"
    assert batch.cursor["partial"] is False
    assert len(batch.cursor["seen"]) == 5


@respx.mock
def test_atom_entries_and_languages(make):
    serve(fixture("atom.xml"), {"Content-Type": "application/atom+xml"})
    batch = make().fetch({}, Budget())

    assert [m.external_id for m in batch.mentions] == [
        "tag:community.acme.example,2026:topic-9921",
        "tag:community.acme.example,2026:topic-9917",
        "tag:community.acme.example,2026:topic-9902",
    ]
    tess, joerg, anon = batch.mentions
    assert tess.title == "Card declined abroad &mdash; again"
    assert tess.text == (
        "<p>Second time this month my <b>Acme</b> card is declined in Lisbon &amp; support "
        "says travel notices are <em>not needed</em>.</p>"
    )
    # published wins over updated.
    assert tess.created_at == datetime(2026, 11, 20, 7, 47, 2)
    assert tess.language == "en"
    assert tess.url == "https://community.acme.example/t/card-declined-abroad/9921"
    assert tess.author is not None and tess.author.handle == "travelling_tess"

    assert joerg.language == "de-DE"
    assert joerg.title == "Überweisung hängt seit drei Tagen"
    assert "Meine Überweisung an Acme hängt seit drei Tagen." in joerg.text
    assert joerg.created_at == datetime(2026, 11, 19, 17, 20, 0)
    assert joerg.author is not None and joerg.author.name == "Jörg K."

    assert anon.text == "Would love dark mode on the statements screen."
    assert anon.author is None
    assert batch.cursor["etag"] is None
    assert batch.cursor["modified"] is None


@respx.mock
@pytest.mark.parametrize(
    ("terms", "expected"),
    [
        (["brightwallet"], [1, 4]),
        (["ACME BANK"], [0, 3]),
        (["nothing-matches"], []),
    ],
)
def test_match_terms_filter_title_summary_and_content(make, terms, expected):
    serve(fixture("rss2.xml"))
    batch = make(match_terms=terms).fetch({}, Budget())
    titles = [m.title for m in batch.mentions]
    all_titles = [m.title for m in make().fetch({}, Budget()).mentions]
    assert titles == [all_titles[i] for i in expected]
    # Filtered entries count as seen: a later fetch does not reconsider them.
    assert len(batch.cursor["seen"]) == 5


@respx.mock
def test_match_terms_are_case_insensitive_beyond_ascii(make):
    serve(fixture("atom.xml"), {"Content-Type": "application/atom+xml"})
    batch = make(match_terms=["ÜBERWEISUNG"]).fetch({}, Budget())
    assert [m.external_id for m in batch.mentions] == ["tag:community.acme.example,2026:topic-9917"]


@respx.mock
def test_relative_links_are_resolved_against_the_feed(make):
    serve(rss_doc("<item><title>Rel</title><link>/2026/11/rel/</link></item>"))
    batch = make().fetch({}, Budget())
    assert batch.mentions[0].url == "https://fintechweekly.example/2026/11/rel/"
    assert batch.mentions[0].external_id == "https://fintechweekly.example/2026/11/rel/"


@respx.mock
def test_entry_without_any_identity_is_skipped(make):
    serve(rss_doc("<item><description>orphan text</description></item>" + item("g-1")))
    batch = make().fetch({}, Budget())
    assert [m.external_id for m in batch.mentions] == ["g-1"]
    assert batch.skipped == [f"feed {FEED}: entry has no id, link, title or date"]


@respx.mock
def test_entry_without_text_or_title_is_skipped(make):
    serve(rss_doc("<item><guid>empty-1</guid><description>  </description></item>"))
    batch = make().fetch({}, Budget())
    assert batch.mentions == []
    assert len(batch.skipped) == 1
    assert batch.skipped[0].startswith("feed entry empty-1:")
    assert "text is empty" in batch.skipped[0]


@respx.mock
def test_one_megabyte_entry_is_kept_whole(make):
    big = "Acme " * 199_999 + "Acme!"
    serve(rss_doc(f"<item><guid>big-1</guid><description>{big}</description></item>"))
    batch = make().fetch({}, Budget())
    assert len(batch.mentions[0].text) == 1_000_000


@respx.mock
def test_invalid_utf8_bytes_keep_the_rest_of_the_text(make):
    body = fixture("atom.xml").replace(b"Second time", b"Second \xff\xfe time")
    serve(body, {"Content-Type": "application/atom+xml; charset=utf-8"})
    batch = make().fetch({}, Budget())
    assert len(batch.mentions) == 3
    assert "Second \ufffd\ufffd time" in batch.mentions[0].text
    # Valid non-ASCII text elsewhere is not garbled by a fallback to windows-1252.
    assert batch.mentions[1].author is not None
    assert batch.mentions[1].author.name == "Jörg K."
    assert batch.skipped == [f"feed {FEED}: invalid UTF-8 bytes were replaced with U+FFFD"]


def test_repair_leaves_other_declared_encodings_alone():
    latin1 = b'<?xml version="1.0" encoding="ISO-8859-1"?><rss/>' + b"caf\xe9"
    assert rss.repair_utf8(latin1, "application/xml") == (latin1, False)
    assert rss.repair_utf8(b"caf\xe9", "text/xml; charset=windows-1252") == (b"caf\xe9", False)
    assert rss.repair_utf8(b"caf\xe9", "text/xml") == ("caf\ufffd".encode(), True)


@respx.mock
def test_malformed_feed_keeps_its_entries_and_says_so(make):
    serve(fixture("broken.xml"))
    batch = make().fetch({}, Budget())
    assert [m.external_id for m in batch.mentions] == ["incident-771", "incident-770"]
    assert batch.mentions[1].text == "Fixed <b>login errors on iOS"
    assert len(batch.skipped) == 1
    assert "is malformed" in batch.skipped[0]
    assert "kept the 2 entries" in batch.skipped[0]


@respx.mock
def test_feed_served_as_html_content_type_still_parses(make):
    serve(fixture("rss2.xml"), {"Content-Type": "text/html; charset=utf-8"})
    batch = make().fetch({}, Budget())
    assert len(batch.mentions) == 5
    assert "NonXMLContentType" in batch.skipped[0]


@respx.mock
def test_html_page_is_a_config_error(make):
    serve(fixture("not_a_feed.html"), {"Content-Type": "text/html; charset=utf-8"})
    with pytest.raises(SourceConfigError, match="is not an RSS or Atom feed"):
        make().fetch({}, Budget())


@respx.mock
def test_plain_text_naming_a_local_file_is_not_read(make):
    # feedparser opens a local path when handed one as bytes; the collector never lets it.
    serve(b"/etc/hostname", {"Content-Type": "text/plain"})
    with pytest.raises(SourceConfigError, match="not an RSS or Atom feed"):
        make().fetch({}, Budget())


@respx.mock
def test_empty_body_is_transient(make):
    serve(b" \n", {"Content-Type": "application/rss+xml"})
    with pytest.raises(TransientError, match="empty response body"):
        make().fetch({}, Budget())


@respx.mock
def test_feed_without_entries(make):
    serve(rss_doc(""))
    batch = make().fetch({}, Budget())
    assert (batch.mentions, batch.more, batch.skipped) == ([], False, [])
    assert batch.cursor == {
        "etag": '"5f1c-v1"',
        "modified": "Fri, 20 Nov 2026 08:15:00 GMT",
        "seen": [],
        "partial": False,
    }


def test_json_safe_converts_feedparser_structures():
    stamp = time.strptime("2026-11-20 07:58:12", "%Y-%m-%d %H:%M:%S")
    value = {"a": stamp, "b": [(1, b"x\xff")], "c": {"d": None, "e": 1.5}, "f": object}
    safe = rss.json_safe(value)
    assert safe["a"] == "2026-11-20T07:58:12"
    assert safe["b"] == [[1, "x\ufffd"]]
    assert safe["c"] == {"d": None, "e": 1.5}
    assert safe["f"] == str(object)


# --- conditional GET, incremental, budget, resume --------------------------------------------


@respx.mock
def test_unchanged_feed_is_not_fetched_again(make):
    route = serve(fixture("rss2.xml"))
    collector = make()
    first = collector.fetch({}, Budget())
    assert "if-none-match" not in route.calls.last.request.headers

    respx.clear()
    not_modified = respx.get(FEED).mock(return_value=httpx.Response(304))
    second = collector.fetch(first.cursor, Budget())
    sent = not_modified.calls.last.request.headers
    assert sent["if-none-match"] == '"5f1c-v1"'
    assert sent["if-modified-since"] == "Fri, 20 Nov 2026 08:15:00 GMT"
    assert (second.mentions, second.more, second.requests) == ([], False, 1)
    assert second.cursor == first.cursor


@respx.mock
def test_changed_feed_yields_only_new_entries_even_when_reordered(make):
    serve(rss_doc(item("a") + item("b") + item("c")))
    collector = make()
    first = collector.fetch({}, Budget())
    assert [m.external_id for m in first.mentions] == ["a", "b", "c"]

    respx.clear()
    # Re-ordered, one re-published with a new date, one new entry.
    changed = rss_doc(
        item("c") + item("new-1", date="Sat, 21 Nov 2026 09:00:00 GMT") + item("a") + item("b")
    )
    route = serve(changed, {**RSS_HEADERS, "ETag": '"5f1c-v2"'})
    second = collector.fetch(first.cursor, Budget())
    assert route.calls.last.request.headers["if-none-match"] == '"5f1c-v1"'
    assert [m.external_id for m in second.mentions] == ["new-1"]
    assert second.cursor["etag"] == '"5f1c-v2"'
    assert len(second.cursor["seen"]) == 4


@respx.mock
def test_server_ignoring_conditional_get_still_yields_nothing_new(make):
    serve(fixture("rss2.xml"), {"Content-Type": "application/rss+xml"})
    collector = make()
    first = collector.fetch({}, Budget())
    second = collector.fetch(first.cursor, Budget())
    assert len(first.mentions) == 5
    assert second.mentions == []


@respx.mock
def test_budget_cut_resumes_after_a_crash_with_an_unconditional_get(settings, make):
    route = serve(fixture("rss2.xml"))
    first = make().fetch({}, Budget(max_items=2))
    assert [m.external_id for m in first.mentions] == RSS_IDS[:2]
    assert (first.more, first.cursor["partial"]) == (True, True)
    stored = json.loads(json.dumps(first.cursor))

    # New process: only the stored cursor survives.
    after = rss.build("", {"url": FEED}, settings)
    second = after.fetch(stored, Budget())
    assert "if-none-match" not in route.calls.last.request.headers
    assert "if-modified-since" not in route.calls.last.request.headers
    ids = [m.external_id for m in second.mentions]
    assert ids[0] == RSS_IDS[2]
    assert ids[2] == "sponsored-7781"
    assert len(ids) == 3
    assert (second.more, second.cursor["partial"]) == (False, False)

    third = after.fetch(second.cursor, Budget())
    assert route.calls.last.request.headers["if-none-match"] == '"5f1c-v1"'
    assert third.mentions == []


@respx.mock
def test_backfill_since_applies_to_the_first_run_only(make):
    serve(fixture("rss2.xml"))
    collector = make(backfill_since="2026-11-17T00:00:00Z")
    first = collector.fetch({}, Budget())
    # Nov 20 and Nov 18 are kept, the undated one too; Nov 16 and Nov 15 are older.
    assert [m.external_id for m in first.mentions][:2] == RSS_IDS[:2]
    assert len(first.mentions) == 3
    assert first.mentions[2].external_id.startswith("sha256:")

    respx.clear()
    serve(rss_doc(item("old-but-new-to-us", date="Mon, 02 Nov 2026 10:00:00 GMT")))
    second = collector.fetch(first.cursor, Budget())
    assert [m.external_id for m in second.mentions] == ["old-but-new-to-us"]


@respx.mock
def test_a_long_feed_is_remembered_whole_and_not_resent(make):
    items = "".join(item(f"g-{i}") for i in range(rss.SEEN_WINDOW + 50))
    serve(rss_doc(items))
    collector = make()
    batch = collector.fetch({}, Budget(max_items=5000))
    assert len(batch.mentions) == rss.SEEN_WINDOW + 50
    assert len(batch.cursor["seen"]) == rss.SEEN_WINDOW + 50
    again = collector.fetch(batch.cursor, Budget(max_items=5000))
    assert again.mentions == []


@respx.mock
def test_older_ids_fill_the_window_but_never_beyond_it(make):
    serve(rss_doc(item("new-1")))
    old_seen = [f"{i:016x}" for i in range(rss.SEEN_WINDOW)]
    batch = make().fetch({"seen": old_seen}, Budget())
    assert len(batch.cursor["seen"]) == rss.SEEN_WINDOW
    assert batch.cursor["seen"][-1] == old_seen[-2]


@respx.mock
def test_no_budget_means_no_request(make):
    route = serve(fixture("rss2.xml"))
    batch = make().fetch({"etag": "x"}, Budget(max_requests=0))
    assert (batch.mentions, batch.requests, route.call_count) == ([], 0, 0)
    assert batch.cursor == {"etag": "x"}


# --- errors -----------------------------------------------------------------------------------


@respx.mock
def test_429_with_http_date_is_rate_limited(make):
    when = utcnow().replace(microsecond=0) + timedelta(minutes=20)
    header = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    respx.get(FEED).mock(return_value=httpx.Response(429, headers={"Retry-After": header}))
    with pytest.raises(RateLimited) as caught:
        make().fetch({}, Budget())
    assert caught.value.retry_at == when


@respx.mock
@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, TransientError),
        (503, TransientError),
        (401, AuthFailed),
        (403, AuthFailed),
        (404, SourceConfigError),
        (410, SourceConfigError),
    ],
)
def test_http_errors(make, status, error):
    respx.get(FEED).mock(return_value=httpx.Response(status))
    with pytest.raises(error, match=f"feed {FEED}: HTTP {status}"):
        make().fetch({}, Budget())


@respx.mock
def test_connection_error_is_transient(make):
    respx.get(FEED).mock(side_effect=httpx.ConnectError("connection refused"))
    with pytest.raises(TransientError, match="ConnectError"):
        make().fetch({}, Budget())


# --- storage ----------------------------------------------------------------------------------


@respx.mock
def test_rerun_stores_each_entry_once(session, make):
    serve(fixture("rss2.xml"))
    first = make().fetch({}, Budget()).mentions
    again = make().fetch({}, Budget()).mentions  # a fresh cursor: everything again

    stored = service.ingest(session, first)
    repeated = service.ingest(session, again)
    assert (stored.inserted, repeated.inserted, repeated.duplicates) == (5, 0, 5)
    assert session.scalar(select(func.count(Mention.id))) == 5
    row = session.scalars(select(Mention).where(Mention.external_id == RSS_IDS[0])).one()
    assert (row.kind, row.platform, row.language) == ("post", "rss", "en-us")
    assert row.text.endswith("<script>trackRead(48213)</script>")
    assert row.author is not None and row.author.handle == "Dana Whitfield"
