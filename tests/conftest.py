"""Fixtures: every DB test runs on SQLite and on PostgreSQL, inside a rolled-back transaction."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from collectors.schemas import MentionCreate
from core.db import make_engine
from core.migrate import upgrade
from core.settings import Settings

# The tests' webhook receivers listen on loopback, which the SSRF guard refuses unless allowed
# (tests/engagement/test_guard.py checks the refusal with its own settings).
os.environ.setdefault("SOCIALCRM_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
LOOPBACK = Settings(database_url="sqlite://", _env_file=None).webhook_networks()

PG_ENV = "SOCIALCRM_TEST_POSTGRES_URL"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_server() -> Engine:
    url = os.environ.get(PG_ENV)
    engine = make_engine(url or PG_DEFAULT, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except OperationalError as exc:
        first = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        if url:
            pytest.fail(f"{PG_ENV}={url} is set but unreachable: {first}", pytrace=False)
        pytest.skip(f"PostgreSQL at {PG_DEFAULT} unreachable and {PG_ENV} unset: {first}")
    return engine


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A freshly migrated database of each kind, shared by the session.

    PostgreSQL gets a throw-away database per test run (created next to the one the URL
    names, dropped afterwards), so parallel runs on one server never see each other.
    """
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}")
        upgrade(eng)
        yield eng
        eng.dispose()
        return
    server = _postgres_server()
    name = f"socialcrm_test_{secrets.token_hex(6)}"
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng = make_engine(server.url.set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(eng)
        yield eng
    finally:
        eng.dispose()
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    conn = engine.connect()
    trans = conn.begin()
    try:
        yield conn
    finally:
        trans.rollback()
        conn.close()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions whose commits become savepoints of the test's outer transaction."""
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for service-level tests."""
    s = session_factory()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings isolated from the developer's environment."""
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'unused.db'}",
        sentiment_backend="lexicon",
        _env_file=None,
    )


# Complaints any sound encoder sorts into the bundled airline taxonomy (real-model tests).
AIRLINE_COMPLAINTS = {
    "they lost my suitcase": "lost_luggage",
    "flight delayed 4 hours": "late_flight",
    "@airline you cancelled my flight again": "cancelled_flight",
    "the flight attendant was rude to me": "flight_attendants",
    "on hold for 3 hours, nobody answers": "customer_service",
    "my bag arrived with a broken wheel": "damaged_luggage",
    "the line at security is an hour long": "long_lines",
    "can't change my reservation on your website": "booking",
}

# The complaint categories migration 0004 seeds, in order.
DEFAULT_CATEGORY_KEYS = [
    "delivery",
    "billing",
    "product_quality",
    "customer_service",
    "app_technical",
    "account",
]


def mention(external_id: str, text: str = "hello", **kw: Any) -> MentionCreate:
    """A valid mention with sensible defaults for tests."""
    data: dict[str, Any] = {
        "platform": "twitter",
        "external_id": external_id,
        "text": text,
        "created_at": datetime(2026, 11, 20, 10, 0, 0),
    }
    data.update(kw)
    return MentionCreate.model_validate(data)


@pytest.fixture
def committing_factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions that really commit (for code that opens its own connections, like the
    scheduler's job store); every table is emptied afterwards, and the rows the migrations
    seed (the default engagement rules and complaint categories) are put back."""
    from engagement.rules import seed_default_rules
    from migrations.metadata import target_metadata
    from sentiment import service as sentiment
    from sentiment.categories import load_taxonomy_file

    factory = sessionmaker(bind=engine, expire_on_commit=False)
    yield factory
    with engine.begin() as conn:
        for table in reversed(target_metadata().sorted_tables):
            conn.execute(table.delete())
    with factory.begin() as session:
        seed_default_rules(session)
        sentiment.import_taxonomy(session, load_taxonomy_file("default"))
