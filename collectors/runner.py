"""One collection run of one source: fetch pages, store each with its cursor, record the outcome.

Each page is stored in its own transaction together with the cursor that follows it, so a crash
at any point loses nothing (the stored cursor still points before the unstored page) and
duplicates nothing (ingest skips what is already stored). The runner never sleeps: a rate limit
or a transient error ends the run and sets `sources.next_run_at`, which the scheduler honours.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from collectors import registry, repository, service
from collectors.base import (
    AuthFailed,
    Batch,
    Budget,
    Collector,
    CollectorError,
    RateLimited,
    SourceConfigError,
    TransientError,
    backoff_delay,
)
from core.db import unit_of_work
from core.settings import Settings
from core.timeutil import utcnow

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 1000


@dataclass
class CollectResult:
    """What one run did, and when the source may run again if it must wait."""

    source_id: int
    status: str
    fetched: int = 0
    inserted: int = 0
    requests: int = 0
    skipped_items: int = 0
    retry_at: datetime | None = None
    error: str | None = None


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text[:MAX_ERROR_CHARS]


def run_source(
    factory: sessionmaker[Session],
    settings: Settings,
    source_id: int,
    *,
    collector: Collector | None = None,
    force: bool = False,
    now: Callable[[], datetime] = utcnow,
) -> CollectResult:
    """Collect one source within the per-run budget; `force` ignores pause and wait times."""
    with unit_of_work(factory) as session:
        source = repository.get_source(session, source_id)
        if source is None:
            return CollectResult(source_id, "not_found", error=f"source {source_id} not found")
        if not source.enabled and not force:
            return CollectResult(source_id, "skipped", error="source is paused or disabled")
        if source.next_run_at and source.next_run_at > now() and not force:
            return CollectResult(source_id, "skipped", retry_at=source.next_run_at)
        cursor = repository.get_cursor(session, source_id)
        platform, query, config = source.platform, source.query, dict(source.config)
        source.last_run_at = now()

    result = CollectResult(source_id, "ok")
    try:
        collector = collector or registry.build_collector(platform, query, config, settings)
    except (SourceConfigError, AuthFailed) as exc:
        return _finish(factory, result, "disabled", exc)
    try:
        return _collect(factory, settings, source_id, collector, cursor, result)
    finally:
        collector.close()


def _collect(
    factory: sessionmaker[Session],
    settings: Settings,
    source_id: int,
    collector: Collector,
    cursor: dict[str, Any],
    result: CollectResult,
) -> CollectResult:
    try:
        items_left = settings.collect_max_items_per_run
        requests_left = settings.collect_max_requests_per_run
        while items_left > 0 and requests_left > 0:
            batch = collector.fetch(cursor, Budget(items_left, requests_left))
            _store(factory, settings, source_id, batch, result)
            cursor = batch.cursor
            items_left -= len(batch.mentions)
            requests_left -= max(1, batch.requests)
            if not batch.more:
                break
    except RateLimited as exc:
        return _finish(factory, result, "rate_limited", exc, retry_at=exc.retry_at)
    except (AuthFailed, SourceConfigError) as exc:
        return _finish(factory, result, "disabled", exc)
    except (TransientError, CollectorError) as exc:
        return _finish(factory, result, "retrying", exc)
    except Exception as exc:
        # A bug or an unmapped client error must not kill the scheduler; back off like 5xx.
        log.exception("collector failed", extra={"source_id": source_id})
        return _finish(factory, result, "retrying", exc)
    return _finish(factory, result, "ok", None)


def _store(
    factory: sessionmaker[Session],
    settings: Settings,
    source_id: int,
    batch: Batch,
    result: CollectResult,
) -> None:
    with unit_of_work(factory) as session:
        stored = service.ingest(
            session,
            batch.mentions,
            source_id=source_id,
            max_text_chars=settings.max_text_chars,
            max_raw_bytes=settings.max_raw_bytes,
        )
        repository.save_cursor(session, source_id, batch.cursor)
        source = repository.get_source(session, source_id)
        if source is not None:
            source.items_fetched += len(batch.mentions)
    result.fetched += len(batch.mentions)
    result.inserted += stored.inserted
    result.requests += batch.requests
    result.skipped_items += len(batch.skipped)
    for reason in batch.skipped[:20]:
        log.warning("item skipped", extra={"source_id": source_id, "reason": reason[:300]})


def _finish(
    factory: sessionmaker[Session],
    result: CollectResult,
    status: str,
    exc: BaseException | None,
    retry_at: datetime | None = None,
) -> CollectResult:
    with unit_of_work(factory) as session:
        source = repository.get_source(session, result.source_id)
        if source is None:
            return result
        source.status = status
        source.last_run_items = result.fetched
        if status == "ok":
            source.failures = 0
            source.last_error = None
            source.next_run_at = None
            source.last_success_at = utcnow()
        else:
            source.last_error = _error_text(exc) if exc else None
            if status == "retrying":
                source.failures += 1
                retry_at = utcnow() + backoff_delay(source.failures)
            elif status == "disabled":
                source.enabled = False
            source.next_run_at = retry_at
    result.status = status
    result.retry_at = retry_at
    result.error = _error_text(exc) if exc else None
    level = logging.INFO if status == "ok" else logging.WARNING
    log.log(
        level,
        "collection finished",
        extra={
            "source_id": result.source_id,
            "status": status,
            "fetched": result.fetched,
            "inserted": result.inserted,
            "error": result.error,
        },
    )
    return result
