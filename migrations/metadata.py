"""The complete metadata: every domain's tables, for Alembic and the schema tests."""

from __future__ import annotations

from sqlalchemy import MetaData


def target_metadata() -> MetaData:
    """Import each domain's models so all tables are registered, then return the metadata."""
    import sentiment.models  # noqa: F401
    from core.db import Base

    return Base.metadata
