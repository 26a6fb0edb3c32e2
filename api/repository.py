"""All SQL for API keys."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.models import ApiKey
from core.timeutil import utcnow


def add_key(session: Session, key: ApiKey) -> ApiKey:
    """Insert a key row."""
    session.add(key)
    session.flush()
    return key


def active_key_by_hash(session: Session, key_hash: str) -> ApiKey | None:
    """A non-revoked key with this hash."""
    return session.scalar(
        select(ApiKey).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
    )


def touch_key(session: Session, key_id: int) -> None:
    """Record that a key was just used."""
    session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=utcnow()))


def list_keys(session: Session) -> list[ApiKey]:
    """Every key, newest first."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id.desc())))


def get_key(session: Session, key_id: int) -> ApiKey | None:
    """One key."""
    return session.get(ApiKey, key_id)
