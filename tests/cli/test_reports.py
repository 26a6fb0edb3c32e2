"""`socialcrm reports`: recovery table and JSON, retention risk, the evaluation job (both DBs)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.reports import app, table
from core.timeutil import utcnow
from tests.engagement.test_recovery import DAY, HOUR, NEG, POS, World, seed_report

runner = CliRunner()
PERIOD = ("--since", "2026-11-01T09:00", "--until", "2026-12-01T09:00Z")


@pytest.fixture(autouse=True)
def wired(monkeypatch, settings, engine, session_factory):
    # Commands open their own units of work; here they become savepoints of the test's
    # rolled-back transaction, so nothing leaks between tests.
    monkeypatch.setattr("cli.main._ready", lambda: (settings, engine, session_factory))


@pytest.fixture
def world(session):
    return World(session)


def invoke(*args):
    return runner.invoke(app, list(args))


def test_help_lists_the_commands():
    result = invoke("--help")
    assert result.exit_code == 0
    for name in ("recovery", "retention-risk", "evaluate"):
        assert name in result.output


def test_table_aligns_columns():
    assert table(("name", "n"), [("a", "10"), ("bbb", "2")]) == [
        "name   n",
        "a     10",
        "bbb    2",
    ]
    assert table(("n", "name"), [("10", "a")], align="rl") == [" n  name", "10  a"]


def test_recovery_table_by_channel(world, session):
    seed_report(world)
    session.commit()
    result = invoke("recovery", "--group-by", "channel", *PERIOD)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "channel   complaints  evaluated  recovered  unchanged  worse  no_followup    rate"
        "  response_med  response_p90  resolution_med  resolution_p90  compensation",
        "twitter            4          2          1          1      0            0   50.0%"
        "          45.0          57.0           120.0           216.0     EUR 30.00",
        "reddit             2          2          0          0      1            1    0.0%"
        "          50.0          82.0           450.0           570.0     EUR 10.00",
        "appstore           1          1          1          0      0            0  100.0%"
        "          20.0          20.0           100.0           100.0     USD 15.00",
        "complaints opened 2026-11-01 09:00 to 2026-12-01 09:00 UTC; "
        "times in minutes from the customer's first mention",
    ]


def test_recovery_json_and_errors(world, session):
    seed_report(world)
    session.commit()
    result = invoke("recovery", "--json", *PERIOD)
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["group_by"] == "none"
    assert body["rows"][0]["key"] == "all"
    assert body["rows"][0]["compensation"] == {"EUR": "40.00", "USD": "15.00"}
    assert (body["rows"][0]["recovery_rate"], body["rows"][0]["resolution_p90_minutes"]) == (
        0.5,
        450.0,
    )
    assert invoke("recovery", "--group-by", "weekday").exit_code == 2
    assert invoke("recovery", "--since", "someday").exit_code == 2
    reversed_period = invoke("recovery", "--since", "2026-12-01", "--until", "2026-11-01")
    assert reversed_period.exit_code == 2
    assert "error: since must be before until" in reversed_period.output


def test_retention_risk_table_and_json(world, session):
    now = utcnow()
    ada, bo = world.author(), world.author()
    world.customer("Ada Lovelace", ada, value="5000.00", tier="vip")
    world.customer("Bo", bo)
    for author in (ada, bo):
        world.task(author, [world.mention(author, now - DAY, NEG)], status="new")
    session.commit()

    result = invoke("retention-risk")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == [
        "customer",
        "crm_id",
        "name",
        "tier",
        "value",
        "open",
        "complaints_90d",
        "last_complaint",
        "worst",
        "recovery",
        "risk",
    ]
    last = f"{now - DAY:%Y-%m-%d %H:%M}"
    assert lines[1].endswith(
        f"crm-Ada Lovelace  Ada Lovelace  vip   5000.00     1               1  {last}"
        "  -0.80  -         10000.00"
    )
    assert lines[2].endswith(
        f"crm-Bo            Bo            -     -           1               1  {last}"
        "  -0.80  -             0.00"
    )
    assert lines[-1] == "2 customer(s) at risk"
    rows = json.loads(invoke("retention-risk", "--json", "--min-value", "1000").output)
    assert [(r["name"], r["risk_score"]) for r in rows] == [("Ada Lovelace", 10000.0)]
    assert invoke("retention-risk", "--limit", "0").exit_code == 2


def test_evaluate_runs_the_job_once(world, session):
    now = utcnow()
    done, author = world.complaint(NEG, answered_at=now - 20 * DAY)
    world.mention(author, now - 19 * DAY, POS)
    world.complaint(NEG, answered_at=now - 20 * DAY)
    world.complaint(NEG, answered_at=now - HOUR)
    session.commit()

    result = invoke("evaluate")
    assert result.exit_code == 0, result.output
    # stdout only: a log handler another test left on a closed stream may complain on stderr.
    assert result.stdout.strip() == (
        "examined 3 complaint(s), 2 changed: 1 recovered, 0 unchanged, 0 worse, "
        "1 no follow-up, 1 waiting for a follow-up"
    )
    session.expire_all()
    assert session.get(type(done), done.id).recovery_status == "recovered"
