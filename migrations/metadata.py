"""The complete metadata: every domain's tables, for Alembic and the schema tests."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

MODEL_MODULES = (
    "api.models",
    "collectors.models",
    "engagement.models",
    "scheduler.models",
    "sentiment.models",
)


def target_metadata() -> MetaData:
    """Import each domain's models so all tables are registered, then return the metadata."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
    from core.db import Base

    return Base.metadata
