"""What every benchmark script shares: throw-away databases and the machine facts it prints."""

from __future__ import annotations

import os
import platform
import secrets
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import sqlalchemy
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError


class Unavailable(Exception):
    """The database server cannot be reached; the run goes on without it."""


@contextmanager
def fresh_sqlite() -> Iterator[tuple[str, str]]:
    """A new SQLite file in a temporary directory: (url, description)."""
    with tempfile.TemporaryDirectory(prefix="socialcrm-bench-") as tmp:
        db = Path(tmp) / "bench.db"
        yield f"sqlite:///{db}", str(db)


@contextmanager
def fresh_postgres(server_url: str) -> Iterator[tuple[str, str]]:
    """CREATE DATABASE socialcrm_bench_<hex> on the server; always dropped afterwards."""
    base = make_url(server_url)
    admin = create_engine(
        base.set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
    )
    name = f"socialcrm_bench_{secrets.token_hex(6)}"
    try:
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except SQLAlchemyError as exc:
            first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            raise Unavailable(first[0] if first else type(exc).__name__) from None
        try:
            url = base.set(database=name).render_as_string(hide_password=False)
            yield url, f"database {name} on {base.host}:{base.port or 5432}"
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def server_version(engine: Engine) -> str:
    """The database server's own version string."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return f"SQLite {conn.scalar(text('select sqlite_version()'))}"
        return str(conn.scalar(text("select version()")))


def server_settings(engine: Engine) -> dict[str, str]:
    """Server settings that change the figures (autovacuum = automatic ANALYZE of new tables)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return {
                "journal_mode": str(conn.scalar(text("pragma journal_mode"))),
                "synchronous": str(conn.scalar(text("pragma synchronous"))),
            }
        names = ("autovacuum", "shared_buffers", "synchronous_commit", "fsync")
        return {name: str(conn.scalar(text(f"show {name}"))) for name in names}


def dist_version(dist: str) -> str:
    """An installed distribution's version, or 'not installed'."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages (the machine may be shared)."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "n/a"
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def cpu_model() -> str:
    """The CPU's model name (figures are only comparable on the same one)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_facts(dists: Sequence[tuple[str, str]] = ()) -> dict[str, str]:
    """CPU, cores, load and library versions; `dists` adds (label, distribution) pairs."""
    facts = {
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "load avg": f"{loadavg()} (1, 5, 15 min, at start)",
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy.__version__,
        "sqlite3": sqlite3.sqlite_version,
        "psycopg": dist_version("psycopg"),
    }
    facts.update({label: dist_version(dist) for label, dist in dists})
    facts["platform"] = platform.platform()
    return facts
