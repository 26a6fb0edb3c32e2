"""Complaints export: which mentions are complaints, their fields, keyset paging under
concurrent inserts, the since filter, and the CSV / JSON Lines writers."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from collectors import service as collect
from collectors.models import Mention
from core.errors import InvalidError
from engagement import complaints
from engagement.complaints import CSV_COLUMNS, ComplaintWriter
from engagement.models import Customer, CustomerIdentity, ResponseTask, TaskMention
from sentiment import service as scoring
from sentiment.fake import FakeModel
from sentiment.models import SentimentResult
from tests.conftest import mention

T0 = datetime(2026, 11, 20, 10, 0, 0)


def _ingest(session, ext, text="awful", at=T0, **kw):
    collect.ingest(session, [mention(ext, text, created_at=at, **kw)])
    return session.scalars(select(Mention).where(Mention.external_id == ext)).one()


def _score(session, m, label, *, version="1", at=T0, probs=(0.8, 0.15, 0.05), **kw):
    session.add(
        SentimentResult(
            mention_id=m.id,
            model_name="test",
            model_version=version,
            label=label,
            p_negative=probs[0],
            p_neutral=probs[1],
            p_positive=probs[2],
            scored_at=at,
            **kw,
        )
    )
    session.flush()


def _complaint(session, ext, at=T0, **kw):
    m = _ingest(session, ext, at=at, **kw)
    _score(session, m, "negative")
    return m


def _all(session, **kw):
    out, cursor = [], None
    while True:
        page = complaints.list_complaints(session, cursor=cursor, **kw)
        out.extend(page.items)
        if page.next_cursor is None:
            return out
        cursor = page.next_cursor


def test_a_complaint_is_a_customer_mention_whose_newest_result_is_negative(session):
    _complaint(session, "neg")
    _score(session, _ingest(session, "pos", "love it"), "positive")
    _complaint(session, "brand", is_brand=True)
    recovered = _complaint(session, "now-positive")
    _score(session, recovered, "positive", version="2", at=T0 + timedelta(hours=1))
    worse = _ingest(session, "now-negative")
    _score(session, worse, "positive")
    _score(session, worse, "negative", version="2", at=T0 + timedelta(hours=1))
    tie = _ingest(session, "tie-later-id-wins")
    _score(session, tie, "positive", version="a")
    _score(session, tie, "negative", version="b")
    _ingest(session, "unscored")

    items = complaints.list_complaints(session).items

    assert [i.external_id for i in items] == ["neg", "now-negative", "tie-later-id-wins"]
    assert all(i.sentiment_label == "negative" for i in items)


def test_fields_come_from_task_customer_author_and_sentiment(session):
    collect.ingest(
        session,
        [
            mention(
                "1",
                'my order is broken, "again"\nsecond line',
                author={"id": "9", "handle": "ann", "followers": 1234},
                url="https://x.com/ann/status/1",
            )
        ],
    )
    scoring.score_all_pending(session, FakeModel())
    m = session.scalars(select(Mention)).one()
    # The task is made by hand so this test does not depend on the engagement rules.
    task = ResponseTask(
        thread_key="twitter:1",
        author_id=m.author_id,
        status="assigned",
        priority=2,
        reason="negative",
        assignee="bob",
    )
    session.add(task)
    session.flush()
    session.add(TaskMention(task_id=task.id, mention_id=m.id))
    customer = Customer(crm_id="CRM-42", name="Ann")
    session.add(customer)
    session.flush()
    session.add(
        CustomerIdentity(
            customer_id=customer.id,
            platform="twitter",
            platform_user_id="9",
            author_id=task.author_id,
            method="crm",
        )
    )
    result = session.scalars(select(SentimentResult)).one()
    result.wom_score, result.category = -0.75, "delivery"
    session.flush()

    (item,) = complaints.list_complaints(session).items

    assert item.model_dump() == {
        "mention_id": result.mention_id,
        "created_at": T0,
        "platform": "twitter",
        "external_id": "1",
        "kind": "post",
        "url": "https://x.com/ann/status/1",
        "author_handle": "ann",
        "author_followers": 1234,
        "customer_crm_id": "CRM-42",
        "task_id": task.id,
        "task_status": "assigned",
        "sentiment_label": "negative",
        "p_negative": 0.9,
        "p_neutral": 0.08,
        "p_positive": 0.02,
        "category": "delivery",
        "wom_score": -0.75,
        "rating": None,
        "text": 'my order is broken, "again"\nsecond line',
    }


def test_keyset_pages_in_created_at_then_id_order(session):
    ids = [
        _complaint(session, ext, at=T0 + timedelta(minutes=minutes)).id
        for ext, minutes in [("c", 2), ("a", 0), ("b", 0), ("d", 3), ("e", 3)]
    ]
    by_ext = dict(zip("cabde", ids, strict=True))

    first = complaints.list_complaints(session, limit=2)
    second = complaints.list_complaints(session, limit=2, cursor=first.next_cursor)
    third = complaints.list_complaints(session, limit=2, cursor=second.next_cursor)

    assert [i.external_id for i in first.items] == ["a", "b"]
    assert [i.external_id for i in second.items] == ["c", "d"]
    assert [i.external_id for i in third.items] == ["e"]
    assert third.next_cursor is None
    assert first.next_cursor is not None
    assert complaints.decode_cursor(first.next_cursor) == (T0, by_ext["b"])
    assert [i.mention_id for i in _all(session, limit=1)] == [by_ext[x] for x in "abcde"]


def test_paging_is_stable_while_newer_complaints_arrive(session):
    for n in range(4):
        _complaint(session, f"old{n}", at=T0 + timedelta(minutes=n))

    first = complaints.list_complaints(session, limit=2)
    # Arrivals between two page requests: newer posts, one at the same instant as a seen row.
    _complaint(session, "new-same-time-as-old1", at=T0 + timedelta(minutes=1))
    _complaint(session, "new-later", at=T0 + timedelta(hours=1))
    rest = []
    cursor = first.next_cursor
    while cursor:
        page = complaints.list_complaints(session, limit=2, cursor=cursor)
        rest.extend(page.items)
        cursor = page.next_cursor

    seen = [i.external_id for i in first.items + rest]
    assert seen == ["old0", "old1", "new-same-time-as-old1", "old2", "old3", "new-later"]
    assert len(seen) == len(set(seen))


def test_since_filters_on_post_time(session):
    for n in range(3):
        _complaint(session, f"d{n}", at=T0 + timedelta(days=n))

    items = complaints.list_complaints(session, since=T0 + timedelta(days=1)).items

    assert [i.external_id for i in items] == ["d1", "d2"]
    assert complaints.list_complaints(session, since=T0 + timedelta(days=9)).items == []


@pytest.mark.parametrize("cursor", ["nope", "e30", "W10", "eyJ0IjoiMjAyNiIsImlkIjoieCJ9", "!!"])
def test_bad_cursors_are_invalid_input(session, cursor):
    with pytest.raises(InvalidError, match="invalid cursor"):
        complaints.list_complaints(session, cursor=cursor)


def test_limit_bounds(session):
    with pytest.raises(InvalidError):
        complaints.list_complaints(session, limit=0)
    with pytest.raises(InvalidError):
        complaints.list_complaints(session, limit=complaints.MAX_LIMIT + 1)


def test_cursor_round_trip_is_opaque_url_safe():
    cursor = complaints.encode_cursor(datetime(2026, 11, 20, 10, 0, 0, 123456), 77)
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert complaints.decode_cursor(cursor) == (datetime(2026, 11, 20, 10, 0, 0, 123456), 77)


def _item(**kw):
    data = {
        "mention_id": 1,
        "created_at": T0,
        "platform": "twitter",
        "external_id": "1",
        "kind": "post",
        "url": None,
        "author_handle": "ann",
        "author_followers": None,
        "customer_crm_id": None,
        "task_id": 7,
        "task_status": "assigned",
        "sentiment_label": "negative",
        "p_negative": 0.9,
        "p_neutral": 0.08,
        "p_positive": 0.02,
        "category": None,
        "wom_score": None,
        "rating": 1,
        "text": 'broken, "really"\nline two; caf\u00e9 =1+1',
    }
    data.update(kw)
    return complaints.ComplaintRead(**data)


def test_csv_has_a_fixed_header_and_round_trips_awkward_text():
    out = io.StringIO()
    writer = ComplaintWriter(out, "csv")
    writer.write([_item(), _item(mention_id=2, text="plain")])

    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == list(CSV_COLUMNS)
    assert writer.count == 2 and len(rows) == 3
    first = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert first["text"] == 'broken, "really"\nline two; caf\u00e9 =1+1'
    assert first["created_at"] == "2026-11-20T10:00:00"
    assert (first["url"], first["author_followers"], first["p_negative"]) == ("", "", "0.9")
    assert (first["task_id"], first["rating"]) == ("7", "1")


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://evil.example","click")', "+1 555", "-2+3", "@SUM(A1)", "\tx", "\r=1"],
)
def test_csv_text_cells_never_start_a_spreadsheet_formula(text):
    out = io.StringIO()
    ComplaintWriter(out, "csv").write([_item(text=text, author_handle=text, p_negative=-0.0)])
    row = dict(zip(CSV_COLUMNS, list(csv.reader(io.StringIO(out.getvalue())))[1], strict=True))
    assert row["text"] == row["author_handle"] == "'" + text
    assert row["p_negative"] == "-0.0"  # numbers are numbers, not text to defuse

    out = io.StringIO()
    ComplaintWriter(out, "jsonl").write([_item(text=text)])
    assert json.loads(out.getvalue())["text"] == text  # JSON is read by programs: verbatim


def test_jsonl_writes_one_object_per_line():
    out = io.StringIO()
    ComplaintWriter(out, "jsonl").write([_item(), _item(mention_id=2)])

    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["text"] == 'broken, "really"\nline two; caf\u00e9 =1+1'
    assert first["created_at"] == "2026-11-20T10:00:00"
    assert json.loads(lines[1])["mention_id"] == 2


def test_unknown_format_is_refused():
    with pytest.raises(InvalidError):
        ComplaintWriter(io.StringIO(), "xml")
