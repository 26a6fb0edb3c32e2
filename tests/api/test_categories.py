"""/api/v1/categories: the complaint taxonomy over HTTP (on both databases)."""

from __future__ import annotations

import pytest

from tests.conftest import DEFAULT_CATEGORY_KEYS

DEFAULT_KEYS = DEFAULT_CATEGORY_KEYS
URL = "/api/v1/categories"
NEW = {
    "key": "refunds",
    "name": " Refunds ",
    "description": " Money that should come back ",
    "examples": ["still no refund", " where is my money "],
}


def test_list_shows_the_seeded_taxonomy_in_order(client, headers):
    response = client.get(URL, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert [c["key"] for c in body] == DEFAULT_KEYS
    assert [c["position"] for c in body] == [10, 20, 30, 40, 50, 60]
    assert set(body[0]) == {
        "key",
        "name",
        "description",
        "examples",
        "enabled",
        "position",
        "updated_at",
    }
    assert body[1]["name"] == "Billing and refunds" and len(body[1]["examples"]) == 4


def test_crud(client, headers):
    created = client.post(URL, json=NEW, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert {k: body[k] for k in ("key", "name", "description", "examples", "enabled")} == {
        "key": "refunds",
        "name": "Refunds",
        "description": "Money that should come back",
        "examples": ["still no refund", "where is my money"],
        "enabled": True,
    }
    assert body["position"] == 70
    assert client.get(f"{URL}/refunds", headers=headers).json() == body
    assert [c["key"] for c in client.get(URL, headers=headers).json()][-1] == "refunds"

    patched = client.patch(
        f"{URL}/refunds", json={"enabled": False, "position": 1}, headers=headers
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["enabled"], patched.json()["position"]) == (False, 1)
    assert patched.json()["name"] == "Refunds"
    assert patched.json()["examples"] == body["examples"]
    # Disabled categories are still listed (an admin must be able to switch them back on).
    assert client.get(URL, headers=headers).json()[0]["key"] == "refunds"

    patched = client.patch(
        f"{URL}/refunds", json={"examples": ["refund refused"], "description": ""}, headers=headers
    )
    assert (patched.json()["examples"], patched.json()["description"]) == (["refund refused"], "")

    deleted = client.delete(f"{URL}/refunds", headers=headers)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert client.get(f"{URL}/refunds", headers=headers).status_code == 404
    assert [c["key"] for c in client.get(URL, headers=headers).json()] == DEFAULT_KEYS


def test_duplicate_key_is_409(client, headers):
    response = client.post(URL, json={**NEW, "key": "billing"}, headers=headers)
    assert response.status_code == 409
    assert response.json()["detail"] == "complaint category 'billing' already exists"


@pytest.mark.parametrize(
    ("method", "body"),
    [("get", None), ("patch", {"name": "x"}), ("delete", None)],
)
def test_unknown_key_is_404(client, headers, method, body):
    kwargs = {"json": body} if body is not None else {}
    response = client.request(method.upper(), f"{URL}/nope", headers=headers, **kwargs)
    assert response.status_code == 404
    assert response.json()["detail"] == "complaint category 'nope' not found"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"key": "Bad Key"}, "key"),
        ({"key": "-leading-dash"}, "key"),
        ({"key": ""}, "key"),
        ({"key": "k" * 101}, "key"),
        ({"name": "   "}, "name"),
        ({"description": "d" * 2001}, "description"),
        ({"examples": ["x" * 501]}, "examples"),
        ({"examples": ["  "]}, "examples"),
        ({"examples": [f"e{i}" for i in range(51)]}, "examples"),
    ],
)
def test_invalid_category_is_422(client, headers, change, field):
    response = client.post(URL, json={**NEW, **change}, headers=headers)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["detail"] == "request validation failed"
    assert body["errors"][0]["loc"][:2] == ["body", field]


def test_category_needs_a_description_or_an_example(client, headers):
    response = client.post(
        URL, json={"key": "empty", "name": "Empty", "description": "  "}, headers=headers
    )
    assert response.status_code == 422
    assert "needs a description or at least one example" in response.json()["errors"][0]["msg"]
    assert client.get(f"{URL}/empty", headers=headers).status_code == 404
    # A key of 100 characters and no examples but a description is fine.
    ok = client.post(URL, json={"key": "k" * 100, "name": "K", "description": "d"}, headers=headers)
    assert ok.status_code == 201 and ok.json()["examples"] == []


def test_update_that_leaves_no_words_is_422(client, headers):
    response = client.patch(
        f"{URL}/billing", json={"description": "", "examples": []}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "a category needs a description or at least one example"
    assert len(client.get(f"{URL}/billing", headers=headers).json()["examples"]) == 4


def test_null_fields_in_a_patch_are_left_alone(client, headers):
    response = client.patch(
        f"{URL}/billing", json={"name": None, "description": None, "enabled": None}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Billing and refunds"
    assert response.json()["description"].startswith("Complaints about money")


def test_bad_patch_values_are_422(client, headers):
    for body in ({"name": ""}, {"examples": [""]}, {"enabled": "maybe"}, {"position": "x"}):
        assert client.patch(f"{URL}/billing", json=body, headers=headers).status_code == 422


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", URL), ("post", URL), ("get", f"{URL}/billing"), ("patch", f"{URL}/billing"),
     ("delete", f"{URL}/billing")],
)  # fmt: skip
def test_api_key_required(client, method, path):
    response = client.request(method.upper(), path, json=NEW if method == "post" else None)
    assert response.status_code == 401
    bad = client.request(method.upper(), path, headers={"Authorization": "Bearer nope"}, json=None)
    assert bad.status_code == 401


def test_unauthorised_delete_changes_nothing(client, headers):
    assert client.delete(f"{URL}/billing").status_code == 401
    assert client.get(f"{URL}/billing", headers=headers).status_code == 200


def test_position_is_bounded(client, headers):
    response = client.post(URL, json={**NEW, "position": 10**7}, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "position"]
    response = client.patch(f"{URL}/billing", json={"position": -(10**7)}, headers=headers)
    assert response.status_code == 422
    ok = client.patch(f"{URL}/billing", json={"position": -1_000_000}, headers=headers)
    assert ok.status_code == 200 and ok.json()["position"] == -1_000_000
