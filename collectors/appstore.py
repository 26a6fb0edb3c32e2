"""Apple App Store customer reviews from Apple's public per-country review feed.

Feed: ``https://itunes.apple.com/{country}/rss/customerreviews/page={n}/id={app_id}/sortby=mostrecent/json``
(no key, newest first, about 50 reviews a page, pages 1..10: at most ~500 reviews per country
ever reachable; page 1 may start with an entry describing the app itself, which is ignored).
The feed is legacy and undocumented: its shape is read defensively and every review that does
not fit is reported in ``Batch.skipped`` instead of failing the page.

Cursor (JSON)::

    {
      "countries": {"us": {"newest_id": "1234", "newest_updated": "2026-11-20T10:00:00"}},
      "walk": {"country": "us", "page": 2,
               "top_id": "1240", "top_updated": "...",    # newest review emitted by this walk
               "last_id": "1201", "last_updated": "..."}  # oldest review emitted so far
    }

A run walks each configured country in turn, page 1 onwards, one page per ``fetch``, and stops
a country at the first review older than its ``newest_*`` mark (the newest review of the last
completed walk), at the feed's last page, at page 10, or when a page past the first is refused
(Apple answers 4xx past a feed's real depth). The mark only moves when a walk
completes, so a walk interrupted by a crash, a rate limit or the budget resumes at the stored
page with the old mark still in force: nothing between the mark and the walk is lost. Reviews
newer than ``last_*`` met on a later page are skipped: they were already emitted (new reviews
push older ones down a page) or arrived after the walk began (the next walk starts above them).
The very first walk of a country goes back to ``backfill_since`` (within the 10-page limit), or
without it reads page 1 only. Times are naive UTC ISO strings.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from collectors import http
from collectors.base import (
    AuthFailed,
    Batch,
    Budget,
    SourceConfigError,
    TransientError,
    parse_config,
)
from collectors.models import MentionKind, Platform
from collectors.schemas import AuthorIn, MentionCreate
from core.settings import Settings
from core.timeutil import parse_datetime, to_naive_utc

FEED_URL = (
    "https://itunes.apple.com/{country}/rss/customerreviews/page={page}/id={app_id}"
    "/sortby=mostrecent/json"
)
APP_URL = "https://apps.apple.com/{country}/app/id{app_id}"
MAX_PAGES = 10
_PAGE_IN_HREF = re.compile(r"/page=(\d+)/")
# Keys only the app's own metadata entry carries (reviews never do).
_METADATA_KEYS = ("im:name", "im:artist", "im:releaseDate", "im:price")


class AppStoreSourceConfig(BaseModel):
    """Which app's reviews to collect, and from which App Store countries."""

    model_config = ConfigDict(extra="forbid")

    app_id: str = Field(
        pattern=r"^[0-9]{1,20}$",
        description="Numeric App Store id (the digits after 'id' in the app's store URL)",
    )
    countries: list[str] = Field(
        default_factory=lambda: ["us"],
        min_length=1,
        description="Storefronts to read, as ISO 3166 two-letter codes (each has its own reviews)",
    )
    backfill_since: datetime | None = Field(
        default=None,
        description="First run only: collect reviews back to this time (at most 10 pages of 50)",
    )

    @field_validator("app_id", mode="before")
    @classmethod
    def _id_to_str(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        out: list[str] = []
        for code in value:
            code = code.strip().lower()
            if not re.fullmatch(r"[a-z]{2}", code):
                raise ValueError(f"{code!r} is not a two-letter country code")
            if code not in out:
                out.append(code)
        return out

    @field_validator("backfill_since")
    @classmethod
    def _naive_utc(cls, value: datetime | None) -> datetime | None:
        return to_naive_utc(value) if value is not None else None


@dataclass(frozen=True)
class _Mark:
    """A review's position in the newest-first feed."""

    id: str
    updated: datetime

    @classmethod
    def load(cls, state: dict[str, Any] | None, prefix: str) -> _Mark | None:
        if not state or not state.get(f"{prefix}_id") or not state.get(f"{prefix}_updated"):
            return None
        return cls(str(state[f"{prefix}_id"]), parse_datetime(str(state[f"{prefix}_updated"])))

    def dump(self, prefix: str) -> dict[str, str]:
        return {f"{prefix}_id": self.id, f"{prefix}_updated": self.updated.isoformat()}


def _label(node: Any) -> str | None:
    """The ``label`` of a feed node such as ``{"label": "5"}``."""
    if isinstance(node, dict):
        value = node.get("label")
        if isinstance(value, str):
            return value
    return None


def _as_list(node: Any) -> list[Any]:
    # The feed unwraps one-element arrays into a bare object.
    if isinstance(node, list):
        return node
    return [node] if isinstance(node, dict) else []


def _href(node: Any, rel: str | None = None) -> str | None:
    for link in _as_list(node):
        attrs = link.get("attributes") if isinstance(link, dict) else None
        if not isinstance(attrs, dict):
            continue
        href = attrs.get("href")
        if isinstance(href, str) and (rel is None or attrs.get("rel") == rel):
            return href
    return None


def _last_page(feed: dict[str, Any]) -> int:
    href = _href(feed.get("link"), "last")
    match = _PAGE_IN_HREF.search(href or "")
    return min(int(match.group(1)), MAX_PAGES) if match else MAX_PAGES


def _is_metadata(entry: dict[str, Any]) -> bool:
    return "im:rating" not in entry and any(key in entry for key in _METADATA_KEYS)


def _http_url(value: str | None) -> str | None:
    if value and value.lower().startswith(("http://", "https://")) and len(value) <= 2048:
        return value
    return None


def normalise_review(entry: dict[str, Any], *, country: str, app_id: str) -> MentionCreate:
    """One feed entry as a review mention; raises ValueError when it is not a usable review."""
    review_id = (_label(entry.get("id")) or "").strip()
    if not review_id:
        raise ValueError("review without id.label")
    updated = _label(entry.get("updated"))
    if not updated:
        raise ValueError(f"review {review_id}: no updated.label")
    rating_text = (_label(entry.get("im:rating")) or "").strip()
    if not rating_text.isdigit():
        raise ValueError(f"review {review_id}: im:rating {rating_text!r} is not a number")
    author_node = entry.get("author")
    name = _label(author_node.get("name")) if isinstance(author_node, dict) else None
    name = name.strip()[:255] if name and name.strip() else None
    votes = (_label(entry.get("im:voteCount")) or "").strip()
    title = _label(entry.get("title"))
    return MentionCreate(
        platform=Platform.appstore,
        external_id=review_id,
        kind=MentionKind.review,
        text=_label(entry.get("content")) or "",
        title=title[:500] if title else None,
        rating=int(rating_text),
        created_at=parse_datetime(updated),
        url=_http_url(_href(entry.get("link"))) or APP_URL.format(country=country, app_id=app_id),
        thread_id=review_id,
        # The feed has no reviewer id: the nickname is all there is (and is not unique).
        author=AuthorIn(handle=name, name=name) if name else None,
        metrics={"votes": int(votes)} if votes.isdigit() else {},
        # The app version (im:version) stays in raw: the schema has no field for it.
        raw={**entry, "_country": country},
    )


class AppStoreCollector:
    """Reads one app's newest reviews per country from Apple's public review feed."""

    platform = "appstore"

    def __init__(self, config: AppStoreSourceConfig, client: httpx.Client) -> None:
        self.config = config
        self.client = client

    def close(self) -> None:
        """Release the HTTP client's connections."""
        self.client.close()

    def page_url(self, country: str, page: int) -> str:
        """The feed URL of one page for one country."""
        return FEED_URL.format(country=country, page=page, app_id=self.config.app_id)

    def _load(self, url: str, country: str, page: int) -> dict[str, Any]:
        what = f"App Store reviews {self.config.app_id}/{country} page {page}"
        fetched = http.get(self.client, url, what=what)
        try:
            # Stray invalid bytes must not cost the whole page.
            data = json.loads(fetched.content.decode("utf-8", errors="replace"))
        except ValueError as exc:
            raise TransientError(f"{what}: response is not JSON ({exc})") from None
        feed = data.get("feed") if isinstance(data, dict) else None
        if not isinstance(feed, dict):
            raise TransientError(f"{what}: response has no 'feed' object")
        return feed

    def fetch(self, cursor: dict[str, Any], budget: Budget) -> Batch:
        """Fetch the next page of the current country's walk (one request)."""
        countries = self.config.countries
        state: dict[str, dict[str, Any]] = {
            code: dict(value)
            for code, value in (cursor.get("countries") or {}).items()
            if isinstance(value, dict)
        }
        walk = cursor.get("walk")
        if not isinstance(walk, dict) or walk.get("country") not in countries:
            walk = {"country": countries[0], "page": 1}
        if budget.max_items <= 0 or budget.max_requests <= 0:
            return Batch([], {"countries": state, "walk": walk}, more=True, requests=0)

        country = str(walk["country"])
        page = max(1, min(int(walk.get("page", 1)), MAX_PAGES))
        mark = _Mark.load(state.get(country), "newest")
        top = _Mark.load(walk, "top")
        last = _Mark.load(walk, "last")
        since = self.config.backfill_since

        skipped: list[str] = []
        try:
            feed = self._load(self.page_url(country, page), country, page)
        except (AuthFailed, SourceConfigError) as exc:
            if page == 1:
                raise
            # Past its real depth the feed answers 4xx rather than an empty page: the app and
            # the storefront exist (page 1 worked), so this is the end of the walk.
            skipped.append(f"{exc}; taken as the end of the feed"[:300])
            feed = {}
        raw_entries = feed.get("entry")
        if raw_entries is not None and not isinstance(raw_entries, list | dict):
            skipped.append(f"{country} page {page}: 'entry' is {type(raw_entries).__name__}")
        entries: list[Any] = [
            e for e in _as_list(raw_entries) if not (isinstance(e, dict) and _is_metadata(e))
        ]

        mentions: list[MentionCreate] = []
        reached_old = cut = False
        for entry in entries:
            if not isinstance(entry, dict):
                skipped.append(f"{country} page {page}: entry is {type(entry).__name__}")
                continue
            try:
                mention = normalise_review(entry, country=country, app_id=self.config.app_id)
            except (ValueError, TypeError) as exc:
                reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
                skipped.append(f"{country} page {page}: {reason}"[:300])
                continue
            here = _Mark(mention.external_id, mention.created_at)
            if last and (here.updated > last.updated or here.id == last.id):
                continue
            if mark and (here.updated < mark.updated or here.id == mark.id):
                reached_old = True
                break
            if not mark and since and here.updated < since:
                reached_old = True
                break
            if len(mentions) >= budget.max_items:
                cut = True
                break
            mentions.append(mention)
            last = here
            if top is None or here.updated > top.updated:
                top = here

        done = reached_old
        if not done and not cut:
            first_run_without_backfill = mark is None and since is None
            if not entries or page >= _last_page(feed) or first_run_without_backfill:
                done = True
            else:
                page += 1

        more = True
        if done:
            newest = max((m for m in (mark, top) if m), key=lambda m: m.updated, default=None)
            if newest:
                state[country] = newest.dump("newest")
            position = countries.index(country)
            if position + 1 < len(countries):
                walk = {"country": countries[position + 1], "page": 1}
            else:
                walk, more = None, False
        else:
            walk = {"country": country, "page": page}
            for value, prefix in ((top, "top"), (last, "last")):
                if value:
                    walk.update(value.dump(prefix))
        new_cursor: dict[str, Any] = {"countries": state}
        if walk:
            new_cursor["walk"] = walk
        return Batch(mentions, new_cursor, more=more, requests=1, skipped=skipped)


def build(query: str, config: dict[str, Any], settings: Settings) -> AppStoreCollector:
    """An App Store collector for a source; `query` is unused (the app id is in config)."""
    parsed = parse_config(AppStoreSourceConfig, "appstore", config)
    return AppStoreCollector(parsed, http.build_client(settings))
