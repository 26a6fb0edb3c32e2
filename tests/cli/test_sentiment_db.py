"""`socialcrm sentiment rescore` and `socialcrm sentiment categories` (on both databases)."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cli.main import app
from collectors import service as collect
from collectors.models import Mention
from core.settings import get_settings
from sentiment import service
from sentiment.categories import HashingEmbedder, fingerprint, specs
from sentiment.lexicon import VaderModel
from sentiment.models import SentimentResult
from sentiment.schemas import CategoryUpdate
from tests.conftest import DEFAULT_CATEGORY_KEYS, mention

runner = CliRunner()

DEFAULT_KEYS = DEFAULT_CATEGORY_KEYS
# VADER labels, then the default taxonomy's category with the bag-of-words embedder.
TEXTS = [
    ("terrible, you charged my card twice this month", "negative", "billing"),
    ("the app crashes every time, terrible and useless", "negative", "app_technical"),
    ("I hate this weather", "negative", None),
    ("I love it, great service", "positive", None),
    ("the store opens at 9", "neutral", None),
]
PROGRESS = re.compile(r"^batch (\d+): (\d+)/(\d+) scored \(\d+/s, (\d+) left\)$")


@pytest.fixture(autouse=True)
def wired(monkeypatch, settings, engine, session_factory):
    # Commands open their own units of work; here they become savepoints of the test's
    # rolled-back transaction, so nothing leaks between tests.
    monkeypatch.setattr("cli.main._ready", lambda: (settings, engine, session_factory))


def invoke(*args):
    return runner.invoke(app, ["sentiment", *args])


@pytest.fixture
def mentions(session):
    collect.ingest(
        session,
        [
            mention(str(i), text, language="en", created_at=datetime(2026, 11, 1 + i))
            for i, (text, _, _) in enumerate(TEXTS)
        ],
    )
    session.commit()


def stored(session):
    """(external id, model, label, category, taxonomy version) of every result."""
    session.expire_all()
    stmt = (
        select(Mention.external_id, SentimentResult)
        .join(Mention, Mention.id == SentimentResult.mention_id)
        .order_by(SentimentResult.id)
    )
    return [
        (e, r.model_name, r.label, r.category, r.taxonomy_version) for e, r in session.execute(stmt)
    ]


def summary(output):
    return json.loads(output.strip().splitlines()[-1])


def progress(output):
    return [
        tuple(int(g) for g in m.groups()) for m in map(PROGRESS.match, output.splitlines()) if m
    ]


def version_now(session):
    taxonomy = specs(service.list_categories(session, enabled_only=True))
    return fingerprint(taxonomy, HashingEmbedder.name)


# ---------------------------------------------------------------------------- rescore


def test_rescore_scores_every_pending_mention(session, mentions):
    result = invoke("rescore", "--batch-size", "2")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"vader {VaderModel().version}: 5 mentions to score"
    assert progress(result.output) == [(1, 2, 5, 3), (2, 4, 5, 1), (3, 5, 5, 0)]
    assert summary(result.output) == {
        "scored": 5,
        "unsupported_language": 0,
        "recategorised": 0,
        "batches": 3,
        "remaining": 0,
    }
    version = version_now(session)
    assert stored(session) == [
        (str(i), "vader", label, category, version if label == "negative" else None)
        for i, (_, label, category) in enumerate(TEXTS)
    ]
    again = invoke("rescore")
    assert again.exit_code == 0
    assert again.output.splitlines()[0].endswith(": 0 mentions to score")
    assert progress(again.output) == []
    assert summary(again.output)["batches"] == 0


def test_rescore_is_resumable(session, mentions):
    first = invoke("rescore", "--batch-size", "2", "--max-batches", "2")
    assert first.exit_code == 0, first.output
    assert progress(first.output) == [(1, 2, 5, 3), (2, 4, 5, 1)]
    assert summary(first.output) == {
        "scored": 4,
        "unsupported_language": 0,
        "recategorised": 0,
        "batches": 2,
        "remaining": 1,
    }
    assert [row[0] for row in stored(session)] == ["0", "1", "2", "3"]
    second = invoke("rescore", "--batch-size", "2", "--max-batches", "2")
    assert second.exit_code == 0, second.output
    assert second.output.splitlines()[0].endswith(": 1 mentions to score")
    assert progress(second.output) == [(1, 1, 1, 0)]
    assert summary(second.output)["remaining"] == 0
    assert [row[0] for row in stored(session)] == ["0", "1", "2", "3", "4"]


def test_rescore_since_only_scores_newer_mentions(session, mentions):
    result = invoke("rescore", "--since", "2026-11-03")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].endswith(": 3 mentions to score")
    assert summary(result.output)["scored"] == 3 and summary(result.output)["remaining"] == 0
    assert [row[0] for row in stored(session)] == ["2", "3", "4"]


def test_rescore_counts_unsupported_languages(session):
    collect.ingest(session, [mention("es", "esto es terrible", language="es")])
    session.commit()
    result = invoke("rescore")
    assert result.exit_code == 0, result.output
    assert progress(result.output) == [(1, 1, 1, 0)]
    assert summary(result.output)["unsupported_language"] == 1
    assert summary(result.output)["scored"] == 0


def test_rescore_recategorises_after_a_taxonomy_change(session, mentions):
    assert invoke("rescore").exit_code == 0
    old = version_now(session)
    result = invoke(
        "categories", "update", "account", "--example", "I hate this weather", "--example", "x"
    )
    assert result.exit_code == 0, result.output
    new = version_now(session)
    assert new != old
    # --no-categories leaves the old categories in place.
    skipped = invoke("rescore", "--no-categories")
    assert skipped.exit_code == 0 and summary(skipped.output)["recategorised"] == 0
    assert {row[4] for row in stored(session) if row[2] == "negative"} == {old}
    result = invoke("rescore", "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert "re-categorised 2 complaints" in result.output.splitlines()
    assert "re-categorised 3 complaints" in result.output.splitlines()
    assert summary(result.output)["recategorised"] == 3
    negatives = [row for row in stored(session) if row[2] == "negative"]
    assert [(row[3], row[4]) for row in negatives] == [
        ("billing", new),
        ("app_technical", new),
        ("account", new),
    ]
    assert summary(invoke("rescore").output)["recategorised"] == 0


def test_rescore_with_max_batches_reached_does_not_recategorise(session, mentions):
    assert invoke("rescore", "--no-categories").exit_code == 0
    invoke("categories", "update", "billing", "--name", "Money")
    collect.ingest(session, [mention("9", "terrible, charged twice", language="en")])
    session.commit()
    result = invoke("rescore", "--max-batches", "1")
    assert summary(result.output)["recategorised"] == 0
    result = invoke("rescore", "--max-batches", "1")
    assert summary(result.output)["batches"] == 0
    assert summary(result.output)["recategorised"] == 3


def test_rescore_rejects_bad_options():
    assert invoke("rescore", "--batch-size", "0").exit_code == 2
    assert invoke("rescore", "--max-batches", "0").exit_code == 2
    assert invoke("rescore", "--since", "yesterday").exit_code == 2


# ---------------------------------------------------------------------------- categories


def test_categories_list(session):
    service.update_category(session, "account", CategoryUpdate(enabled=False))
    session.commit()
    result = invoke("categories", "list")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "delivery\tDelivery\t4 example(s)",
        "billing\tBilling and refunds\t4 example(s)",
        "product_quality\tProduct quality\t4 example(s)",
        "customer_service\tCustomer service\t4 example(s)",
        "app_technical\tApp and technical\t4 example(s)",
        "account\tAccount\t4 example(s)\t(disabled)",
    ]
    as_json = json.loads(invoke("categories", "list", "--json").output)
    assert [c["key"] for c in as_json] == DEFAULT_KEYS
    assert as_json[-1]["enabled"] is False and as_json[0]["position"] == 10


def test_categories_add(session):
    result = invoke("categories", "add", "refunds", "--name", "Refunds",
                    "--description", " money back ", "--example", "no refund",
                    "--example", "refund refused", "--disabled")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "added refunds\tRefunds\t2 example(s)\t(disabled)"
    row = service.get_category(session, "refunds")
    assert (row.description, row.examples, row.enabled, row.position) == (
        "money back",
        ["no refund", "refund refused"],
        False,
        70,
    )
    only_description = invoke("categories", "add", "late", "--name", "Late", "--description", "d")
    assert only_description.output.strip() == "added late\tLate\t0 example(s)"


def test_categories_add_errors(session):
    result = invoke("categories", "add", "billing", "--name", "B", "--example", "x")
    assert (result.exit_code, result.output.strip()) == (
        2,
        "error: complaint category 'billing' already exists",
    )
    result = invoke("categories", "add", "Bad Key", "--name", "B", "--example", "x")
    assert (result.exit_code, result.output.strip()) == (
        2,
        "error: key: use lowercase letters, digits, '-' and '_', starting with a letter or "
        "digit (at most 100 characters)",
    )
    result = invoke("categories", "add", "empty", "--name", "Empty")
    assert (result.exit_code, result.output.strip()) == (
        2,
        "error: a category needs a description or at least one example",
    )
    assert invoke("categories", "add", "noname", "--example", "x").exit_code == 2
    assert [c.key for c in service.list_categories(session)] == DEFAULT_KEYS


def test_categories_update(session):
    result = invoke("categories", "update", "billing", "--name", "Money", "--position", "5")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "updated billing\tMoney\t4 example(s)"
    session.expire_all()
    row = service.get_category(session, "billing")
    # Options left out are left alone (examples included).
    assert (row.name, row.position, len(row.examples), row.enabled) == ("Money", 5, 4, True)
    assert row.description.startswith("Complaints about money")
    result = invoke("categories", "update", "billing", "--disabled", "--example", "only one")
    assert result.output.strip() == "updated billing\tMoney\t1 example(s)\t(disabled)"
    result = invoke("categories", "update", "billing", "--enabled", "--description", "fees")
    assert result.output.strip() == "updated billing\tMoney\t1 example(s)"
    session.expire_all()
    row = service.get_category(session, "billing")
    assert (row.description, row.examples, row.enabled) == ("fees", ["only one"], True)


def test_categories_update_errors(session):
    result = invoke("categories", "update", "nope", "--name", "x")
    assert (result.exit_code, result.output.strip()) == (
        2,
        "error: complaint category 'nope' not found",
    )
    invoke("categories", "update", "billing", "--example", "only")
    result = invoke("categories", "update", "billing", "--description", " ")
    assert result.exit_code == 0  # the example is still there
    result = invoke("categories", "update", "delivery", "--name", "  ")
    assert (result.exit_code, result.output.strip()) == (
        2,
        "error: name: String should have at least 1 character",
    )
    result = invoke("categories", "update", "billing", "--description", "", "--example", " ")
    assert (result.exit_code, result.output.strip()) == (
        2,
        "error: example 1: String should have at least 1 character",
    )


def test_categories_remove(session):
    result = invoke("categories", "remove", "billing")
    assert (result.exit_code, result.output.strip()) == (0, "removed billing")
    assert "billing" not in [c.key for c in service.list_categories(session)]
    result = invoke("categories", "remove", "billing")
    assert (result.exit_code, result.output.strip()) == (
        2,
        "error: complaint category 'billing' not found",
    )


def test_categories_import(session, tmp_path):
    path = tmp_path / "tax.json"
    path.write_text(
        json.dumps(
            {
                "categories": [
                    {"key": "late", "name": "Late", "examples": ["late again"]},
                    {"key": "billing", "name": "Billing", "description": "charges"},
                ]
            }
        ),
        encoding="utf-8",
    )
    result = invoke("categories", "import", str(path))
    assert (result.exit_code, result.output.strip()) == (0, "1 created, 1 updated, 0 removed")
    result = invoke("categories", "import", str(path), "--replace")
    assert (result.exit_code, result.output.strip()) == (0, "0 created, 2 updated, 5 removed")
    session.expire_all()
    assert [c.key for c in service.list_categories(session)] == ["late", "billing"]
    result = invoke("categories", "import", "airline", "--replace")
    assert (result.exit_code, result.output.strip()) == (0, "9 created, 0 updated, 2 removed")
    result = invoke("categories", "import", "default")
    assert result.output.strip() == "5 created, 1 updated, 0 removed"


def test_categories_import_errors(session, tmp_path):
    missing = tmp_path / "missing.json"
    result = invoke("categories", "import", str(missing))
    assert result.exit_code == 2
    assert result.output.startswith(f"error: cannot read taxonomy {missing}")
    bad = tmp_path / "bad.json"
    bad.write_text('{"categories": [{"key": "Bad Key", "name": "x", "examples": ["y"]}]}')
    result = invoke("categories", "import", str(bad))
    assert (result.exit_code, result.output.strip()) == (
        2,
        "error: key: use lowercase letters, digits, '-' and '_', starting with a letter or "
        "digit (at most 100 characters)",
    )
    empty = tmp_path / "empty.json"
    empty.write_text('{"categories": [{"key": "empty"}]}')
    result = invoke("categories", "import", str(empty))
    assert result.exit_code == 2
    assert "needs a description or at least one example" in result.output
    session.expire_all()
    assert [c.key for c in service.list_categories(session)] == DEFAULT_KEYS


def test_categories_help_lists_the_commands():
    result = invoke("categories", "--help")
    assert result.exit_code == 0
    for name in ("list", "add", "update", "remove", "import"):
        assert name in result.output
    assert "rescore" in invoke("--help").output


# ---------------------------------------------------- end to end on a migrated SQLite file


def test_rescore_and_categories_on_a_fresh_database(tmp_path, monkeypatch):
    monkeypatch.undo()  # not wired: the real settings and a real database file
    monkeypatch.setenv("SOCIALCRM_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SOCIALCRM_SENTIMENT_BACKEND", "lexicon")
    get_settings.cache_clear()
    try:
        assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
        listed = invoke("categories", "list")
        assert [line.split("\t")[0] for line in listed.output.splitlines()] == DEFAULT_KEYS
        data = tmp_path / "m.jsonl"
        data.write_text(
            "".join(
                json.dumps(
                    {
                        "platform": "twitter",
                        "external_id": str(i),
                        "text": text,
                        "language": "en",
                        "created_at": "2026-11-20T10:00:00Z",
                    }
                )
                + "\n"
                for i, (text, _, _) in enumerate(TEXTS)
            )
        )
        assert runner.invoke(app, ["import", "mentions", str(data)]).exit_code == 0
        # The import scored everything (and categorised the complaints) already.
        result = invoke("rescore")
        assert result.exit_code == 0, result.output
        assert summary(result.output) == {
            "scored": 0,
            "unsupported_language": 0,
            "recategorised": 0,
            "batches": 0,
            "remaining": 0,
        }
        assert invoke("categories", "remove", "billing").exit_code == 0
        result = invoke("rescore")
        assert summary(result.output)["recategorised"] == 3
    finally:
        get_settings.cache_clear()
