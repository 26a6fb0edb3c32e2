"""The CLI end to end on a temporary SQLite file: migrate, import, keys, demo, errors."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cli.main import app, main
from collectors.models import Mention
from core.db import make_engine
from core.settings import get_settings
from engagement.models import ResponseTask

runner = CliRunner()


@pytest.fixture
def db_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("SOCIALCRM_DATABASE_URL", url)
    monkeypatch.setenv("SOCIALCRM_SENTIMENT_BACKEND", "lexicon")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def invoke(*args):
    return runner.invoke(app, list(args))


def count(url, column):
    engine = make_engine(url)
    with engine.connect() as conn:
        return conn.scalar(select(func.count(column)))


def test_help_lists_every_command():
    result = invoke("--help")
    assert result.exit_code == 0
    for name in ("run", "db", "import", "apikeys", "demo", "process"):
        assert name in result.output


def test_missing_migration_is_a_one_line_error(db_url, capsys, monkeypatch):
    monkeypatch.setattr("sys.argv", ["socialcrm", "apikeys", "list"])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: database schema is at nothing, expected 0001: run `socialcrm db upgrade`"


def test_bad_database_url_is_a_one_line_error(monkeypatch, capsys):
    monkeypatch.setenv("SOCIALCRM_DATABASE_URL", "mysql://nope")
    get_settings.cache_clear()
    monkeypatch.setattr("sys.argv", ["socialcrm", "db", "current"])
    with pytest.raises(SystemExit) as exc:
        main()
    get_settings.cache_clear()
    assert exc.value.code == 2
    assert capsys.readouterr().err.strip().startswith("error: unsupported database 'mysql'")


def test_import_is_idempotent_and_reports_bad_lines(db_url, tmp_path):
    assert invoke("db", "upgrade").exit_code == 0
    path = tmp_path / "mentions.jsonl"
    good = {
        "platform": "twitter",
        "external_id": "1",
        "text": "my phone arrived broken, worst service ever",
        "created_at": "2026-11-20T10:00:00Z",
        "author": {"id": "42", "handle": "ann"},
    }
    path.write_text(
        json.dumps(good)
        + "\n"
        + json.dumps({**good, "external_id": "2", "text": "thanks, love it"})
        + "\n"
        + json.dumps({**good, "external_id": "3", "rating": "five"})
        + "\n"
    )
    first = invoke("import", "mentions", str(path))
    assert first.exit_code == 1
    assert f"{path}:3: rating:" in first.output
    assert "2 valid lines: 2 new, 0 already stored; 1 errors; scored 2, opened 1 tasks" in (
        first.output
    )
    again = invoke("import", "mentions", str(path))
    assert "2 valid lines: 0 new, 2 already stored" in again.output
    assert count(db_url, Mention.id) == 2
    assert count(db_url, ResponseTask.id) == 1


def test_apikeys_create_list_revoke(db_url):
    invoke("db", "upgrade")
    created = invoke("apikeys", "create", "agent")
    assert created.exit_code == 0
    secret = created.output.strip().split()[-1]
    assert secret.startswith("scrm_")
    listing = invoke("apikeys", "list").output
    assert "agent" in listing and "active" in listing and secret not in listing
    replaced = invoke("apikeys", "create", "agent", "--replace")
    assert replaced.exit_code == 0
    listing = invoke("apikeys", "list").output
    assert listing.count("revoked") == 1
    assert invoke("apikeys", "revoke", "1").exit_code == 0


def test_demo_loads_once_into_an_empty_database(db_url):
    invoke("db", "upgrade")
    first = invoke("demo", "load", "--if-empty")
    assert first.exit_code == 0, first.output
    mentions = count(db_url, Mention.id)
    tasks = count(db_url, ResponseTask.id)
    assert mentions >= 300
    assert tasks >= 30
    second = invoke("demo", "load", "--if-empty")
    assert "demo not loaded" in second.output
    assert count(db_url, Mention.id) == mentions


def test_process_drains_nothing_when_idle(db_url):
    invoke("db", "upgrade")
    result = invoke("process")
    assert result.exit_code == 0
    assert "scored 0" in result.output
