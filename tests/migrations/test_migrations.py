"""The Alembic history matches the models, and runs down and up again, on both databases."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.migrate import alembic_config, check_at_head, current_revision, head_revision
from migrations.metadata import target_metadata


def test_database_is_at_head(engine):
    assert current_revision(engine) == head_revision()
    check_at_head(engine)


def test_models_and_migrations_agree(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, target_metadata())
    assert diff == []


def test_downgrade_and_upgrade_round_trip(engine):
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert current_revision(engine) is None
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    assert current_revision(engine) == head_revision()
