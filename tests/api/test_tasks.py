"""Task lifecycle, agents, rules and reply-template routes: status codes and problem bodies."""

from __future__ import annotations

import pytest

from collectors import service as collect
from engagement import rules, service
from sentiment import service as scoring
from sentiment.fake import FakeModel
from tests.conftest import mention

PROBLEM = "application/problem+json"


@pytest.fixture
def task_id(session):
    if not rules.list_rules(session):
        rules.seed_default_rules(session)
    collect.ingest(
        session,
        [mention("1", "this is terrible", author={"id": "9", "handle": "ann", "name": "Ann Lee"})],
    )
    scoring.score_all_pending(session, FakeModel())
    report = service.engage_pending(session)
    session.commit()
    return report.opened_task_ids[0]


def _problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    return body


def test_list_filters(client, headers, task_id):
    assert client.get("/api/v1/tasks?priority=2", headers=headers).json()["total"] == 1
    assert client.get("/api/v1/tasks?priority=1", headers=headers).json()["total"] == 0
    assert client.get("/api/v1/tasks?overdue=true", headers=headers).json()["total"] == 0
    assert client.get("/api/v1/tasks?overdue=false", headers=headers).json()["total"] == 1
    item = client.get("/api/v1/tasks", headers=headers).json()["items"][0]
    assert item["resolution_due_at"] is not None
    assert (item["escalation_level"], item["locked_by"]) == (0, None)
    _problem(client.get("/api/v1/tasks?priority=9", headers=headers), 422)


def test_assign_by_name_and_round_robin(client, headers, task_id):
    assert client.post("/api/v1/agents", json={"name": "bob"}, headers=headers).status_code == 201
    response = client.post(f"/api/v1/tasks/{task_id}/assign", json={}, headers=headers)
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["assignee"]) == ("assigned", "bob")
    client.post("/api/v1/agents", json={"name": "cyd"}, headers=headers)
    body = client.post(
        f"/api/v1/tasks/{task_id}/assign", json={"agent": "cyd"}, headers=headers
    ).json()
    assert body["assignee"] == "cyd"
    events = client.get(f"/api/v1/tasks/{task_id}", headers=headers).json()["events"]
    assert [(e["type"], e["actor"]) for e in events] == [
        ("opened", "system"),
        ("assigned", "tests"),
        ("assigned", "tests"),
    ]


def test_assign_errors_are_problems(client, headers, task_id):
    body = _problem(
        client.post(f"/api/v1/tasks/{task_id}/assign", json={"agent": "zed"}, headers=headers),
        404,
    )
    assert body["detail"] == "agent 'zed' not found"
    body = _problem(client.post(f"/api/v1/tasks/{task_id}/assign", json={}, headers=headers), 409)
    assert body["detail"] == "no available agent to assign the task to"
    _problem(client.post("/api/v1/tasks/999999/assign", json={}, headers=headers), 404)
    _problem(
        client.post(f"/api/v1/tasks/{task_id}/assign", json={"agent": ""}, headers=headers), 422
    )


def test_status_changes(client, headers, task_id):
    url = f"/api/v1/tasks/{task_id}/status"
    body = _problem(client.post(url, json={"status": "waiting"}, headers=headers), 409)
    assert body["detail"] == f"task {task_id}: cannot go from new to waiting"
    response = client.post(url, json={"status": "resolved"}, headers=headers)
    assert response.status_code == 200
    assert response.json()["status"] == "resolved" and response.json()["resolved_at"]
    assert client.post(url, json={"status": "closed"}, headers=headers).json()["status"] == "closed"
    body = client.post(url, json={"status": "new"}, headers=headers).json()
    assert (body["status"], body["closed_at"]) == ("new", None)
    body = _problem(client.post(url, json={"status": "done"}, headers=headers), 422)
    assert body["errors"][0]["loc"] == ["body", "status"]
    _problem(
        client.post("/api/v1/tasks/999999/status", json={"status": "closed"}, headers=headers), 404
    )


def test_notes(client, headers, task_id):
    url = f"/api/v1/tasks/{task_id}/notes"
    response = client.post(url, json={"body": "Called the customer"}, headers=headers)
    assert response.status_code == 201
    assert (response.json()["type"], response.json()["actor"]) == ("note", "tests")
    assert response.json()["data"] == {"body": "Called the customer"}
    _problem(client.post(url, json={"body": "   "}, headers=headers), 422)
    _problem(client.post(url, json={"body": "x" * 5001}, headers=headers), 422)
    _problem(client.post("/api/v1/tasks/999999/notes", json={"body": "x"}, headers=headers), 404)


def test_lock_and_unlock(client, headers, task_id):
    url = f"/api/v1/tasks/{task_id}/lock"
    body = client.post(url, headers=headers).json()
    assert body["locked_by"] == "tests" and body["locked_until"]
    body = _problem(client.post(url, json={"agent": "bob"}, headers=headers), 409)
    assert body["detail"].startswith(f"task {task_id} is being answered by tests until ")
    _problem(client.delete(f"{url}?agent=bob", headers=headers), 409)
    assert client.delete(url, headers=headers).json()["locked_by"] is None
    assert client.post(url, json={"agent": "bob", "minutes": 2}, headers=headers).status_code == 200
    assert client.delete(f"{url}?force=true", headers=headers).status_code == 200
    _problem(client.post(url, json={"minutes": 0}, headers=headers), 422)
    _problem(client.post("/api/v1/tasks/999999/lock", headers=headers), 404)


def test_agents_routes(client, headers):
    created = client.post(
        "/api/v1/agents", json={"name": "ann", "email": "ann@example.com"}, headers=headers
    )
    assert created.status_code == 201
    agent_id = created.json()["id"]
    _problem(client.post("/api/v1/agents", json={"name": "ann"}, headers=headers), 409)
    patched = client.patch(f"/api/v1/agents/{agent_id}", json={"available": False}, headers=headers)
    assert patched.json()["available"] is False
    client.patch(f"/api/v1/agents/{agent_id}", json={"active": False}, headers=headers)
    assert client.get("/api/v1/agents", headers=headers).json() == []
    listed = client.get("/api/v1/agents?include_inactive=true", headers=headers).json()
    assert [(a["name"], a["active"]) for a in listed] == [("ann", False)]
    _problem(client.patch("/api/v1/agents/999999", json={"active": True}, headers=headers), 404)
    _problem(client.patch(f"/api/v1/agents/{agent_id}", json={"name": "x"}, headers=headers), 422)


def test_rules_routes(client, headers, session):
    if not rules.list_rules(session):
        rules.seed_default_rules(session)
        session.commit()
    listed = client.get("/api/v1/rules", headers=headers).json()
    assert [r["kind"] for r in listed] == ["negative_wom", "low_rating", "question", "key_customer"]
    body = _problem(
        client.post(
            "/api/v1/rules",
            json={"name": "x", "kind": "low_rating", "params": {"max_rating": 7}},
            headers=headers,
        ),
        422,
    )
    assert body["detail"].startswith("invalid params for a low_rating rule: max_rating")
    _problem(client.post("/api/v1/rules", json={"name": "x", "kind": "nope"}, headers=headers), 422)
    created = client.post(
        "/api/v1/rules",
        json={"name": "Ask @lumen", "kind": "question", "params": {"brand_handles": ["@Lumen"]}},
        headers=headers,
    )
    assert created.status_code == 201
    assert created.json()["params"] == {"brand_handles": ["lumen"]}
    rule_id = created.json()["id"]
    patched = client.patch(f"/api/v1/rules/{rule_id}", json={"enabled": False}, headers=headers)
    assert patched.json()["enabled"] is False
    _problem(
        client.patch(f"/api/v1/rules/{rule_id}", json={"params": {"x": 1}}, headers=headers), 422
    )
    assert client.delete(f"/api/v1/rules/{rule_id}", headers=headers).status_code == 204
    _problem(client.delete(f"/api/v1/rules/{rule_id}", headers=headers), 404)


def test_reply_template_routes(client, headers, task_id):
    _problem(
        client.post(
            "/api/v1/reply-templates", json={"name": "t", "body": "Hi {nick}"}, headers=headers
        ),
        422,
    )
    created = client.post(
        "/api/v1/reply-templates",
        json={"name": "sorry", "body": "Sorry {first_name}! {agent}", "platform": "twitter"},
        headers=headers,
    )
    assert created.status_code == 201
    template_id = created.json()["id"]
    _problem(
        client.post(
            "/api/v1/reply-templates", json={"name": "sorry", "body": "x"}, headers=headers
        ),
        409,
    )
    render = f"/api/v1/tasks/{task_id}/reply-templates/{template_id}/render"
    assert client.get(render, headers=headers).json() == {"text": "Sorry Ann! tests"}
    assert client.get(f"{render}?agent=Sam", headers=headers).json() == {"text": "Sorry Ann! Sam"}
    _problem(
        client.get(f"/api/v1/tasks/{task_id}/reply-templates/999999/render", headers=headers), 404
    )
    patched = client.patch(
        f"/api/v1/reply-templates/{template_id}", json={"body": "Hello {name}"}, headers=headers
    )
    assert patched.json()["body"] == "Hello {name}"
    assert client.get(render, headers=headers).json() == {"text": "Hello Ann Lee"}
    listed = client.get("/api/v1/reply-templates?platform=reddit", headers=headers).json()
    assert listed == []
    assert (
        client.delete(f"/api/v1/reply-templates/{template_id}", headers=headers).status_code == 204
    )
    _problem(client.get(f"/api/v1/reply-templates/{template_id}", headers=headers), 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/agents"),
        ("get", "/api/v1/rules"),
        ("get", "/api/v1/reply-templates"),
        ("post", "/api/v1/tasks/1/lock"),
    ],
)
def test_new_routes_require_a_key(client, method, path):
    _problem(getattr(client, method)(path), 401)
