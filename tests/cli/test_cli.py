"""The CLI end to end on a temporary SQLite file: migrate, import, keys, demo, errors."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cli.main import app, main
from collectors.models import Mention
from core.db import make_engine
from core.migrate import head_revision
from core.settings import get_settings
from engagement.models import Agent, Compensation, ReplyTemplate, ResponseTask

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
    assert err == (
        f"error: database schema is at nothing, expected {head_revision()}: "
        "run `socialcrm db upgrade`"
    )


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


def test_demo_loads_once_into_an_empty_database(db_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    invoke("db", "upgrade")
    first = invoke("demo", "load", "--if-empty")
    assert first.exit_code == 0, first.output
    mentions = count(db_url, Mention.id)
    tasks = count(db_url, ResponseTask.id)
    assert mentions >= 300
    assert tasks >= 30
    assert (tmp_path / "var" / "drop").is_dir()
    assert count(db_url, Agent.id) == 3
    assert count(db_url, ReplyTemplate.id) == 3
    assert count(db_url, Compensation.id) >= 3
    engine = make_engine(db_url)
    with engine.connect() as conn:
        resolved = conn.scalar(
            select(func.count(ResponseTask.id)).where(ResponseTask.status == "resolved")
        )
        still_open = conn.scalar(
            select(func.count(ResponseTask.id)).where(ResponseTask.status == "new")
        )
    assert resolved >= 10 and still_open >= 30
    assert "Drop folder (var/drop)" in invoke("sources", "list").output
    second = invoke("demo", "load", "--if-empty")
    assert "demo not loaded" in second.output
    assert count(db_url, Mention.id) == mentions


def test_process_drains_nothing_when_idle(db_url):
    invoke("db", "upgrade")
    result = invoke("process")
    assert result.exit_code == 0
    assert "scored 0" in result.output


def test_sources_add_list_collect_pause(db_url, tmp_path):
    invoke("db", "upgrade")
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.jsonl").write_text(
        json.dumps(
            {
                "platform": "rss",
                "external_id": "n1",
                "text": "Lumen outage reported",
                "created_at": "2026-11-20T10:00:00Z",
            }
        )
        + "\n"
    )
    added = invoke(
        "sources",
        "add",
        "--platform",
        "file",
        "--name",
        "drop",
        "--config",
        json.dumps({"path": str(drop)}),
        "--every",
        "300",
    )
    assert added.exit_code == 0, added.output
    assert "file\tdrop\tidle\tevery 300s" in added.output
    collected = invoke("collect", "--source", "1")
    assert collected.exit_code == 0, collected.output
    assert "source 1: ok; fetched 1, new 1" in collected.output
    listing = invoke("sources", "list").output
    assert "fetched 1 (last run 1)" in listing and "last success never" not in listing
    assert invoke("sources", "pause", "1").exit_code == 0
    assert "paused" in invoke("sources", "list").output
    skipped = invoke("collect", "--source", "1")
    assert "skipped" in skipped.output


def test_sources_add_with_bad_config_is_a_one_line_error(db_url, capsys, monkeypatch):
    invoke("db", "upgrade")
    monkeypatch.setattr(
        "sys.argv",
        ["socialcrm", "sources", "add", "--platform", "file", "--name", "x", "--config", "{}"],
    )
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
    assert capsys.readouterr().err.startswith("error: invalid file config: path: Field required")
