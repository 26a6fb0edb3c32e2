"""Report routes: recovery per grouping, drill-down, retention risk; status codes and bodies."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api import auth
from api.app import create_app
from core.timeutil import utcnow
from engagement.recovery.jobs import evaluate_recovery
from tests.engagement.test_recovery import DAY, NEG, POS, T0, World, seed_report

PROBLEM = "application/problem+json"
PERIOD = {"since": "2026-11-01T09:00:00Z", "until": "2026-12-01T09:00:00+00:00"}


@pytest.fixture
def client(settings, session_factory, session):
    app = create_app(settings, session_factory)
    _, secret = auth.create_key(session, "marketing")
    session.commit()
    with TestClient(app, headers={"Authorization": f"Bearer {secret}"}) as c:
        yield c


@pytest.fixture
def world(session):
    return World(session)


def _problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    return response.json()


def test_recovery_report_by_compensation(client, world, session):
    seed_report(world)
    session.commit()
    response = client.get("/api/v1/reports/recovery", params={**PERIOD, "group_by": "compensation"})
    assert response.status_code == 200
    body = response.json()
    assert (body["group_by"], body["since"], body["until"]) == (
        "compensation",
        "2026-11-01T09:00:00",
        "2026-12-01T09:00:00",
    )
    assert [(r["key"], r["complaints"], r["recovery_rate"]) for r in body["rows"]] == [
        ("none", 3, None),
        ("refund", 3, 0.6667),
        ("apology", 1, 0.0),
        ("voucher", 1, 0.0),
    ]
    refund = body["rows"][1]
    assert refund["compensation"] == {"EUR": "30.00", "USD": "15.00"}
    assert (refund["first_response_median_minutes"], refund["resolution_p90_minutes"]) == (
        20.0,
        504.0,
    )


def test_recovery_report_default_grouping_and_errors(client, world, session):
    seed_report(world)
    session.commit()
    body = client.get("/api/v1/reports/recovery", params=PERIOD).json()
    assert [(r["key"], r["complaints"], r["evaluated"]) for r in body["rows"]] == [("all", 7, 5)]
    bad = _problem(client.get("/api/v1/reports/recovery?group_by=weekday"), 422)
    assert bad["errors"][0]["loc"] == ["query", "group_by"]
    reversed_period = {"since": PERIOD["until"], "until": PERIOD["since"]}
    body = _problem(client.get("/api/v1/reports/recovery", params=reversed_period), 422)
    assert body["detail"] == "since must be before until"
    _problem(client.get("/api/v1/reports/recovery?since=yesterday"), 422)


def test_recovery_drill_down(client, world, session, session_factory, settings):
    recovered, author = world.complaint(NEG, category="billing")
    world.mention(author, T0 + DAY, POS)
    world.complaint(NEG)
    session.commit()
    evaluate_recovery(session_factory, settings, now=T0 + 20 * DAY)

    body = client.get("/api/v1/reports/recovery/tasks?status=recovered").json()
    assert (body["total"], body["limit"], body["offset"]) == (1, 50, 0)
    item = body["items"][0]
    assert (item["task_id"], item["recovery_status"], item["category"]) == (
        recovered.id,
        "recovered",
        "billing",
    )
    assert (item["before_score"], item["after_score"], item["change"]) == (-0.8, 0.7, 1.5)
    assert client.get("/api/v1/reports/recovery/tasks").json()["total"] == 2
    assert client.get("/api/v1/reports/recovery/tasks?status=worse").json()["items"] == []
    _problem(client.get("/api/v1/reports/recovery/tasks?status=happy"), 422)
    _problem(client.get("/api/v1/reports/recovery/tasks?limit=500"), 422)


def test_retention_risk(client, world, session):
    now = utcnow()
    big, small = world.author(), world.author()
    world.customer("big", big, value="5000.00", tier="vip")
    world.customer("small", small, value="100.00")
    for author in (big, small):
        m = world.mention(author, now - DAY, NEG)
        world.task(author, [m], status="new", first_response_at=None, created_at=now - DAY)
    session.commit()

    response = client.get("/api/v1/reports/retention-risk")
    assert response.status_code == 200
    rows = response.json()
    assert [(r["name"], r["risk_score"], r["lifetime_value"]) for r in rows] == [
        ("big", 10000.0, "5000.00"),
        ("small", 200.0, "100.00"),
    ]
    assert rows[0]["worst_recent_sentiment"] == -0.8 and rows[0]["open_complaints"] == 1
    only_big = client.get("/api/v1/reports/retention-risk?min_value=1000").json()
    assert [r["name"] for r in only_big] == ["big"]
    assert len(client.get("/api/v1/reports/retention-risk?limit=1").json()) == 1
    _problem(client.get("/api/v1/reports/retention-risk?limit=0"), 422)
    _problem(client.get("/api/v1/reports/retention-risk?min_value=-5"), 422)
    _problem(client.get("/api/v1/reports/retention-risk?min_value=NaN"), 422)


def test_reports_need_an_api_key(settings, session_factory):
    app = create_app(settings, session_factory)
    with TestClient(app) as anonymous:
        for path in ("recovery", "recovery/tasks", "retention-risk"):
            assert anonymous.get(f"/api/v1/reports/{path}").status_code == 401


def test_routes_are_tagged(client):
    spec = client.get("/openapi.json").json()["paths"]
    assert spec["/api/v1/reports/recovery"]["get"]["tags"] == ["reports"]
