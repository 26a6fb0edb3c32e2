"""The agent's web views: task actions behind login and CSRF, errors explained on the page."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api import auth
from api.app import create_app
from collectors import service as collect
from collectors.models import Mention
from engagement import service as engagement
from engagement.models import Agent, Compensation, Customer, Reply, ResponseTask
from sentiment import service as scoring
from sentiment.fake import FakeModel
from tests.conftest import mention


@pytest.fixture
def task_id(session):
    collect.ingest(
        session,
        [mention("1", "my order is late and broken", thread_id="1", author={"id": "9"})],
    )
    scoring.score_all_pending(session, FakeModel())
    engagement.engage_pending(session)
    session.add_all([Agent(name="ana"), Agent(name="ben")])
    session.commit()
    return session.scalar(select(ResponseTask.id))


def _client(settings, session_factory, session, name):
    _, secret = auth.create_key(session, name)
    session.commit()
    client = TestClient(create_app(settings, session_factory))
    client.post("/login", data={"api_key": secret}, follow_redirects=False)
    return client


@pytest.fixture
def agent(settings, session_factory, session):
    with _client(settings, session_factory, session, "ana") as c:
        yield c


def _csrf(client, task_id):
    page = client.get(f"/tasks/{task_id}")
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text).group(1)


def test_actions_need_the_csrf_token(agent, task_id):
    response = agent.post(f"/tasks/{task_id}/lock", data={"csrf": "0" * 64})
    assert response.status_code == 403
    assert "The form expired" in response.text


def test_lock_shows_who_is_answering_and_blocks_a_colleague(
    agent, task_id, settings, session_factory, session
):
    token = _csrf(agent, task_id)
    assert agent.post(f"/tasks/{task_id}/lock", data={"csrf": token}).status_code == 200
    assert "Being answered by <strong>ana</strong>" in agent.get(f"/tasks/{task_id}").text
    with _client(settings, session_factory, session, "ben") as colleague:
        refused = colleague.post(f"/tasks/{task_id}/lock", data={"csrf": _csrf(colleague, task_id)})
        assert refused.status_code == 409
        assert "being answered by ana" in refused.text


def test_assign_status_note_reply_and_compensation(agent, task_id, session_factory):
    token = _csrf(agent, task_id)
    agent.post(f"/tasks/{task_id}/assign", data={"csrf": token, "agent": ""})
    agent.post(f"/tasks/{task_id}/notes", data={"csrf": token, "body": "<i>called</i> them"})
    agent.post(f"/tasks/{task_id}/replies", data={"csrf": token, "body": "Sorry! Please DM us."})
    agent.post(
        f"/tasks/{task_id}/compensations",
        data={"csrf": token, "kind": "voucher", "amount": "10.00", "currency": "eur"},
    )
    moved = agent.post(f"/tasks/{task_id}/status", data={"csrf": token, "status": "waiting"})
    assert moved.status_code == 200
    with session_factory() as check:
        task = check.get(ResponseTask, task_id)
        assert (task.status, task.assignee) == ("waiting", "ana")
        assert check.scalar(select(Reply.body)) == "Sorry! Please DM us."
        comp = check.scalar(select(Compensation))
        assert (comp.kind, str(comp.amount), comp.currency) == ("voucher", "10.00", "EUR")
    page = agent.get(f"/tasks/{task_id}").text
    assert "&lt;i&gt;called&lt;/i&gt; them" in page
    assert "pending" in page and "voucher 10.00 EUR" in page


def test_illegal_moves_and_bad_input_are_explained(agent, task_id):
    token = _csrf(agent, task_id)
    bad = agent.post(f"/tasks/{task_id}/compensations", data={"csrf": token, "kind": "hug"})
    assert bad.status_code == 422 and "kind must be one of" in bad.text
    too_long = agent.post(f"/tasks/{task_id}/replies", data={"csrf": token, "body": "x" * 300})
    assert too_long.status_code == 422
    agent.post(f"/tasks/{task_id}/status", data={"csrf": token, "status": "closed"})
    again = agent.post(f"/tasks/{task_id}/status", data={"csrf": token, "status": "waiting"})
    assert again.status_code == 409


def test_actions_need_login(settings, session_factory, task_id):
    with TestClient(create_app(settings, session_factory)) as anonymous:
        response = anonymous.post(
            f"/tasks/{task_id}/lock", data={"csrf": "x"}, follow_redirects=False
        )
        assert response.status_code == 303 and response.headers["location"] == "/login"


def test_customer_page_and_link_suggestions(agent, session, session_factory):
    from engagement.customers import service as customers
    from engagement.customers.schemas import CustomerUpsert

    customers.upsert_customer(
        session, "CRM-1", CustomerUpsert(name="Greg <Halvorsen>", tier="vip"), "crm"
    )
    collect.ingest(
        session,
        [mention("g1", "still no refund", author={"id": "77", "name": "Greg <Halvorsen>"})],
    )
    author_id = session.scalar(select(Mention.author_id))
    customers.resolve_authors(session, [author_id])
    session.commit()
    page = agent.get("/suggestions")
    assert page.status_code == 200
    assert "Greg &lt;Halvorsen&gt;" in page.text
    suggestion_id = re.search(r'action="/suggestions/(\d+)/accept"', page.text).group(1)
    token = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text).group(1)
    agent.post(f"/suggestions/{suggestion_id}/accept", data={"csrf": token})
    assert "Nothing to decide" in agent.get("/suggestions").text
    customer_id = session_factory().scalar(select(Customer.id))
    view = agent.get(f"/customers/{customer_id}")
    assert view.status_code == 200
    assert "still no refund" in view.text and "vip" in view.text
    assert agent.get("/customers/999999").status_code == 404


def test_reports_page(agent, task_id):
    page = agent.get("/reports?group_by=agent&days=7")
    assert page.status_code == 200
    assert "Service recovery" in page.text and "Retention risk" in page.text
    assert 'class="active" aria-current="page">by agent' in page.text
    assert agent.get("/reports?group_by=nonsense").status_code == 200
