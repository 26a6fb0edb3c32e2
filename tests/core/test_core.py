from __future__ import annotations

from datetime import datetime

import pytest

from core.db import make_engine
from core.errors import ConfigError
from core.migrate import check_at_head
from core.settings import Settings
from core.timeutil import parse_datetime


def test_settings_read_the_prefixed_environment(monkeypatch):
    monkeypatch.setenv("SOCIALCRM_PORT", "9001")
    monkeypatch.setenv("SOCIALCRM_SLA_FIRST_RESPONSE_MINUTES", "1:15,2:45")
    settings = Settings(_env_file=None)
    assert settings.port == 9001
    assert settings.sla_minutes() == {1: 15, 2: 45}
    assert settings.host == "127.0.0.1"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "invalid database URL"),
        ("mysql://localhost/db", "unsupported database 'mysql'"),
    ],
)
def test_bad_urls_are_config_errors(url, message):
    with pytest.raises(ConfigError, match=message):
        make_engine(url)


def test_unreachable_database_is_a_one_line_config_error():
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(ConfigError) as exc:
        check_at_head(engine)
    assert str(exc.value).startswith("cannot connect to the database:")
    assert "\n" not in str(exc.value)


def test_empty_database_needs_upgrade(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(ConfigError, match="run `socialcrm db upgrade`"):
        check_at_head(engine)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T10:00:00Z", datetime(2026, 11, 20, 10, 0)),
        ("2026-11-20T12:00:00+02:00", datetime(2026, 11, 20, 10, 0)),
        ("1763632800", datetime(2025, 11, 20, 10, 0)),
    ],
)
def test_parse_datetime_normalises_to_naive_utc(text, expected):
    assert parse_datetime(text) == expected
