from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api import auth
from api.app import create_app
from api.deps import COOKIE_NAME
from collectors import service as collect
from engagement import service as engagement
from sentiment import service as scoring
from sentiment.fake import FakeModel
from tests.conftest import mention


@pytest.fixture
def client(settings, session_factory):
    app = create_app(settings, session_factory)
    with TestClient(app) as c:
        yield c


@pytest.fixture
def api_key(session):
    _, secret = auth.create_key(session, "tests")
    session.commit()
    return secret


@pytest.fixture
def seeded(session):
    collect.ingest(
        session,
        [
            mention(
                "1",
                "<script>alert('x')</script> this is terrible",
                author={"id": "9", "handle": "ann", "name": "<b>Ann</b>"},
                url="https://x.com/ann/status/1",
            ),
            mention("2", "I love it"),
        ],
    )
    scoring.score_all_pending(session, FakeModel())
    engagement.engage_pending(session)
    session.commit()


def _auth(key):
    return {"Authorization": f"Bearer {key}"}


def test_health_and_openapi_are_public(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/openapi.json").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/tasks", "/api/v1/mentions", "/api/v1/tasks/1"])
def test_api_requires_a_key(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["status"] == 401


def test_wrong_and_revoked_keys_are_rejected(client, session, api_key):
    assert client.get("/api/v1/tasks", headers=_auth("scrm_nope")).status_code == 401
    key = auth.verify_key(session, api_key)
    assert key is not None
    auth.revoke_key(session, key.id)
    session.commit()
    assert client.get("/api/v1/tasks", headers=_auth(api_key)).status_code == 401


def test_tasks_list_and_detail(client, api_key, seeded):
    body = client.get("/api/v1/tasks", headers=_auth(api_key)).json()
    assert body["total"] == 1 and body["limit"] == 50
    (task,) = body["items"]
    assert task["status"] == "new" and task["reason"] == "negative"
    assert task["mentions"][0]["sentiment"]["label"] == "negative"
    detail = client.get(f"/api/v1/tasks/{task['id']}", headers=_auth(api_key)).json()
    assert [e["type"] for e in detail["events"]] == ["opened"]
    assert client.get("/api/v1/tasks?status=closed", headers=_auth(api_key)).json()["total"] == 0


def test_unknown_task_is_problem_404(client, api_key):
    response = client.get("/api/v1/tasks/987654", headers=_auth(api_key))
    assert response.status_code == 404
    assert response.json()["detail"] == "task 987654 not found"


def test_bad_query_is_problem_422(client, api_key):
    response = client.get("/api/v1/tasks?limit=100000", headers=_auth(api_key))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "limit"]


def test_mentions_list_filters(client, api_key, seeded):
    body = client.get("/api/v1/mentions?platform=twitter", headers=_auth(api_key)).json()
    assert body["total"] == 2
    assert (
        client.get("/api/v1/mentions?platform=reddit", headers=_auth(api_key)).json()["total"] == 0
    )
    one = body["items"][0]["id"]
    assert client.get(f"/api/v1/mentions/{one}", headers=_auth(api_key)).status_code == 200
    assert client.get("/api/v1/mentions/999999", headers=_auth(api_key)).status_code == 404


def test_inbox_needs_login(client):
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_login_with_a_bad_key_fails(client):
    response = client.post("/login", data={"api_key": "scrm_wrong"}, follow_redirects=False)
    assert response.status_code == 401
    assert "not valid" in response.text


def test_inbox_shows_tasks_with_untrusted_text_escaped(client, api_key, seeded):
    login = client.post("/login", data={"api_key": api_key}, follow_redirects=False)
    assert login.status_code == 303
    assert "httponly" in login.headers["set-cookie"].lower()
    assert client.cookies.get(COOKIE_NAME) == api_key
    page = client.get("/")
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page.text
    assert "&lt;b&gt;Ann&lt;/b&gt;" in page.text
    assert 'class="prio prio-2"' in page.text
    task_id = client.get("/api/v1/tasks", headers=_auth(api_key)).json()["items"][0]["id"]
    detail = client.get(f"/tasks/{task_id}")
    assert detail.status_code == 200
    assert "<script>alert" not in detail.text
    assert 'href="https://x.com/ann/status/1"' in detail.text
    assert client.get("/tasks/999999").status_code == 404


def test_logout_clears_the_cookie(client, api_key):
    client.post("/login", data={"api_key": api_key}, follow_redirects=False)
    client.post("/logout", follow_redirects=False)
    assert client.get("/", follow_redirects=False).status_code == 303
