from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api import auth
from api.app import create_app
from collectors import service as collect
from collectors.models import Author
from engagement.customers import service
from engagement.models import CustomerEvent, LinkSuggestion
from tests.conftest import mention

PROBLEM = "application/problem+json"


@pytest.fixture
def app(settings, session_factory):
    app = create_app(settings, session_factory)
    return app


@pytest.fixture
def client(app, session):
    _, secret = auth.create_key(session, "crm-sync")
    session.commit()
    with TestClient(app, headers={"Authorization": f"Bearer {secret}"}) as c:
        yield c


def _author(session, uid, handle, name=None):
    collect.ingest(
        session, [mention(f"m{uid}", "hi", author={"id": uid, "handle": handle, "name": name})]
    )
    session.commit()
    return session.scalar(select(Author.id).where(Author.platform_user_id == uid))


def _problem(response, status):
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    return response.json()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/customers"),
        ("put", "/api/v1/customers/C-1"),
        ("get", "/api/v1/link-suggestions"),
        ("post", "/api/v1/link-suggestions/1/accept"),
    ],
)
def test_customer_routes_need_a_key(app, method, path):
    with TestClient(app) as anonymous:
        response = getattr(anonymous, method)(path)
    assert _problem(response, 401)["detail"] == "missing bearer API key"


def test_put_creates_201_then_is_idempotent_200(client, session):
    body = {
        "name": "Greg Halvorsen",
        "email": "Greg.Halvorsen@example.org",
        "tier": "plus",
        "lifetime_value": "2353.80",
        "consent": {"email": True, "sms": False},
        "identities": [{"platform": "twitter", "handle": "@greghalvorsen"}],
    }
    created = client.put("/api/v1/customers/CRM-10031", json=body)
    assert created.status_code == 201
    customer = created.json()
    assert (customer["crm_id"], customer["email"], customer["lifetime_value"]) == (
        "CRM-10031",
        "greg.halvorsen@example.org",
        "2353.80",
    )
    again = client.put("/api/v1/customers/CRM-10031", json=body)
    assert again.status_code == 200
    assert again.json()["updated_at"] == customer["updated_at"]
    changed = client.put("/api/v1/customers/CRM-10031", json={"tier": "vip"})
    assert changed.status_code == 200 and changed.json()["name"] == "Greg Halvorsen"
    events = client.get(f"/api/v1/customers/{customer['id']}/events").json()
    assert events["total"] == 2
    assert [(e["type"], e["actor"]) for e in events["items"]] == [
        ("updated", "crm-sync"),
        ("created", "crm-sync"),
    ]
    assert events["items"][0]["data"] == {"changes": {"tier": ["plus", "vip"]}}


def test_put_rejects_bad_input_as_422_problem(client):
    response = client.put(
        "/api/v1/customers/C-1",
        json={"email": "nope", "identities": [{"platform": "myspace", "handle": "x"}]},
    )
    body = _problem(response, 422)
    assert [e["loc"] for e in body["errors"]] == [
        ["body", "email"],
        ["body", "identities", 0, "platform"],
    ]
    extra = client.put("/api/v1/customers/C-1", json={"nickname": "x"})
    assert _problem(extra, 422)["errors"][0]["loc"] == ["body", "nickname"]
    blank = client.put("/api/v1/customers/C-1", json={"identities": [{"platform": "twitter"}]})
    assert _problem(blank, 422)["errors"][0]["msg"].endswith(
        "an identity needs a platform_user_id or a handle"
    )


def test_batch_upsert_counts_and_limits(client, session):
    batch = [{"crm_id": f"C-{i}", "name": f"Person {i}"} for i in range(3)]
    first = client.put("/api/v1/customers", json=batch).json()
    assert (first["created"], first["updated"], first["unchanged"]) == (3, 0, 0)
    stored = {c["crm_id"]: c["id"] for c in client.get("/api/v1/customers").json()["items"]}
    assert first["customer_ids"] == [stored["C-0"], stored["C-1"], stored["C-2"]]
    batch[1]["name"] = "Renamed"
    result = client.put("/api/v1/customers", json=batch).json()
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 1, 2)
    duplicate = client.put("/api/v1/customers", json=[batch[0], batch[0]])
    assert _problem(duplicate, 422)["detail"] == "crm_id 'C-0' appears twice in one batch"
    too_many = [{"crm_id": f"X-{i}"} for i in range(1001)]
    assert _problem(client.put("/api/v1/customers", json=too_many), 422)["errors"][0]["loc"] == [
        "body"
    ]
    assert session.scalar(select(func.count(CustomerEvent.id))) == 4


def test_search_and_paginate(client):
    client.put("/api/v1/customers/C-1", json={"name": "Greg Halvorsen", "tier": "plus"})
    client.put("/api/v1/customers/C-2", json={"name": "Ann Lee", "email": "ann@example.org"})
    client.put(
        "/api/v1/customers/C-3",
        json={"name": "Bo", "identities": [{"platform": "reddit", "handle": "bo_r"}]},
    )

    def names(query):
        return [c["name"] for c in client.get(f"/api/v1/customers{query}").json()["items"]]

    assert names("?q=halv") == ["Greg Halvorsen"]
    assert names("?q=ann@") == ["Ann Lee"]
    assert names("?q=@bo_r") == ["Bo"]
    assert names("?tier=plus") == ["Greg Halvorsen"]
    page = client.get("/api/v1/customers?limit=2&offset=2").json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (3, 2, 2, 1)
    assert _problem(client.get("/api/v1/customers?limit=0"), 422)["errors"][0]["loc"] == [
        "query",
        "limit",
    ]


def test_view_link_unlink_and_conflicts(client, session):
    a = client.put("/api/v1/customers/C-1", json={"name": "Ann"}).json()
    b = client.put("/api/v1/customers/C-2", json={"name": "Bo"}).json()
    author_id = _author(session, "9", "ann")
    linked = client.post(f"/api/v1/customers/{a['id']}/identities", json={"author_id": author_id})
    assert linked.status_code == 201
    identity = linked.json()
    assert (identity["method"], identity["linked_by"], identity["author"]["handle"]) == (
        "manual",
        "crm-sync",
        "ann",
    )
    view = client.get(f"/api/v1/customers/{a['id']}").json()
    assert view["customer"]["crm_id"] == "C-1"
    assert [i["id"] for i in view["identities"]] == [identity["id"]]
    assert (view["mentions_total"], view["mentions"][0]["external_id"]) == (1, "m9")

    conflict = client.post(f"/api/v1/customers/{b['id']}/identities", json={"author_id": author_id})
    assert _problem(conflict, 409)["detail"] == (
        f"author {author_id} is already linked to customer {a['id']}; unlink it first"
    )
    missing = client.post(f"/api/v1/customers/{a['id']}/identities", json={"author_id": 999999})
    assert _problem(missing, 404)["detail"] == "author 999999 not found"
    wrong_customer = client.delete(f"/api/v1/customers/{b['id']}/identities/{identity['id']}")
    assert _problem(wrong_customer, 404)["status"] == 404
    gone = client.delete(f"/api/v1/customers/{a['id']}/identities/{identity['id']}")
    assert gone.status_code == 204
    assert client.get(f"/api/v1/customers/{a['id']}").json()["identities"] == []
    assert [
        e["type"] for e in client.get(f"/api/v1/customers/{a['id']}/events").json()["items"]
    ] == [
        "unlinked",
        "linked",
        "created",
    ]
    assert _problem(client.get("/api/v1/customers/999999"), 404)["detail"] == (
        "customer 999999 not found"
    )
    assert _problem(client.get("/api/v1/customers/999999/events"), 404)["status"] == 404


def test_merge_and_unmerge(client, session):
    a = client.put(
        "/api/v1/customers/C-1", json={"identities": [{"platform": "twitter", "handle": "a1"}]}
    ).json()
    b = client.put("/api/v1/customers/C-2", json={}).json()
    itself = client.post(f"/api/v1/customers/{a['id']}/merge", json={"into_customer_id": a["id"]})
    assert _problem(itself, 409)["detail"] == "a customer cannot be merged into itself"
    merged = client.post(f"/api/v1/customers/{a['id']}/merge", json={"into_customer_id": b["id"]})
    assert merged.status_code == 200
    moved = merged.json()
    assert (moved["source_customer_id"], moved["target_customer_id"], moved["task_ids"]) == (
        a["id"],
        b["id"],
        [],
    )
    assert len(moved["identity_ids"]) == 1
    assert [c["crm_id"] for c in client.get("/api/v1/customers").json()["items"]] == ["C-2"]
    everyone = client.get("/api/v1/customers?include_merged=true").json()["items"]
    assert {c["crm_id"]: c["merged_into_id"] for c in everyone} == {"C-1": b["id"], "C-2": None}
    undone = client.post(f"/api/v1/customers/{a['id']}/unmerge")
    assert undone.status_code == 200 and undone.json()["identity_ids"] == moved["identity_ids"]
    again = client.post(f"/api/v1/customers/{a['id']}/unmerge")
    assert _problem(again, 409)["detail"] == f"customer {a['id']} is not merged"


def test_link_suggestions_list_accept_reject(client, session):
    greg = client.put("/api/v1/customers/C-1", json={"name": "Greg Halvorsen"}).json()
    client.put("/api/v1/customers/C-2", json={"name": "Gregory Halvorsen"})
    author_id = _author(session, "736", "greghalvorsen", "Greg Halvorsen")
    service.resolve_authors(session, [author_id])
    session.commit()
    listed = client.get("/api/v1/link-suggestions").json()
    assert listed["total"] == 2
    best, other = listed["items"]
    assert (best["customer_crm_id"], best["confidence"], best["author"]["handle"]) == (
        "C-1",
        0.97,
        "greghalvorsen",
    )
    assert best["reason"].startswith("display name 'Greg Halvorsen' ≈ customer name")
    rejected = client.post(f"/api/v1/link-suggestions/{other['id']}/reject")
    assert rejected.status_code == 200
    assert (rejected.json()["status"], rejected.json()["decided_by"]) == ("rejected", "crm-sync")
    accepted = client.post(f"/api/v1/link-suggestions/{best['id']}/accept")
    assert accepted.status_code == 200
    assert (accepted.json()["customer_id"], accepted.json()["method"]) == (greg["id"], "suggestion")
    assert client.get("/api/v1/link-suggestions").json()["total"] == 0
    every = client.get("/api/v1/link-suggestions?status=all").json()["items"]
    assert sorted(s["status"] for s in every) == ["accepted", "rejected"]
    twice = client.post(f"/api/v1/link-suggestions/{best['id']}/accept")
    assert _problem(twice, 409)["detail"] == f"link suggestion {best['id']} is already accepted"
    assert _problem(client.post("/api/v1/link-suggestions/999999/reject"), 404)["status"] == 404
    assert _problem(client.get("/api/v1/link-suggestions?status=maybe"), 422)["status"] == 422
    assert session.scalar(select(func.count(LinkSuggestion.id))) == 2
