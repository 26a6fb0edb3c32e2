"""GET /api/v1/complaints: keyset pages, since, bad cursor and limit."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from collectors import service as collect
from sentiment import service as scoring
from sentiment.fake import FakeModel
from tests.conftest import mention

T0 = datetime(2026, 11, 20, 10, 0, 0)


@pytest.fixture
def key_name():
    return "crm"


@pytest.fixture
def seeded(session):
    collect.ingest(
        session,
        [mention(str(n), "this is terrible", created_at=T0 + timedelta(days=n)) for n in range(5)]
        + [mention("ok", "I love it", created_at=T0)],
    )
    scoring.score_all_pending(session, FakeModel())
    session.commit()


def test_needs_a_key(client):
    assert client.get("/api/v1/complaints").status_code == 401


def test_pages_follow_next_cursor_to_the_end(client, headers, seeded):
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = client.get("/api/v1/complaints", params=params, headers=headers)
        assert response.status_code == 200
        body = response.json()
        seen.extend(i["external_id"] for i in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ["0", "1", "2", "3", "4"]


def test_since_accepts_iso_with_offset(client, headers, seeded):
    response = client.get(
        "/api/v1/complaints", params={"since": "2026-11-23T11:00:00+01:00"}, headers=headers
    )
    body = response.json()
    assert [i["external_id"] for i in body["items"]] == ["3", "4"]
    assert body["next_cursor"] is None
    assert body["items"][0]["created_at"] == "2026-11-23T10:00:00"


@pytest.mark.parametrize(
    "params", [{"cursor": "garbage"}, {"limit": 0}, {"limit": 1001}, {"since": "yesterday"}]
)
def test_bad_parameters_are_422_problems(client, headers, params):
    response = client.get("/api/v1/complaints", params=params, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
