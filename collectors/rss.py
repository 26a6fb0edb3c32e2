"""RSS 2.0 / Atom feeds: fetched with httpx (our timeouts and errors), parsed by feedparser.

Cursor (JSON)::

    {"etag": "\\"abc\\"" | null, "modified": "Wed, 18 Nov 2026 10:00:00 GMT" | null,
     "seen": ["3f2a9c...", ...],  # 16-hex digests of recently seen entry ids, newest first
     "partial": false}            # true: the last document was only partly read (budget)

Each fetch is one conditional GET (``If-None-Match`` / ``If-Modified-Since`` from the cursor):
304 means an unchanged feed and an empty batch. Feeds re-order entries, re-publish old ones and
rewrite dates, so newness is decided by entry id, not by time: an entry whose id is in ``seen``
is not emitted again (anything that slips through is a harmless duplicate, since ingest is
idempotent). ``seen`` keeps the ids of the whole last document plus older ones up to
``SEEN_WINDOW``. When the budget cuts a document short, ``partial`` makes the next fetch
unconditional so the rest is read even though the feed itself has not changed.
``backfill_since`` applies to the very first fetch only (no ``seen`` yet): older entries are
left out; a feed only carries its latest entries, which is all the history there is.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import time
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from collectors import http
from collectors.base import Batch, Budget, SourceConfigError, TransientError, parse_config
from collectors.models import MentionKind, Platform
from collectors.schemas import AuthorIn, MentionCreate
from core.settings import Settings
from core.timeutil import to_naive_utc, utcnow

log = logging.getLogger(__name__)

SEEN_WINDOW = 1000
_LANGUAGE = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_EMAIL_AND_NAME = re.compile(r"^[^\s@()]+@[^\s()]+\s*\((.+)\)$")
_CHARSET = re.compile(r"charset=[\"']?([\w.:-]+)", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"<\?xml[^>]*encoding=[\"']([\w.:-]+)[\"']", re.IGNORECASE)


class RssSourceConfig(BaseModel):
    """Which feed to read and which of its entries to keep."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2048, description="The feed's http(s) URL (RSS 2.0 or Atom)")
    match_terms: list[str] = Field(
        default_factory=list,
        description="Keep only entries whose title, summary or content mentions one of these "
        "(case-insensitive); empty keeps every entry",
    )
    backfill_since: datetime | None = Field(
        default=None, description="First run only: leave out entries published before this"
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an http:// or https:// URL with a host")
        return value

    @field_validator("match_terms")
    @classmethod
    def _terms(cls, value: list[str]) -> list[str]:
        return [term.strip() for term in value if term.strip()]

    @field_validator("backfill_since")
    @classmethod
    def _naive_utc(cls, value: datetime | None) -> datetime | None:
        return to_naive_utc(value) if value is not None else None


def json_safe(value: Any) -> Any:
    """feedparser structures as plain JSON values (struct_time becomes an ISO string)."""
    if isinstance(value, time.struct_time):
        return datetime(*value[:6]).isoformat()
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _digest(external_id: str) -> str:
    return hashlib.sha256(external_id.encode("utf-8", errors="replace")).hexdigest()[:16]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def external_id(entry: dict[str, Any], feed_url: str) -> str:
    """The entry's id (guid), else its link, else a digest of feed, title and date."""
    link = _text(entry.get("link")).strip()
    if link and not urlsplit(link).scheme:
        link = urljoin(feed_url, link)
    for candidate in (entry.get("id"), link):
        value = _text(candidate).strip()
        if value:
            if len(value) <= 255:
                return value
            return "sha256:" + hashlib.sha256(value.encode("utf-8", errors="replace")).hexdigest()
    title = _text(entry.get("title"))
    date = _text(entry.get("published")) or _text(entry.get("updated"))
    if not title and not date:
        raise ValueError("entry has no id, link, title or date")
    # The feed URL keeps two feeds' undated "Weekly update" entries apart.
    basis = f"{feed_url}\n{title}\n{date}"
    return "sha256:" + hashlib.sha256(basis.encode("utf-8", errors="replace")).hexdigest()


def _body(entry: dict[str, Any]) -> str:
    content = entry.get("content")
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("value"), str):
                return str(part["value"])
    return _text(entry.get("summary"))


def _searchable(entry: dict[str, Any]) -> str:
    parts = [_text(entry.get("title")), _text(entry.get("summary"))]
    content = entry.get("content")
    if isinstance(content, list):
        parts.extend(_text(p.get("value")) for p in content if isinstance(p, dict))
    return "\n".join(parts).casefold()


def _published(entry: dict[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if isinstance(value, time.struct_time):
            return datetime(*value[:6])
    return None


def _language(entry: dict[str, Any], feed: dict[str, Any]) -> str | None:
    candidates: list[Any] = []
    content = entry.get("content")
    if isinstance(content, list):
        candidates.extend(p.get("language") for p in content if isinstance(p, dict))
    for key in ("summary_detail", "title_detail"):
        detail = entry.get(key)
        if isinstance(detail, dict):
            candidates.append(detail.get("language"))
    candidates.append(feed.get("language"))
    for value in candidates:
        if isinstance(value, str) and len(value) <= 16 and _LANGUAGE.match(value.strip()):
            return value.strip()
    return None


def _author(entry: dict[str, Any]) -> AuthorIn | None:
    written = _text(entry.get("author")).strip()
    # RSS 2.0's "email (Name)": feedparser's own split cuts long domains mid-way.
    match = _EMAIL_AND_NAME.match(written)
    if match:
        name = match.group(1)
    else:
        detail = entry.get("author_detail")
        name = _text(detail.get("name")) if isinstance(detail, dict) else ""
    name = (name.strip() or written)[:255]
    return AuthorIn(handle=name, name=name) if name else None


def _http_url(value: Any, base: str) -> str | None:
    text = _text(value).strip()
    if text and not urlsplit(text).scheme:
        text = urljoin(base, text)
    if text.lower().startswith(("http://", "https://")) and len(text) <= 2048:
        return text
    return None


def normalise_entry(
    entry: dict[str, Any], feed: dict[str, Any], *, entry_id: str, base_url: str, now: datetime
) -> MentionCreate:
    """One feed entry as a post mention; raises ValueError when it cannot be one."""
    raw = json_safe(entry)
    created_at = _published(entry)
    if created_at is None:
        created_at = now
        raw["_created_at"] = "the entry has no usable date: created_at is the collection time"
        log.info("feed entry without a date", extra={"external_id": entry_id})
    title = _text(entry.get("title"))
    return MentionCreate(
        platform=Platform.rss,
        external_id=entry_id,
        kind=MentionKind.post,
        text=_body(entry),
        title=title[:500] or None,
        url=_http_url(entry.get("link"), base_url),
        language=_language(entry, feed),
        created_at=created_at,
        thread_id=entry_id,
        author=_author(entry),
        raw=raw,
    )


def repair_utf8(body: bytes, content_type: str) -> tuple[bytes, bool]:
    """Replace invalid bytes in a UTF-8 document with U+FFFD; True when something was replaced.

    Left alone, feedparser re-reads such a document as windows-1252, garbling every valid
    non-ASCII character in it to save a few broken ones.
    """
    try:
        body.decode("utf-8")
        return body, False
    except UnicodeDecodeError:
        pass
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return body, False
    match = _CHARSET.search(content_type) or _XML_ENCODING.search(body[:512])
    declared = match.group(1) if match else "utf-8"
    if isinstance(declared, bytes):
        declared = declared.decode("ascii", errors="replace")
    if declared.strip().lower().replace("_", "-") not in ("utf-8", "utf8"):
        return body, False
    return body.decode("utf-8", errors="replace").encode("utf-8"), True


def _is_blank(body: bytes) -> bool:
    return not body.strip(b" \t\r\n\x00\xef\xbb\xbf")


class RssCollector:
    """Reads one RSS or Atom feed, keeping new entries that mention the configured terms."""

    platform = "rss"

    def __init__(self, config: RssSourceConfig, client: httpx.Client) -> None:
        self.config = config
        self.client = client
        self._terms = [term.casefold() for term in config.match_terms]

    def close(self) -> None:
        """Release the HTTP client's connections."""
        self.client.close()

    def _wanted(self, entry: dict[str, Any]) -> bool:
        if not self._terms:
            return True
        text = _searchable(entry)
        return any(term in text for term in self._terms)

    def fetch(self, cursor: dict[str, Any], budget: Budget) -> Batch:
        """One conditional GET of the feed; new entries become mentions."""
        if budget.max_items <= 0 or budget.max_requests <= 0:
            return Batch([], dict(cursor), more=True, requests=0)
        url = self.config.url
        headers: dict[str, str] = {}
        if not cursor.get("partial"):
            if cursor.get("etag"):
                headers["If-None-Match"] = str(cursor["etag"])
            if cursor.get("modified"):
                headers["If-Modified-Since"] = str(cursor["modified"])
        fetched = http.get(self.client, url, what=f"feed {url}", headers=headers)
        if fetched.status == 304:
            return Batch([], dict(cursor), more=False, requests=1)
        if _is_blank(fetched.content):
            raise TransientError(f"feed {url}: empty response body")

        content_type = fetched.headers.get("content-type", "application/xml")
        body, repaired = repair_utf8(fetched.content, content_type)
        parsed = feedparser.parse(
            # A file object, never bytes: given bytes that name a local path, feedparser opens it.
            io.BytesIO(body),
            response_headers={
                # No content-location: given a base, feedparser's lenient mode turns a plain
                # guid such as "item-7" into a URL, and the id would change with the parser.
                "content-type": content_type,
                "content-language": fetched.headers.get("content-language", ""),
            },
            # Text is stored verbatim; the inbox escapes it when showing it.
            sanitize_html=False,
            resolve_relative_uris=False,
        )
        entries = [e for e in parsed.get("entries", []) if isinstance(e, dict)]
        feed = parsed.get("feed") if isinstance(parsed.get("feed"), dict) else {}
        skipped: list[str] = []
        if repaired:
            skipped.append(f"feed {url}: invalid UTF-8 bytes were replaced with U+FFFD")
        if parsed.get("bozo"):
            if not entries and not parsed.get("version"):
                raise SourceConfigError(
                    f"feed {url}: the response ({content_type}) is not an RSS or Atom feed"
                )
            exc = parsed.get("bozo_exception")
            skipped.append(
                f"feed {url} is malformed ({type(exc).__name__}: {exc}); "
                f"kept the {len(entries)} entries that could be read"[:300]
            )
        elif not entries and not parsed.get("version"):
            raise SourceConfigError(f"feed {url}: the response is not an RSS or Atom feed")

        first_run = "seen" not in cursor
        since = self.config.backfill_since if first_run else None
        seen_before = [str(key) for key in cursor.get("seen") or []]
        seen = set(seen_before)
        document: list[str] = []
        mentions: list[MentionCreate] = []
        cut = False
        now = utcnow()
        for entry in entries:
            try:
                entry_id = external_id(entry, url)
            except ValueError as exc:
                skipped.append(f"feed {url}: {exc}")
                continue
            key = _digest(entry_id)
            if key in seen:
                document.append(key)
                continue
            if len(mentions) >= budget.max_items:
                cut = True
                break
            document.append(key)
            seen.add(key)
            if not self._wanted(entry):
                continue
            published = _published(entry)
            if since and published and published < since:
                continue
            try:
                mentions.append(
                    normalise_entry(entry, feed, entry_id=entry_id, base_url=fetched.url, now=now)
                )
            except (ValueError, TypeError) as exc:
                reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
                skipped.append(f"feed entry {entry_id[:100]}: {reason}"[:300])

        # The whole current document stays known, however long; older ids fill up to the window.
        window = list(dict.fromkeys(document + seen_before))[: max(len(document), SEEN_WINDOW)]
        new_cursor: dict[str, Any] = {
            "etag": fetched.headers.get("etag"),
            "modified": fetched.headers.get("last-modified"),
            "seen": window,
            "partial": cut,
        }
        return Batch(mentions, new_cursor, more=cut, requests=1, skipped=skipped)


def build(query: str, config: dict[str, Any], settings: Settings) -> RssCollector:
    """An RSS/Atom collector for a source; `query` is unused (filter with match_terms)."""
    parsed = parse_config(RssSourceConfig, "rss", config)
    return RssCollector(parsed, http.build_client(settings))
