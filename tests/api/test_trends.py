"""WOM trends: the API route (body, defaults, problem details, auth) and marketing's web page
(chart, tables, escaping, empty state)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api import auth
from api.app import create_app
from core.timeutil import utcnow
from tests.sentiment.test_trends import MON, post, taxonomy

PROBLEM = "application/problem+json"
URL = "/api/v1/wom/trends"
WEEK_RANGE = {"since": "2026-11-02T00:00:00Z", "until": "2026-11-16T01:00:00+01:00"}


def _problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    return response.json()


def _seed(session):
    taxonomy(session, t_billing="Billing")
    post(session, MON + timedelta(hours=9), "negative", 2.5, "t_billing", handle="ann")
    post(session, MON + timedelta(days=8), "negative", 4.0, "old_key", followers=None)
    post(session, MON + timedelta(days=8, hours=1), "neutral")
    post(session, MON - timedelta(days=3), "negative", 1.0, "t_billing")  # previous period
    post(session, MON + timedelta(days=9), "negative", 50.0, brand=True)
    session.commit()


def test_trends_body_per_week(client, headers, session):
    _seed(session)

    response = client.get(URL, params={**WEEK_RANGE, "bucket": "week"}, headers=headers)

    assert response.status_code == 200, response.text
    body = response.json()
    # until 01:00+01:00 is midnight UTC: two whole weeks.
    assert (body["since"], body["until"], body["previous_since"], body["bucket"]) == (
        "2026-11-02T00:00:00",
        "2026-11-16T00:00:00",
        "2026-10-19T00:00:00",
        "week",
    )
    assert body["buckets"] == [
        {
            "start": "2026-11-02",
            "scored": 1,
            "negative": 1,
            "neutral": 0,
            "positive": 0,
            "wom_count": 1,
            "wom_score": 2.5,
            "negative_share": 1.0,
        },
        {
            "start": "2026-11-09",
            "scored": 2,
            "negative": 1,
            "neutral": 1,
            "positive": 0,
            "wom_count": 1,
            "wom_score": 4.0,
            "negative_share": 0.5,
        },
    ]
    assert body["totals"] == {
        "scored": 3,
        "negative": 2,
        "neutral": 1,
        "positive": 0,
        "wom_count": 2,
        "wom_score": 6.5,
        "negative_share": 0.6667,
        "previous_wom_count": 1,
        "previous_wom_score": 1.0,
    }
    assert [(c["key"], c["name"], c["wom_share"], c["change"]) for c in body["categories"]] == [
        ("old_key", "old_key", 0.6154, 1),
        ("t_billing", "Billing", 0.3846, 0),
    ]
    assert [
        (t["wom_score"], t["author_handle"], t["author_followers"], t["category_name"])
        for t in body["top"]
    ] == [(4.0, "someone", None, "old_key"), (2.5, "ann", 120, "Billing")]
    assert body["top"][0]["created_at"] == "2026-11-10T00:00:00"


def test_trends_filters_and_top(client, headers, session):
    _seed(session)
    params = {**WEEK_RANGE, "bucket": "week", "category": "t_billing", "top": 1}
    params["platform"] = "twitter"
    body = client.get(URL, params=params, headers=headers).json()
    assert [b["wom_count"] for b in body["buckets"]] == [1, 0] and len(body["top"]) == 1
    assert (body["platform"], body["category"]) == ("twitter", "t_billing")
    reddit = client.get(URL, params={**WEEK_RANGE, "platform": "reddit"}, headers=headers).json()
    assert reddit["totals"]["scored"] == 0 and reddit["top"] == []


def test_defaults_are_the_last_30_days_per_day(client, headers, session):
    post(session, utcnow() - timedelta(hours=1), "negative", 3.0)
    session.commit()
    body = client.get(URL, headers=headers).json()
    assert body["bucket"] == "day" and len(body["buckets"]) == 30
    assert body["until"].endswith("T00:00:00") and body["totals"]["wom_count"] == 1


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"bucket": "month"}, ["query", "bucket"]),
        ({"top": 101}, ["query", "top"]),
        ({"since": "last week"}, ["query", "since"]),
    ],
)
def test_bad_parameters_are_problem_details(client, headers, params, loc):
    body = _problem(client.get(URL, params=params, headers=headers), 422)
    assert body["errors"][0]["loc"] == loc


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        (
            {"since": "2026-11-10T00:00:00Z", "until": "2026-11-02T00:00:00Z"},
            "since must be before until",
        ),
        (
            {"since": "2025-01-01T00:00:00Z", "until": "2026-11-02T00:00:00Z"},
            "the range may span at most 366 days",
        ),
        ({"platform": "myspace"}, "unknown platform 'myspace'"),
    ],
)
def test_invalid_ranges_are_problem_details(client, headers, params, detail):
    body = _problem(client.get(URL, params=params, headers=headers), 422)
    assert body["detail"] == detail


def test_trends_need_an_api_key(client):
    body = _problem(client.get(URL), 401)
    assert body["detail"] == "missing bearer API key"
    _problem(client.get(URL, headers={"Authorization": "Bearer nope"}), 401)


# --- the web page -----------------------------------------------------------------------------


@pytest.fixture
def marketing(settings, session_factory, session):
    _, secret = auth.create_key(session, "marketing")
    session.commit()
    with TestClient(create_app(settings, session_factory)) as c:
        c.post("/login", data={"api_key": secret}, follow_redirects=False)
        yield c


def test_trends_page_shows_chart_tables_and_escapes_text(marketing, session):
    taxonomy(session, t_evil="<b>Fees</b>")
    now = utcnow()
    post(
        session,
        now - timedelta(hours=1),
        "negative",
        12.5,
        "t_evil",
        handle="<img src=x>",
        followers=4200,
        text="<script>alert('wom')</script> broken again",
        url="javascript:alert(1)",
    )
    post(session, now - timedelta(hours=2), "positive")
    session.commit()

    page = marketing.get("/trends?days=7&bucket=day")

    assert page.status_code == 200
    html = page.text
    assert '<a href="/trends">WOM trends</a>' in html
    assert "<svg" in html and html.count('<rect class="bar"') == 7
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#39;wom&#39;)&lt;/script&gt; broken again" in html
    assert "&lt;b&gt;Fees&lt;/b&gt;" in html and "<b>Fees</b>" not in html
    assert "@&lt;img src=x&gt;" in html and "4,200 followers" in html
    assert "javascript:" not in html
    assert "12.50" in html and "▲ +1" in html
    assert '<option value="7" selected>' in html


def test_trends_page_per_week_and_platform(marketing, session):
    post(session, utcnow() - timedelta(hours=1), "negative", 2.0, platform="reddit")
    session.commit()
    html = marketing.get("/trends?days=90&bucket=week&platform=reddit").text
    assert html.count('<rect class="bar"') in (13, 14)  # 90 days touch 13 or 14 weeks
    assert '<option value="week" selected>' in html
    assert '<option value="reddit" selected>' in html
    assert "No scored mentions" not in html


def test_trends_page_empty_state_and_bad_input(marketing, session):
    post(session, utcnow() - timedelta(hours=1), "negative", 2.0, platform="reddit")
    session.commit()
    html = marketing.get("/trends?platform=twitter").text
    assert "No scored mentions in this period on twitter." in html
    assert "<svg" not in html
    # Unknown choices fall back to the defaults instead of failing.
    html = marketing.get("/trends?days=12&bucket=month&platform=myspace").text
    assert '<option value="30" selected>' in html and html.count('<rect class="bar"') == 30


def test_trends_page_offers_the_newest_data_when_the_window_is_empty(marketing, session):
    old = datetime(2025, 3, 14, 9, 30)
    post(session, old, "negative", 3.0, text="refund still missing")
    post(session, old - timedelta(days=40), "negative", 1.0, text="older complaint")
    session.commit()

    html = marketing.get("/trends?days=30").text
    assert "No scored mentions in this period. The newest is from 2025-03-14" in html
    link = "/trends?days=30&amp;bucket=day&amp;platform=&amp;end=2025-03-14"
    assert f'<a href="{link}">show the 30 days up to it</a>' in html

    html = marketing.get("/trends?days=30&bucket=day&end=2025-03-14").text
    assert "No scored mentions" not in html and "refund still missing" in html
    assert "older complaint" not in html  # 40 days earlier: outside the window
    assert "2025-02-13 to 2025-03-15" in html
    assert '<input type="hidden" name="end" value="2025-03-14">' in html and "back to today" in html
    # A malformed end day means today.
    assert "No scored mentions in this period." in marketing.get("/trends?end=14/03/2025").text


def test_trends_page_needs_login(client):
    response = client.get("/trends", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login")
