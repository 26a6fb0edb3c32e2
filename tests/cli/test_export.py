"""`socialcrm export complaints` and `socialcrm webhooks ...` on SQLite and PostgreSQL.

(The webhooks commands' tests live here too: this file is the CLI test module of this part.)
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cli.export import app as export_app
from cli.webhooks import app as webhooks_app
from collectors import service as collect
from core.settings import get_settings
from engagement.complaints import CSV_COLUMNS
from engagement.models import WebhookDelivery
from engagement.webhooks import outbox
from sentiment import service as scoring
from sentiment.fake import FakeModel
from tests.conftest import mention
from tests.webhook_receiver import WebhookReceiver

T0 = datetime(2026, 11, 1, 9, 0, 0)
runner = CliRunner()


@pytest.fixture
def db(engine, committing_factory, monkeypatch):
    """The CLI's settings point at the test database; rows really commit (emptied after)."""
    monkeypatch.setenv("SOCIALCRM_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield committing_factory
    get_settings.cache_clear()


@pytest.fixture
def complaints_db(db):
    with db() as session:
        collect.ingest(
            session,
            [
                mention(
                    f"c{n}",
                    f'order {n} is broken, "again"\nsecond line, with commas',
                    created_at=T0 + timedelta(days=n - 1),
                    author={"id": str(n), "handle": f"user{n}"},
                )
                for n in range(5)
            ]
            + [mention("happy", "I love it", created_at=T0 + timedelta(days=1))],
        )
        scoring.score_all_pending(session, FakeModel())
        session.commit()
    return db


def test_export_csv_to_stdout_since_a_date_in_small_pages(complaints_db):
    result = runner.invoke(
        export_app, ["complaints", "--since", "2026-11-01", "--format", "csv", "--page-size", "2"]
    )

    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == list(CSV_COLUMNS)
    data = [dict(zip(CSV_COLUMNS, r, strict=True)) for r in rows[1:]]
    assert [d["external_id"] for d in data] == ["c1", "c2", "c3", "c4"]  # c0 is before --since
    assert data[0]["text"] == 'order 1 is broken, "again"\nsecond line, with commas'
    assert (data[0]["author_handle"], data[0]["sentiment_label"]) == ("user1", "negative")
    assert data[0]["created_at"] == "2026-11-01T09:00:00"
    assert "exported 4 complaints to stdout" in result.stderr


def test_export_jsonl_to_a_file(complaints_db, tmp_path):
    target = tmp_path / "complaints.jsonl"

    result = runner.invoke(
        export_app, ["complaints", "--format", "jsonl", "--output", str(target), "--page-size", "3"]
    )

    assert result.exit_code == 0, result.output
    lines = target.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["external_id"] for line in lines] == ["c0", "c1", "c2", "c3", "c4"]
    assert json.loads(lines[0])["p_negative"] == 0.9
    assert not (tmp_path / "complaints.jsonl.partial").exists()
    assert result.stdout == ""


def test_export_with_nothing_to_export_writes_just_the_header(db):
    result = runner.invoke(export_app, ["complaints", "--since", "2030-01-01"])

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == ",".join(CSV_COLUMNS)


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--since", "last week"], "not an ISO date"), (["--format", "xml"], "xml")],
)
def test_export_rejects_bad_options(db, args, message):
    result = runner.invoke(export_app, ["complaints", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_webhooks_add_list_deliveries_deliver_redeliver(db):
    with WebhookReceiver() as rx:
        added = runner.invoke(
            webhooks_app,
            [
                "add",
                rx.url,
                "--events",
                "task.opened,complaint.flagged",
                "--events",
                "task.resolved",
            ],
        )
        assert added.exit_code == 0, added.output
        secret = added.stdout.split("secret: ")[1].split()[0]
        assert secret.startswith("whsec_")
        rx.secret = secret
        sub_id = int(added.stdout.split("\t")[0])

        listed = runner.invoke(webhooks_app, ["list"])
        assert listed.exit_code == 0
        assert listed.stdout.startswith(
            f"{sub_id}\t{rx.url}\ttask.opened,complaint.flagged,task.resolved\tenabled\tsecret "
            f"{secret[:12]}…"
        )
        assert secret not in listed.stdout

        with db() as session:
            event = outbox.emit(session, "task.opened", {"task_id": 5})
            session.commit()
        delivered = runner.invoke(webhooks_app, ["deliver"])
        assert delivered.exit_code == 0, delivered.output
        assert delivered.stdout.startswith("claimed 1: delivered 1, retrying 0, dead 0")
        assert rx.ids() == [event.event_id] and rx.received[0].verified

        shown = runner.invoke(webhooks_app, ["deliveries", str(sub_id), "--status", "delivered"])
        assert shown.exit_code == 0
        assert f"\t{event.event_id}\ttask.opened\tdelivered\tattempts 1\t" in shown.stdout

        with db() as session:
            delivery_id = session.scalars(select(WebhookDelivery.id)).one()
        again = runner.invoke(webhooks_app, ["redeliver", str(delivery_id)])
        assert again.exit_code == 0, again.output
        assert "\tpending\tattempts 0\t" in again.stdout
        twice = runner.invoke(webhooks_app, ["redeliver", str(delivery_id)])
        assert twice.exit_code == 1
        assert "only dead or delivered" in twice.stderr
        assert runner.invoke(webhooks_app, ["deliver"]).stdout.startswith("claimed 1: delivered 1")
        assert rx.ids() == [event.event_id, event.event_id]

        # A new secret; the receiver keeps the old one and still verifies during the grace.
        rotated = runner.invoke(webhooks_app, ["rotate-secret", str(sub_id), "--grace-hours", "2"])
        assert rotated.exit_code == 0, rotated.output
        new_secret = rotated.stdout.split("secret: ")[1].split()[0]
        assert new_secret.startswith("whsec_") and new_secret != secret
        assert "the old secret also signs until " in rotated.stdout
        runner.invoke(webhooks_app, ["redeliver", str(delivery_id)])
        assert runner.invoke(webhooks_app, ["deliver"]).stdout.startswith("claimed 1: delivered 1")
        assert rx.received[-1].verified


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["add", "https://crm.example/h", "--events", "nope"], 2, "unknown event types"),
        (["add", "gopher://crm.example/h", "--events", "*"], 2, "URL scheme"),
        (["deliveries", "999999"], 1, "webhook subscription 999999 not found"),
        (["redeliver", "999999"], 1, "webhook delivery 999999 not found"),
        (["rotate-secret", "999999"], 1, "webhook subscription 999999 not found"),
        (["rotate-secret", "1", "--grace-hours", "200"], 2, "less than or equal to 168"),
    ],
)
def test_webhooks_errors_are_one_line(db, args, code, message):
    result = runner.invoke(webhooks_app, args)
    assert result.exit_code == code
    assert message in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
