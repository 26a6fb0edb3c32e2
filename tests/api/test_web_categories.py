"""The complaint-taxonomy page: list, add, edit, disable and remove categories from forms."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api import auth
from api.app import create_app
from sentiment import service as sentiment
from sentiment.models import ComplaintCategory
from sentiment.schemas import CategoryCreate

KEY = "zz_lost_luggage"


@pytest.fixture
def admin(settings, session_factory, session):
    _, secret = auth.create_key(session, "admin")
    session.commit()
    with TestClient(create_app(settings, session_factory)) as client:
        client.post("/login", data={"api_key": secret}, follow_redirects=False)
        yield client


@pytest.fixture
def category(session):
    sentiment.create_category(
        session,
        CategoryCreate(
            key=KEY,
            name="Lost luggage",
            description="Bags that did not arrive with the passenger",
            examples=["my suitcase never showed up", "where is my bag"],
            position=5,
        ),
    )
    session.commit()
    return KEY


def _csrf(client):
    page = client.get("/categories")
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text).group(1)


def _stored(session_factory, key):
    with session_factory() as check:
        return check.scalar(select(ComplaintCategory).where(ComplaintCategory.key == key))


def _count(session_factory):
    with session_factory() as check:
        return check.scalar(select(func.count()).select_from(ComplaintCategory))


def test_page_lists_categories_and_explains_matching(admin, category, session):
    sentiment.create_category(
        session,
        CategoryCreate(key="zz_seats", name="Seats", examples=["broken seat"], enabled=False),
    )
    session.commit()
    page = admin.get("/categories")
    assert page.status_code == 200
    html = page.text
    assert '<a href="/categories">Categories</a>' in html
    assert '<tr id="category-zz_lost_luggage">' in html
    assert "<td>Lost luggage</td>" in html
    assert "<code>zz_lost_luggage</code>" in html
    assert "Bags that did not arrive with the passenger" in html
    assert "<li>my suitcase never showed up</li><li>where is my bag</li>" in html
    assert "<td>5</td>" in html
    assert "no (not used)" in html
    # The edit form starts from the stored values, examples one per line.
    assert re.search(
        r'id="examples-zz_lost_luggage" name="examples" rows="5">'
        r"my suitcase never showed up\nwhere is my bag</textarea>",
        html,
    )
    assert 'action="/categories/zz_seats/delete"' in html
    assert "socialcrm sentiment rescore" in html
    assert "apply to new complaints at once" in html


def test_create_category(admin, session, session_factory):
    top = sentiment.list_categories(session)
    expected_position = max((c.position for c in top), default=0) + 10
    response = admin.post(
        "/categories",
        data={
            "csrf": _csrf(admin),
            "key": " zz_wifi ",
            "name": "  Wi-Fi  ",
            "description": " Onboard internet that does not work ",
            "examples": "  wifi keeps dropping \n\n\r\n   \npaid for wifi, got nothing\n",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/categories"
    stored = _stored(session_factory, "zz_wifi")
    assert stored is not None
    assert stored.name == "Wi-Fi"
    assert stored.description == "Onboard internet that does not work"
    assert stored.examples == ["wifi keeps dropping", "paid for wifi, got nothing"]
    assert stored.enabled is True
    assert stored.position == expected_position
    assert "<code>zz_wifi</code>" in admin.get("/categories").text


def test_update_disable_and_reenable(admin, category, session_factory):
    token = _csrf(admin)
    response = admin.post(
        f"/categories/{category}",
        data={
            "csrf": token,
            "name": "Missing bags",
            "description": "",
            "examples": "bag lost\n  bag delayed  \n",
            "position": "42",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/categories"
    stored = _stored(session_factory, category)
    assert (stored.name, stored.description, stored.examples) == (
        "Missing bags",
        "",
        ["bag lost", "bag delayed"],
    )
    assert (stored.enabled, stored.position) == (False, 42)
    assert "no (not used)" in admin.get("/categories").text

    again = admin.post(
        f"/categories/{category}",
        data={
            "csrf": token,
            "name": "Missing bags",
            "description": "Checked bags that went missing",
            "examples": "bag lost",
            "enabled": "on",
            "position": "",
        },
        follow_redirects=False,
    )
    assert again.status_code == 303
    stored = _stored(session_factory, category)
    assert (stored.enabled, stored.position) == (True, 42)
    assert stored.description == "Checked bags that went missing"
    assert stored.examples == ["bag lost"]


def test_delete_category(admin, category, session_factory):
    before = _count(session_factory)
    response = admin.post(
        f"/categories/{category}/delete", data={"csrf": _csrf(admin)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/categories"
    assert _stored(session_factory, category) is None
    assert _count(session_factory) == before - 1
    assert "zz_lost_luggage" not in admin.get("/categories").text


def test_missing_category_is_explained(admin):
    token = _csrf(admin)
    gone = admin.post("/categories/zz_nope/delete", data={"csrf": token})
    assert gone.status_code == 404
    assert "complaint category &#39;zz_nope&#39; not found" in gone.text
    edit = admin.post("/categories/zz_nope", data={"csrf": token, "name": "x", "description": "y"})
    assert edit.status_code == 404
    assert "complaint category &#39;zz_nope&#39; not found" in edit.text


def test_forms_need_the_csrf_token(admin, category, session_factory):
    before = _count(session_factory)
    form = {"key": "zz_new", "name": "New", "description": "something"}
    missing = admin.post("/categories", data=form)
    assert missing.status_code == 403
    assert "The form expired; try again." in missing.text
    assert 'id="new-key" name="key" value="zz_new"' in missing.text
    wrong = admin.post("/categories", data={**form, "csrf": "0" * 64})
    assert wrong.status_code == 403
    assert admin.post(f"/categories/{category}/delete", data={}).status_code == 403
    changed = admin.post(
        f"/categories/{category}", data={"csrf": "0" * 64, "name": "Hacked", "description": "x"}
    )
    assert changed.status_code == 403
    assert _count(session_factory) == before
    assert _stored(session_factory, category).name == "Lost luggage"


def test_login_required(settings, session_factory, category):
    before = _count(session_factory)
    with TestClient(create_app(settings, session_factory)) as anonymous:
        page = anonymous.get("/categories", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/login"
        for path, data in (
            ("/categories", {"csrf": "x", "key": "zz_anon", "name": "A", "description": "b"}),
            (f"/categories/{category}", {"csrf": "x", "name": "A", "description": "b"}),
            (f"/categories/{category}/delete", {"csrf": "x"}),
        ):
            response = anonymous.post(path, data=data, follow_redirects=False)
            assert response.status_code == 303, path
            assert response.headers["location"] == "/login"
    assert _count(session_factory) == before
    assert _stored(session_factory, category).name == "Lost luggage"


def test_duplicate_key_is_a_conflict_and_keeps_the_input(admin, category, session_factory):
    before = _count(session_factory)
    response = admin.post(
        "/categories",
        data={
            "csrf": _csrf(admin),
            "key": category,
            "name": "Luggage again",
            "description": "a second try",
            "examples": "one\ntwo",
        },
    )
    assert response.status_code == 409
    assert (
        '<p class="error" role="alert">complaint category &#39;zz_lost_luggage&#39; '
        "already exists</p>" in response.text
    )
    assert 'id="new-name" name="name" value="Luggage again"' in response.text
    assert ">a second try</textarea>" in response.text
    assert ">one\ntwo</textarea>" in response.text
    assert _count(session_factory) == before
    assert _stored(session_factory, category).name == "Lost luggage"


def test_invalid_key_is_explained(admin, session_factory):
    before = _count(session_factory)
    response = admin.post(
        "/categories",
        data={"csrf": _csrf(admin), "key": "Bad Key!", "name": "Bad", "description": "words"},
    )
    assert response.status_code == 422
    assert "key: use lowercase letters, digits" in response.text
    assert 'id="new-key" name="key" value="Bad Key!"' in response.text
    assert _count(session_factory) == before


def test_category_needs_description_or_examples(admin, category, session_factory):
    token = _csrf(admin)
    before = _count(session_factory)
    created = admin.post(
        "/categories",
        data={
            "csrf": token,
            "key": "zz_empty",
            "name": "Empty",
            "description": "  ",
            "examples": "\n \n",
        },
    )
    assert created.status_code == 422
    assert "a category needs a description or at least one example" in created.text
    assert 'id="new-name" name="name" value="Empty"' in created.text
    assert _count(session_factory) == before

    updated = admin.post(
        f"/categories/{category}",
        data={
            "csrf": token,
            "name": "Renamed",
            "description": "",
            "examples": "  ",
            "enabled": "on",
        },
    )
    assert updated.status_code == 422
    assert "a category needs a description or at least one example" in updated.text
    # The failed edit form stays open with what the admin typed.
    assert "<details open>" in updated.text
    assert 'id="name-zz_lost_luggage" name="name" value="Renamed"' in updated.text
    stored = _stored(session_factory, category)
    assert (stored.name, stored.examples) == (
        "Lost luggage",
        ["my suitcase never showed up", "where is my bag"],
    )


def test_bad_position_and_blank_name_are_explained(admin, category, session_factory):
    token = _csrf(admin)
    form = {"csrf": token, "name": "Lost luggage", "description": "bags", "enabled": "on"}
    position = admin.post(f"/categories/{category}", data={**form, "position": "first"})
    assert position.status_code == 422
    assert "position &#39;first&#39; is not a whole number" in position.text
    huge = admin.post(f"/categories/{category}", data={**form, "position": "99999999999"})
    assert huge.status_code == 422
    blank = admin.post(f"/categories/{category}", data={**form, "name": "   "})
    assert blank.status_code == 422
    assert "name: String should have at least 1 character" in blank.text
    stored = _stored(session_factory, category)
    assert (stored.description, stored.position) == (
        "Bags that did not arrive with the passenger",
        5,
    )


def test_category_text_is_escaped(admin, session, session_factory):
    sentiment.create_category(
        session,
        CategoryCreate(
            key="zz_xss",
            name="<b>bold</b>",
            description="<script>alert(1)</script>",
            examples=['"><img src=x onerror=alert(2)>'],
        ),
    )
    session.commit()
    html = admin.get("/categories").text
    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html
    assert "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    # Input kept after a failed form is escaped too.
    failed = admin.post(
        "/categories",
        data={"csrf": _csrf(admin), "key": "zz_xss", "name": '"><script>x</script>'},
    )
    assert failed.status_code == 422
    assert "<script>x</script>" not in failed.text
    assert 'value="&#34;&gt;&lt;script&gt;x&lt;/script&gt;"' in failed.text
