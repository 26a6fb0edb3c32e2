"""What every collector shares: the fetch contract, its errors, retry timing and normalisation."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from collectors.schemas import MentionCreate
from core.errors import InvalidError
from core.timeutil import utcnow

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Budget:
    """How much one fetch may still do in this run."""

    max_items: int = 500
    max_requests: int = 10


@dataclass
class Batch:
    """One page of normalised mentions and the cursor to store with them."""

    mentions: list[MentionCreate]
    cursor: dict[str, Any]
    # True while the platform has more to give right now (pagination in progress).
    more: bool = False
    requests: int = 1
    # Items the platform sent that could not be normalised (logged, counted, never fatal).
    skipped: list[str] = field(default_factory=list)


class CollectorError(Exception):
    """Base of what a fetch may raise; the runner decides what happens to the source."""


class RateLimited(CollectorError):
    """The platform said stop (HTTP 429 or equivalent): resume at `retry_at`."""

    def __init__(self, message: str, retry_at: datetime | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at or utcnow() + timedelta(minutes=15)


class TransientError(CollectorError):
    """5xx, timeouts, connection resets: retried later with backoff."""


class AuthFailed(CollectorError):
    """401/403: the credentials or permissions are wrong; the source is disabled."""


class SourceConfigError(CollectorError, InvalidError):
    """The source's configuration cannot work (missing query, unknown app id, ...)."""


class Collector(Protocol):
    """A platform client bound to one source's configuration."""

    platform: str

    def fetch(self, cursor: dict[str, Any], budget: Budget) -> Batch:
        """Fetch the next page after `cursor`; never sleeps, raises CollectorError subclasses."""
        ...

    def close(self) -> None:
        """Release network resources; the runner calls it after every run."""
        ...


def parse_config(model: type[M], platform: str, config: dict[str, Any]) -> M:
    """Validate a source's config; the first problem becomes a one-line SourceConfigError."""
    try:
        return model.model_validate(config or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "config"
        extra = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise SourceConfigError(
            f"invalid {platform} config: {where}: {first['msg']}{extra}"
        ) from None


def backoff_delay(
    failures: int,
    *,
    base: float = 30.0,
    cap: float = 3600.0,
    rand: Callable[[], float] = random.random,
) -> timedelta:
    """Capped exponential backoff with full jitter (AWS style): U(0.5, 1) x min(cap, base*2^n)."""
    ceiling = min(cap, base * (2 ** max(0, failures - 1)))
    return timedelta(seconds=ceiling * (0.5 + rand() / 2))
