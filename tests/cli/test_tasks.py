"""`socialcrm tasks`: list, assign, status, agents, rules, escalate (on both databases)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cli.tasks import app
from collectors import service as collect
from core.timeutil import utcnow
from engagement import rules, service
from engagement.models import Agent, ResponseTask
from sentiment import service as scoring
from sentiment.fake import FakeModel
from tests.conftest import mention

runner = CliRunner()


@pytest.fixture(autouse=True)
def wired(monkeypatch, settings, engine, session_factory):
    # Commands open their own units of work; here they become savepoints of the test's
    # rolled-back transaction, so nothing leaks between tests.
    monkeypatch.setattr("cli.main._ready", lambda: (settings, engine, session_factory))


@pytest.fixture
def task_id(session):
    if not rules.list_rules(session):
        rules.seed_default_rules(session)
    collect.ingest(session, [mention("1", "terrible", author={"id": "9"})])
    scoring.score_all_pending(session, FakeModel())
    report = service.engage_pending(session, sla_minutes={2: 60})
    session.commit()
    return report.opened_task_ids[0]


def invoke(*args):
    return runner.invoke(app, list(args))


def test_help_lists_the_commands():
    result = invoke("--help")
    assert result.exit_code == 0
    for name in ("list", "assign", "status", "agents", "rules", "escalate"):
        assert name in result.output


def test_list_and_assign_and_status(task_id):
    result = invoke("list")
    assert result.exit_code == 0
    assert result.output.splitlines()[0].startswith(f"{task_id}\tnew\tP2\tnegative\t-\tdue ")
    assert result.output.splitlines()[-1] == "1 of 1 task(s)"
    assert invoke("agents", "add", "ann").output.strip().endswith("(ann) added")
    result = invoke("assign", str(task_id))
    assert result.exit_code == 0 and f"{task_id}\tassigned\tP2\tnegative\tann" in result.output
    result = invoke("status", str(task_id), "waiting", "--actor", "ann")
    assert result.exit_code == 0 and "\twaiting\t" in result.output
    assert invoke("list", "--status", "closed").output.strip() == "0 of 0 task(s)"


def test_errors_are_one_line(task_id):
    result = invoke("status", str(task_id), "waiting")
    assert result.exit_code == 1
    assert result.output.strip() == f"error: task {task_id}: cannot go from new to waiting"
    result = invoke("assign", str(task_id), "--agent", "zed")
    assert (result.exit_code, result.output.strip()) == (1, "error: agent 'zed' not found")
    assert invoke("status", str(task_id), "done").exit_code == 2
    assert invoke("list", "--status", "done").exit_code == 2
    assert invoke("assign", "999999").output.strip() == "error: task 999999 not found"


def test_agents_add_and_list(session):
    assert invoke("agents", "add", "ann", "--email", "ann@example.com").exit_code == 0
    assert invoke("agents", "add", "bob", "--unavailable").exit_code == 0
    result = invoke("agents", "add", "ann")
    assert (result.exit_code, result.output.strip()) == (1, "error: agent 'ann' already exists")
    lines = invoke("agents", "list").output.splitlines()
    assert [line.split("\t")[1:3] for line in lines] == [
        ["ann", "available"],
        ["bob", "unavailable"],
    ]
    assert [a.name for a in session.scalars(select(Agent).order_by(Agent.name))] == ["ann", "bob"]


def test_rules_list(session):
    if not rules.list_rules(session):
        rules.seed_default_rules(session)
        session.commit()
    lines = invoke("rules", "list").output.splitlines()
    assert [line.split("\t")[2] for line in lines] == [
        "negative_wom",
        "low_rating",
        "question",
        "key_customer",
    ]
    assert lines[0].endswith('\tenabled\tpriority shift 0\t{"min_negative": 0.5}')


def test_escalate_runs_the_job_once(session, task_id):
    task = session.get(ResponseTask, task_id)
    task.due_at = utcnow() - timedelta(minutes=1)
    session.commit()
    result = invoke("escalate")
    # stdout only: the job logs a warning, and logging may point at an earlier runner's stream.
    assert result.stdout.strip() == (
        "escalated 1 task(s): 1 first-response and 0 resolution breach(es)"
    )
    assert invoke("escalate").stdout.startswith("escalated 0 task(s)")
    session.refresh(task)
    assert (task.escalation_level, task.priority) == (1, 1)
