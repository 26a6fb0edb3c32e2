"""`socialcrm customers ...` against the migrated test databases (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

from cli.customers import app
from collectors import service as collect
from collectors.models import Author, Mention
from core.db import unit_of_work
from core.settings import get_settings
from engagement.customers import service
from engagement.models import (
    Customer,
    CustomerEvent,
    CustomerIdentity,
    LinkSuggestion,
    WebhookDelivery,
    WebhookEvent,
)
from tests.conftest import mention

DEMO_CSV = Path(__file__).resolve().parents[2] / "core" / "demo" / "customers.csv"
runner = CliRunner()


@pytest.fixture
def factory(engine, monkeypatch):
    """The CLI talks to the shared test database; what it commits is deleted afterwards."""
    monkeypatch.setenv("SOCIALCRM_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield sessionmaker(bind=engine, expire_on_commit=False)
    get_settings.cache_clear()
    with engine.begin() as conn:
        for model in (
            WebhookDelivery,
            WebhookEvent,
            CustomerEvent,
            LinkSuggestion,
            CustomerIdentity,
            Customer,
            Mention,
            Author,
        ):
            conn.execute(delete(model))


def invoke(*args):
    return runner.invoke(app, list(args))


def test_import_demo_twice(factory):
    first = invoke("import", str(DEMO_CSV))
    assert first.exit_code == 0, first.output
    assert first.stdout == "33 rows: 33 created, 0 updated, 0 unchanged; 0 errors\n"
    second = invoke("import", str(DEMO_CSV), "--batch-size", "10")
    assert second.stdout == "33 rows: 0 created, 0 updated, 33 unchanged; 0 errors\n"
    with unit_of_work(factory) as session:
        event = session.scalar(select(CustomerEvent).order_by(CustomerEvent.id).limit(1))
        assert event.type == "created" and event.actor.endswith(" import customers.csv")


def test_import_reports_bad_rows_and_exits_1(factory, tmp_path):
    path = tmp_path / "crm.csv"
    path.write_text(
        "crm_id,name,email,shoe_size\nC-1,Ann,ann@example.com,38\nC-2,Bo,bo-at-example,44\n",
        encoding="utf-8",
    )
    result = invoke("import", str(path))
    assert result.exit_code == 1
    assert result.stdout == "2 rows: 1 created, 0 updated, 0 unchanged; 1 errors\n"
    assert result.stderr.splitlines() == [
        f"warning: {path}:1: column 'shoe_size' ignored (unknown)",
        f"error: {path}:3: email: Value error, not an e-mail address",
    ]


def test_show_link_unlink_and_suggestions(factory):
    invoke("import", str(DEMO_CSV))
    with unit_of_work(factory) as session:
        collect.ingest(
            session,
            [
                mention(
                    "1",
                    "my bill is wrong again",
                    author={"id": "736", "handle": "greghalvorsen", "name": "Greg Halvorsen"},
                ),
                mention(
                    "2", "hello", author={"id": "5", "handle": "lenaibarra", "name": "Lena Ibarra"}
                ),
            ],
        )
        authors = dict(session.execute(select(Author.handle, Author.id)).all())
        service.resolve_authors(session, list(authors.values()))
        greg = session.scalar(select(Customer.id).where(Customer.crm_id == "CRM-10031"))
        lena = session.scalar(select(Customer.id).where(Customer.crm_id == "CRM-10001"))
        greg_identity = session.scalar(
            select(CustomerIdentity.id).where(
                CustomerIdentity.author_id == authors["greghalvorsen"]
            )
        )

    shown = invoke("show", str(greg))
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0] == (
        f"customer {greg}  CRM-10031  Greg Halvorsen  <greg.halvorsen@example.org>  "
        "+1-206-555-0173  tier plus  lifetime value 2353.80"
    )
    assert lines[1:3] == [
        "identities (1):",
        f"  {greg_identity}\ttwitter @greghalvorsen id 736\tauthor {authors['greghalvorsen']}\t"
        "handle 0.95",
    ]
    assert lines[3] == "mentions (1, newest first):"
    assert lines[4].endswith("\ttwitter\t-\tmy bill is wrong again")
    assert lines[-2:] == ["tasks (0):", "replies: 0; compensations: 0"]

    listed = invoke("suggestions")
    (suggestion, total) = listed.stdout.splitlines()
    assert total == "1 pending suggestions"
    sid = suggestion.split("\t")[0]
    assert suggestion == (
        f"{sid}\t0.97\tauthor {authors['lenaibarra']} (twitter @lenaibarra)\t→ customer {lena} "
        "CRM-10001 Lena Ibarra\tdisplay name 'Lena Ibarra' ≈ customer name 'Lena Ibarra' (1.00); "
        "handle @lenaibarra ≈ customer name 'Lena Ibarra' (1.00)"
    )
    rejected = invoke("reject", sid)
    assert rejected.stdout == f"suggestion {sid} rejected\n"
    assert invoke("accept", sid).stderr == f"error: link suggestion {sid} is already rejected\n"

    linked = invoke("link", str(authors["lenaibarra"]), str(lena))
    assert linked.exit_code == 0, linked.output
    assert linked.stdout.startswith(f"author {authors['lenaibarra']} linked to customer {lena}")
    clash = invoke("link", str(authors["lenaibarra"]), str(greg))
    assert clash.exit_code == 1
    assert clash.stderr == (
        f"error: author {authors['lenaibarra']} is already linked to customer {lena}; "
        "unlink it first\n"
    )
    unlinked = invoke("unlink", str(greg_identity))
    assert unlinked.stdout == (
        f"identity {greg_identity} unlinked: author {authors['greghalvorsen']} no longer belongs "
        f"to customer {greg}\n"
    )
    missing = invoke("show", "999999")
    assert (missing.exit_code, missing.stderr) == (1, "error: customer 999999 not found\n")
