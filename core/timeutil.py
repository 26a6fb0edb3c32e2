"""Time helpers: everything is stored as naive UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Current time as naive UTC (what the database columns hold)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_naive_utc(value: datetime) -> datetime:
    """Normalise an aware or naive datetime to naive UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def parse_datetime(value: str) -> datetime:
    """Parse ISO 8601 (with Z or offset) or a Unix timestamp into naive UTC."""
    text = value.strip()
    if text.replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(float(text), UTC).replace(tzinfo=None)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return to_naive_utc(datetime.fromisoformat(text))
