"""The httpx plumbing shared by the plain-HTTP collectors (App Store, RSS).

One client factory (timeout from settings, our User-Agent, redirects followed, no retries) and
one mapping from httpx outcomes to the collector errors, so every collector reports a 429, a 5xx
or a dead URL the same way and the runner alone decides about waiting and retrying.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from collectors.base import (
    AuthFailed,
    CollectorError,
    RateLimited,
    SourceConfigError,
    TransientError,
)
from core.settings import Settings
from core.timeutil import to_naive_utc, utcnow

USER_AGENT = "social-crm/0.1 (self-hosted social listening)"
# A body past this is refused rather than held in memory: no feed or review page is this big.
MAX_BODY_BYTES = 16 * 1024 * 1024
DEFAULT_RETRY_AFTER = timedelta(minutes=15)
# A bogus Retry-After (years ahead) must not park a source forever.
MAX_RETRY_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class Fetched:
    """A response that passed `error_for`: status (2xx or 304), headers and the whole body."""

    status: int
    url: str
    headers: httpx.Headers
    content: bytes


def build_client(
    settings: Settings, *, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """An httpx client that never retries or sleeps on its own; `transport` is for tests."""
    return httpx.Client(
        timeout=settings.http_timeout_seconds,
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
        # retries=0 is httpx's default; spelled out because a retrying client would block.
        transport=transport or httpx.HTTPTransport(retries=0),
    )


def retry_at_from(headers: Mapping[str, str], now: datetime | None = None) -> datetime:
    """When to come back after a 429: Retry-After as seconds or HTTP date, else now + 15 min."""
    now = now or utcnow()
    value = (headers.get("retry-after") or "").strip()
    delay: timedelta | None = None
    if value.isdigit():
        delay = timedelta(seconds=min(int(value), int(MAX_RETRY_AFTER.total_seconds())))
    elif value:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                # RFC 9110 dates are GMT; a zone-less one is read the same way.
                when = when.replace(tzinfo=UTC)
            delay = to_naive_utc(when) - now
    if delay is None:
        delay = DEFAULT_RETRY_AFTER
    return now + max(timedelta(0), min(delay, MAX_RETRY_AFTER))


def error_for(outcome: httpx.Response | Exception, *, what: str) -> CollectorError | None:
    """The collector error for a response or an httpx exception; None for 2xx and 304."""
    if isinstance(outcome, Exception):
        return _exception_error(outcome, what)
    status = outcome.status_code
    if 200 <= status < 300 or status == 304:
        return None
    label = f"{what}: HTTP {status}"
    if status == 429:
        return RateLimited(f"{label} (rate limited)", retry_at_from(outcome.headers))
    if status >= 500 or status in (408, 425):
        return TransientError(label)
    if status in (401, 403, 407):
        return AuthFailed(f"{label} (access refused)")
    if status in (404, 410):
        return SourceConfigError(f"{label} (not found: check the source's configuration)")
    if 300 <= status < 400:
        # Redirects are followed; one left here had no usable Location header.
        return TransientError(f"{label} (redirect without a usable Location)")
    return SourceConfigError(f"{label} (the platform rejected the request)")


def _exception_error(exc: Exception, what: str) -> CollectorError:
    if isinstance(exc, CollectorError):
        return exc
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return SourceConfigError(f"{what}: invalid URL ({exc})")
    if isinstance(exc, httpx.TimeoutException):
        return TransientError(f"{what}: timed out ({type(exc).__name__})")
    # Connect/read/protocol errors, proxy failures, redirect loops, bad content encoding.
    return TransientError(f"{what}: {type(exc).__name__}: {exc}")


def get(
    client: httpx.Client,
    url: str,
    *,
    what: str,
    headers: Mapping[str, str] | None = None,
    max_bytes: int = MAX_BODY_BYTES,
) -> Fetched:
    """One GET with errors mapped through `error_for`; the body is read up to `max_bytes`."""
    try:
        with client.stream("GET", url, headers=dict(headers or {})) as response:
            error = error_for(response, what=what)
            if error is not None:
                raise error
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise SourceConfigError(f"{what}: response larger than {max_bytes} bytes")
                chunks.append(chunk)
            return Fetched(
                response.status_code, str(response.url), response.headers, b"".join(chunks)
            )
    except CollectorError:
        raise
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise _exception_error(exc, what) from exc
