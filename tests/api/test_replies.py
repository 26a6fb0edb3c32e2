"""Reply and compensation routes: status codes, problem details, nothing stored on refusal."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engagement import templates
from engagement.models import Compensation, Reply, TaskEvent
from engagement.replies import service
from engagement.schemas import ReplyTemplateCreate
from tests.engagement.test_replies import seed_task


@pytest.fixture
def key_name():
    return "agent-maya"


@pytest.fixture
def task(session):
    task, target = seed_task(session)
    session.commit()
    return task, target


def replies_stored(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count(Reply.id))) or 0


def test_routes_need_a_key(client, task):
    task_id = task[0].id
    assert client.get(f"/api/v1/tasks/{task_id}/replies").status_code == 401
    assert client.post(f"/api/v1/tasks/{task_id}/replies", json={"body": "x"}).status_code == 401
    assert client.delete("/api/v1/replies/1").status_code == 401
    assert client.get(f"/api/v1/tasks/{task_id}/compensations").status_code == 401


def test_create_and_list_replies(client, headers, task, session):
    task_obj, target = task
    response = client.post(
        f"/api/v1/tasks/{task_obj.id}/replies", json={"body": "Sorry, DM us"}, headers=headers
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["platform"], body["mention_id"]) == (
        "pending",
        "twitter",
        target.id,
    )
    assert (body["author"], body["dry_run"], body["attempts"], body["task_id"]) == (
        "agent-maya",
        False,
        0,
        task_obj.id,
    )
    assert body["external_id"] is None and len(body["idempotency_key"]) == 32
    listed = client.get(f"/api/v1/tasks/{task_obj.id}/replies", headers=headers).json()
    assert [r["id"] for r in listed] == [body["id"]]
    one = client.get(f"/api/v1/replies/{body['id']}", headers=headers).json()
    assert one["body"] == "Sorry, DM us"
    event = session.scalars(select(TaskEvent).where(TaskEvent.task_id == task_obj.id)).one()
    assert (event.type, event.actor) == ("reply_queued", "agent-maya")


def test_dry_run_from_the_request_or_the_settings(client, headers, task, settings):
    task_id = task[0].id
    url = f"/api/v1/tasks/{task_id}/replies"
    assert client.post(url, json={"body": "a", "dry_run": True}, headers=headers).json()["dry_run"]
    settings.dry_run_replies = True
    assert client.post(url, json={"body": "b"}, headers=headers).json()["dry_run"] is True


def test_reply_too_long_for_x_is_422_and_stores_nothing(client, headers, task, session):
    task_id = task[0].id
    response = client.post(
        f"/api/v1/tasks/{task_id}/replies", json={"body": "a" * 281}, headers=headers
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": "reply is 281 characters as X counts them; X allows 280",
    }
    assert replies_stored(session) == 0
    assert session.scalars(select(TaskEvent)).all() == []


def test_unanswerable_review_is_422(client, headers, session):
    review_task, _ = seed_task(session, "rev-1", platform="appstore", text="crash", rating=1)
    session.commit()
    response = client.post(
        f"/api/v1/tasks/{review_task.id}/replies", json={"body": "Sorry"}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "App Store reviews cannot be answered from here"
    assert replies_stored(session) == 0


def test_unknown_task_and_mention_are_404(client, headers, task, session):
    task_id = task[0].id
    missing_task = client.post("/api/v1/tasks/999999/replies", json={"body": "x"}, headers=headers)
    assert (missing_task.status_code, missing_task.json()["detail"]) == (
        404,
        "task 999999 not found",
    )
    missing_mention = client.post(
        f"/api/v1/tasks/{task_id}/replies",
        json={"body": "x", "mention_id": 999999},
        headers=headers,
    )
    assert missing_mention.status_code == 404
    assert client.get("/api/v1/tasks/999999/replies", headers=headers).status_code == 404
    assert client.get("/api/v1/replies/999999", headers=headers).status_code == 404
    assert replies_stored(session) == 0


def test_mention_of_another_task_is_422(client, headers, task, session):
    _other_task, other = seed_task(session, "2123717988971449999")
    session.commit()
    response = client.post(
        f"/api/v1/tasks/{task[0].id}/replies",
        json={"body": "x", "mention_id": other.id},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["detail"] == f"mention {other.id} is not part of task {task[0].id}"


@pytest.mark.parametrize(
    "payload",
    [{}, {"body": ""}, {"body": "x", "template_id": 1}, {"body": "x", "extra": 1}],
)
def test_malformed_requests_are_422(client, headers, task, session, payload):
    response = client.post(f"/api/v1/tasks/{task[0].id}/replies", json=payload, headers=headers)
    assert response.status_code == 422
    assert replies_stored(session) == 0


def test_reply_from_a_template(client, headers, task, session):
    template = templates.create_template(
        session, ReplyTemplateCreate(name="sorry", body="Hi {handle}, sorry! - {agent}")
    )
    session.commit()
    response = client.post(
        f"/api/v1/tasks/{task[0].id}/replies", json={"template_id": template.id}, headers=headers
    )
    assert response.status_code == 201
    assert response.json()["body"] == "Hi @ann, sorry! - agent-maya"
    missing = client.post(
        f"/api/v1/tasks/{task[0].id}/replies", json={"template_id": 999999}, headers=headers
    )
    assert missing.status_code == 404


def test_cancel_pending_then_409(client, headers, task, session):
    created = client.post(
        f"/api/v1/tasks/{task[0].id}/replies", json={"body": "x"}, headers=headers
    ).json()
    cancelled = client.delete(f"/api/v1/replies/{created['id']}", headers=headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = client.delete(f"/api/v1/replies/{created['id']}", headers=headers)
    assert again.status_code == 409
    assert again.json()["detail"] == (
        f"reply {created['id']} is cancelled: only pending replies can be cancelled"
    )
    assert client.delete("/api/v1/replies/999999", headers=headers).status_code == 404


def test_cancel_a_sent_reply_is_409(client, headers, task, session):
    reply = service.create_reply(session, task_id=task[0].id, mention_id=None, body="x", author="a")
    reply.status = "sent"
    session.commit()
    response = client.delete(f"/api/v1/replies/{reply.id}", headers=headers)
    assert response.status_code == 409
    assert "is sent: only pending replies can be cancelled" in response.json()["detail"]


def test_compensations_routes(client, headers, task, session):
    url = f"/api/v1/tasks/{task[0].id}/compensations"
    created = client.post(
        url,
        json={"kind": "voucher", "amount": "15.00", "currency": "eur", "note": "next order"},
        headers=headers,
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["kind"], body["amount"], body["currency"]) == ("voucher", "15.00", "EUR")
    assert (body["note"], body["created_by"]) == ("next order", "agent-maya")
    apology = client.post(url, json={"kind": "apology"}, headers=headers)
    assert apology.status_code == 201 and apology.json()["amount"] is None
    listed = client.get(url, headers=headers).json()
    assert [c["kind"] for c in listed] == ["voucher", "apology"]
    assert client.get("/api/v1/tasks/999999/compensations", headers=headers).status_code == 404
    assert (
        client.post(
            "/api/v1/tasks/999999/compensations", json={"kind": "apology"}, headers=headers
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        ({"kind": "cash"}, None),
        ({"kind": "refund", "amount": "-1", "currency": "EUR"}, None),
        ({"kind": "refund", "amount": "1.005", "currency": "EUR"}, None),
        ({"kind": "refund", "currency": "EURO", "amount": "1"}, None),
        (
            {"kind": "refund", "amount": "10"},
            "currency is required with an amount (ISO 4217, e.g. EUR)",
        ),
        (
            {"kind": "refund", "amount": "10", "currency": "E1R"},
            "currency 'E1R' is not an ISO 4217 code (3 letters, e.g. EUR)",
        ),
        ({"kind": "apology", "note": "x" * 2001}, None),
    ],
)
def test_invalid_compensations_are_422(client, headers, task, session, payload, detail):
    response = client.post(
        f"/api/v1/tasks/{task[0].id}/compensations", json=payload, headers=headers
    )
    assert response.status_code == 422
    if detail:
        assert response.json()["detail"] == detail
    session.expire_all()
    assert session.scalars(select(Compensation)).all() == []
