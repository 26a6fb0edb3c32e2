"""Webhook routes: status codes, the secret shown once, deliveries, redelivery, test ping."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engagement.models import WebhookDelivery
from engagement.webhooks import outbox
from tests.webhook_receiver import WebhookReceiver

URL = "https://crm.example/hooks"


@pytest.fixture
def key_name():
    return "crm-admin"


def _create(client, headers, **body):
    data = {"url": URL, "event_types": ["task.opened", "complaint.flagged"], **body}
    response = client.post("/api/v1/webhooks", json=data, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_routes_need_an_api_key(client):
    assert client.get("/api/v1/webhooks").status_code == 401
    assert client.post("/api/v1/webhook-deliveries/1/redeliver").status_code == 401


def test_create_shows_the_secret_once(client, headers):
    created = _create(client, headers, description="Salesforce")

    assert created["secret"].startswith("whsec_")
    assert created["secret_prefix"] == created["secret"][:12]
    assert (created["url"], created["enabled"], created["description"]) == (
        URL,
        True,
        "Salesforce",
    )
    listed = client.get("/api/v1/webhooks", headers=headers).json()
    assert [s["id"] for s in listed] == [created["id"]]
    assert "secret" not in listed[0]
    one = client.get(f"/api/v1/webhooks/{created['id']}", headers=headers).json()
    assert "secret" not in one and one["secret_prefix"] == created["secret_prefix"]


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://x.example/", "event_types": ["*"]},
        {"url": URL, "event_types": ["no.such"]},
        {"url": URL, "event_types": []},
        {"url": URL},
        {"url": URL, "event_types": ["*"], "description": "x" * 501},
        {"url": URL, "event_types": ["*"], "secret": "whsec_mine"},
    ],
)
def test_invalid_create_is_422_problem(client, headers, body):
    response = client.post("/api/v1/webhooks", json=body, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_patch_rotate_delete(client, headers):
    sub = _create(client, headers)
    base = f"/api/v1/webhooks/{sub['id']}"

    patched = client.patch(
        base,
        json={"enabled": False, "event_types": ["*"], "url": "http://crm.example/v2"},
        headers=headers,
    )
    assert patched.status_code == 200
    assert (patched.json()["enabled"], patched.json()["event_types"]) == (False, ["*"])
    assert patched.json()["url"] == "http://crm.example/v2"
    assert client.patch(base, json={"event_types": ["x"]}, headers=headers).status_code == 422

    rotated = client.post(f"{base}/rotate-secret", headers=headers)
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != sub["secret"]
    assert rotated.json()["previous_secret_expires_at"] is not None  # 24 h by default
    at_once = client.post(f"{base}/rotate-secret?grace_hours=0", headers=headers)
    assert at_once.status_code == 200 and at_once.json()["previous_secret_expires_at"] is None
    listed = client.get(base, headers=headers).json()
    assert listed["previous_secret_expires_at"] is None
    too_long = client.post(f"{base}/rotate-secret?grace_hours=169", headers=headers)
    assert too_long.status_code == 422

    assert client.delete(base, headers=headers).status_code == 204
    for response in (
        client.get(base, headers=headers),
        client.delete(base, headers=headers),
        client.patch(base, json={"enabled": True}, headers=headers),
        client.post(f"{base}/rotate-secret", headers=headers),
        client.get(f"{base}/deliveries", headers=headers),
        client.post(f"{base}/test", headers=headers),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


def test_deliveries_and_redelivery(client, headers, session):
    sub = _create(client, headers)
    event = outbox.emit(session, "task.opened", {"task_id": 1})
    session.commit()
    base = f"/api/v1/webhooks/{sub['id']}/deliveries"

    page = client.get(base, headers=headers).json()
    assert (page["total"], page["limit"], page["offset"]) == (1, 50, 0)
    (item,) = page["items"]
    assert (item["event_id"], item["event_type"], item["status"]) == (
        event.event_id,
        "task.opened",
        "pending",
    )
    assert client.get(f"{base}?status=dead", headers=headers).json()["total"] == 0
    assert client.get(f"{base}?status=lost", headers=headers).status_code == 422

    redeliver = f"/api/v1/webhook-deliveries/{item['id']}/redeliver"
    assert client.post(redeliver, headers=headers).status_code == 409
    row = session.scalars(select(WebhookDelivery)).one()
    row.status, row.attempts = "dead", 8
    session.commit()
    again = client.post(redeliver, headers=headers)
    assert again.status_code == 200
    assert (again.json()["status"], again.json()["attempts"]) == ("pending", 0)
    assert again.json()["event_id"] == event.event_id
    assert (
        client.post("/api/v1/webhook-deliveries/999999/redeliver", headers=headers).status_code
        == 404
    )


def test_test_ping_reaches_the_receiver(client, headers):
    with WebhookReceiver() as rx:
        sub = _create(client, headers, url=rx.url)
        rx.secret = sub["secret"]
        response = client.post(f"/api/v1/webhooks/{sub['id']}/test", headers=headers)

    assert response.status_code == 200
    body = response.json()
    assert (body["delivered"], body["status_code"], body["error"]) == (True, 200, None)
    (got,) = rx.received
    assert got.verified and got.webhook_id == body["webhook_id"]
    assert got.json["type"] == "webhook.test"
