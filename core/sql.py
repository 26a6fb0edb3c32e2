"""Dialect-aware SQL helpers for repositories."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect_insert(session: Session, table: Any) -> Any:
    """INSERT with ON CONFLICT support (PostgreSQL and SQLite share the API)."""
    name = session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


def refresh_stale_statistics(
    session: Session, tables: Sequence[str], min_changes: int = 1000
) -> list[str]:
    """On PostgreSQL, ANALYZE those of `tables` with many changes since their last ANALYZE.

    The stages' pending-work queries need real statistics: on a table the planner believes
    empty it picks plans that grow quadratically (seen at 20k mentions on a fresh database with
    autovacuum off). Autovacuum does this eventually; a job working through a burst cannot wait.
    """
    if session.get_bind().dialect.name != "postgresql" or not tables:
        return []
    stale = session.execute(
        text(
            "SELECT relname FROM pg_stat_user_tables "
            "WHERE relname IN :tables AND n_mod_since_analyze > greatest(:floor, n_live_tup / 5)"
        ).bindparams(bindparam("tables", expanding=True)),
        {"tables": list(tables), "floor": min_changes},
    ).scalars()
    analysed = sorted(stale)
    for table in analysed:
        # Only names pg_stat_user_tables returned for our own fixed lists reach here.
        session.execute(text(f'ANALYZE "{table}"'))
    return analysed
