from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api import auth
from api.app import create_app


@pytest.fixture
def client(settings, session_factory, session):
    _, secret = auth.create_key(session, "tests")
    session.commit()
    app = create_app(settings, session_factory)
    with TestClient(app, headers={"Authorization": f"Bearer {secret}"}) as c:
        yield c


def test_source_crud_and_status(client, tmp_path):
    created = client.post(
        "/api/v1/sources",
        json={"name": "drop", "platform": "file", "config": {"path": str(tmp_path)}},
    )
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "idle" and body["enabled"] is True
    assert body["config"] == {"path": str(tmp_path), "patterns": ["*.jsonl", "*.csv"]}
    sid = body["id"]
    paused = client.patch(f"/api/v1/sources/{sid}", json={"enabled": False}).json()
    assert paused["enabled"] is False
    assert [s["id"] for s in client.get("/api/v1/sources?enabled=false").json()] == [sid]
    assert client.get(f"/api/v1/sources/{sid}").json()["name"] == "drop"
    assert client.delete(f"/api/v1/sources/{sid}").status_code == 204
    assert client.get(f"/api/v1/sources/{sid}").status_code == 404


def test_bad_source_config_is_422_problem(client):
    response = client.post(
        "/api/v1/sources", json={"name": "x", "platform": "file", "config": {"nope": 1}}
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("invalid file config: ")


def test_unknown_platform_is_422(client):
    response = client.post("/api/v1/sources", json={"name": "x", "platform": "myspace"})
    assert response.status_code == 422


def test_collect_now_needs_a_scheduler_in_this_process(client, tmp_path):
    sid = client.post(
        "/api/v1/sources",
        json={"name": "drop", "platform": "file", "config": {"path": str(tmp_path)}},
    ).json()["id"]
    response = client.post(f"/api/v1/sources/{sid}/collect")
    assert response.status_code == 409
    assert "socialcrm collect" in response.json()["detail"]
