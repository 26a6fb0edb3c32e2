"""API keys: created once (secret shown once), stored as SHA-256, checked on every request."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy.orm import Session

from api import repository
from api.models import ApiKey
from core.errors import NotFoundError
from core.timeutil import utcnow

KEY_PREFIX = "scrm_"
# Recording every use would write on every request; once a minute is enough to audit.
TOUCH_EVERY = timedelta(minutes=1)


def hash_key(secret: str) -> str:
    """SHA-256 of a key: the secrets are random, so no slow hash is needed."""
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, name: str) -> tuple[ApiKey, str]:
    """Create a key; return the row and the secret (the only time it is visible)."""
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    row = repository.add_key(
        session, ApiKey(name=name, prefix=secret[:12], key_hash=hash_key(secret))
    )
    return row, secret


def verify_key(session: Session, secret: str) -> ApiKey | None:
    """The active key matching this secret, or None."""
    if not secret.startswith(KEY_PREFIX) or len(secret) > 200:
        return None
    key = repository.active_key_by_hash(session, hash_key(secret))
    if key is not None and (key.last_used_at is None or utcnow() - key.last_used_at > TOUCH_EVERY):
        repository.touch_key(session, key.id)
    return key


def list_keys(session: Session) -> list[ApiKey]:
    """All keys (hashes only)."""
    return repository.list_keys(session)


def revoke_key(session: Session, key_id: int) -> ApiKey:
    """Revoke a key; it stops working at once."""
    key = repository.get_key(session, key_id)
    if key is None:
        raise NotFoundError(f"API key {key_id} not found")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key
