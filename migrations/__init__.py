"""Alembic migration history (the only way the schema changes)."""
