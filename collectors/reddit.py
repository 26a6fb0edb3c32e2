"""Reddit collector: brand-term search or a brand subreddit's new posts, plus new comments.

What it reads (read-only "script" app, application-only OAuth; no user account):

- ``mode="search"``: ``GET /r/{subs}/search/?q=<query>&sort=new&syntax=lucene&t=<window>``
  (what ``subreddit.search(query, sort="new", syntax="lucene", time_filter=...)`` sends);
  ``subs`` is ``all`` by default, or several subreddits joined with ``+``.
- ``mode="new"``: ``GET /r/{subs}/new`` (``subreddit.new()``), kept when the title or selftext
  contains one of the query's terms (everything when the query is empty).
- ``include_comments``: ``GET /r/{subs}/comments/`` (``subreddit.comments()``), kept when the
  body contains one of the query's terms.

Raw JSON, not praw objects. Pages are fetched with ``praw.Reddit.request`` (public praw API:
prawcore's OAuth, error classes and ``raw_json=1``) and normalised from the Listing JSON
itself, because (1) each child is validated on its own, so one malformed child is skipped
instead of failing praw's objectifier for the whole page; (2) praw models fetch lazily: reading
an attribute a listing lacked silently issues another request, which would break the one
request per fetch rule; (3) ``raw`` is then exactly what Reddit sent.

Incremental and resumable: listings are newest first, so every run walks DOWN from the top of
the listing with ``after=<fullname>`` until it reaches the high-water mark stored by the
previous complete walk ("old ground"), or the listing ends. The high-water mark moves only when
a walk completes, to the newest item that walk saw, so a crash or a budget cut in the middle of
a walk resumes at the stored ``after`` anchor and the next walk still stops at the old mark:
nothing between the two is lost, and at most one page is read twice (ingest is idempotent).
Old ground is decided by comparing ids (base-36 fullnames grow with creation time) and
``created_utc``, never by sending ``before=<newest>``: ``before`` on a deleted or removed item
returns an empty page that looks exactly like "nothing new". For the same reason an ``after``
anchor that vanished mid-walk (empty page) is replaced by the next of up to three anchors kept
from the bottom of the last page; only when all of them come back empty does the walk end.
Items up to ``LOOKBACK`` older than the mark are read again, so posts that search indexes late,
or that mods approve from the spam filter a little later, are still caught (as duplicates the
service ignores when already stored).

Cursor (JSON, stored with each batch)::

    {
      "v": 1,
      "stream": "submissions",           # which listing the next fetch reads ("comments" next
                                         # when include_comments and submissions are done)
      "newest": {"submissions": "t3_1h2k3l", "comments": "t1_m4n5o6p"},
      "newest_created_utc": {"submissions": 1764236400.0, "comments": 1764236100.0},
      "after": ["t3_1h1zzz", "t3_1h1zzy", "t3_1h1zzx"],   # null: no walk in progress;
                                         # else the anchor to continue from, then fallbacks
      "walk_top": {"fullname": "t3_1h2k9q", "created_utc": 1764240000.0},  # newest seen by
                                         # the walk in progress: the next high-water mark
      "pages": 2                         # pages read by the walk in progress
    }

First run: with ``backfill_since`` the walk goes down to that date (within Reddit's limits:
listings end after about 1000 items, search after the ``t`` window); without it, the first run
reads one page and starts listening from there.

No sleeping, no retrying: praw's ``ratelimit_seconds`` only governs its sleep on a RATELIMIT
API error of write calls, and is set to 0 anyway. prawcore itself sleeps in two places, both
replaced on the sessions built here (``make_reddit``): its ``RateLimiter.delay`` sleeps before
each request to spread requests over the ``X-Ratelimit-Reset`` window (up to 10 s while
``X-Ratelimit-Remaining`` > 0, until the reset when it reaches 0), and its
``FiniteRetryStrategy`` retries 5xx, 408, connection errors and a 401 twice after 0-4 s sleeps.
Here the limiter never sleeps: an exhausted quota raises ``RateLimited`` until the reset, and
spreading requests is left to the scheduler and ``Budget``; the retry strategy never retries.
``make_reddit`` refuses to build a client if prawcore's internals moved.

Reddit's limits respected: 100 items per page (``limit`` <= 100); the OAuth quota of about 100
requests per minute per client id, averaged over a 10-minute window (``X-Ratelimit-*``
headers; 429 answers carry ``x-ratelimit-reset`` seconds); listings reach back about 1000 items;
search's ``t`` window is chosen to cover the high-water mark (week, month, year, all).
"""

from __future__ import annotations

import configparser
import logging
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

import praw
import praw.exceptions
import prawcore
import prawcore.exceptions
import requests
from prawcore.rate_limit import RateLimiter
from prawcore.sessions import FiniteRetryStrategy
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from collectors.base import (
    AuthFailed,
    Batch,
    Budget,
    CollectorError,
    RateLimited,
    SourceConfigError,
    TransientError,
    parse_config,
)
from collectors.models import MentionKind, Platform
from collectors.schemas import AuthorIn, MentionCreate
from core.settings import Settings
from core.timeutil import to_naive_utc, utcnow

log = logging.getLogger(__name__)

REDDIT_URL = "https://www.reddit.com"
OAUTH_URL = "https://oauth.reddit.com"
MAX_PAGE = 100
MAX_QUERY_CHARS = 512
# Used when a 429 carries no reset header; Reddit's window is 10 minutes.
DEFAULT_RETRY_AFTER = timedelta(minutes=10)
# A reset header claiming more than this is not believed (Reddit's window is 600 s).
MAX_RETRY_AFTER_SECONDS = 3600.0
LOOKBACK = timedelta(minutes=15)
FALLBACK_ANCHORS = 3
CURSOR_VERSION = 1

Stream = Literal["submissions", "comments"]
_KIND_OF_STREAM: dict[str, str] = {"submissions": "t3", "comments": "t1"}
_FULLNAME = re.compile(r"^(t[13])_([0-9a-z]{1,16})$")
_SUBREDDIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")
_USERNAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_FIREHOSES = {"all", "popular"}
_PLACEHOLDER_TEXT = {"[deleted]", "[removed]"}
_TIME_FILTERS: tuple[tuple[str, timedelta], ...] = (
    ("week", timedelta(days=7)),
    ("month", timedelta(days=30)),
    ("year", timedelta(days=365)),
)
_AUTH_STATUSES = {401, 403}
_CONFIG_STATUSES = {400, 404, 413, 414, 451}
# Reddit's 403/404 JSON "reason" for a subreddit nobody may read: a config problem, not auth.
_UNREADABLE_REASONS = {"private", "quarantined", "banned", "gold_only", "restricted"}


class RedditSourceConfig(BaseModel):
    """A Reddit source's ``config`` JSON (the search terms are the source's ``query``)."""

    model_config = ConfigDict(extra="forbid")

    subreddits: list[str] = Field(
        default_factory=lambda: ["all"],
        min_length=1,
        max_length=100,
        description='Subreddit names ("r/" optional); ["all"] searches all of Reddit',
    )
    mode: Literal["search", "new"] = Field(
        default="search",
        description='"search": search the query (sort new, lucene); "new": every new post of '
        "the subreddits, kept when it contains a query term (all when the query is empty)",
    )
    include_comments: bool = Field(
        default=False, description="Also read the subreddits' new comments that match the query"
    )
    brand_usernames: list[str] = Field(
        default_factory=list, description="The brand's own accounts: their items get is_brand"
    )
    limit: int = Field(default=MAX_PAGE, ge=1, le=MAX_PAGE, description="Items per page")
    backfill_since: datetime | None = Field(
        default=None, description="First run only: read history back to this date (ISO 8601)"
    )

    @field_validator("subreddits", mode="before")
    @classmethod
    def _split_multis(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            return value
        names: list[Any] = []
        for item in value:
            names.extend(item.split("+") if isinstance(item, str) else [item])
        return names

    @field_validator("subreddits")
    @classmethod
    def _check_subreddits(cls, value: list[str]) -> list[str]:
        seen: dict[str, str] = {}
        for raw in value:
            name = raw.strip().removeprefix("/").removeprefix("r/").strip("/")
            # Names go into the URL path: only what Reddit allows in a subreddit name.
            if not _SUBREDDIT.fullmatch(name):
                raise ValueError(f"not a subreddit name: {raw!r}")
            seen.setdefault(name.lower(), name)
        names = list(seen.values())
        if len(names) > 1 and _FIREHOSES & set(seen):
            raise ValueError('"all"/"popular" cannot be combined with other subreddits')
        return names

    @field_validator("brand_usernames")
    @classmethod
    def _check_usernames(cls, value: list[str]) -> list[str]:
        names = []
        for raw in value:
            name = raw.strip().removeprefix("/").removeprefix("u/").lstrip("@")
            if not _USERNAME.fullmatch(name):
                raise ValueError(f"not a Reddit username: {raw!r}")
            names.append(name)
        return names

    @field_validator("backfill_since")
    @classmethod
    def _naive_utc(cls, value: datetime | None) -> datetime | None:
        return to_naive_utc(value) if value is not None else None

    @model_validator(mode="after")
    def _no_firehose_listing(self) -> RedditSourceConfig:
        # r/all's new posts and comments arrive faster than any page budget can follow.
        if _FIREHOSES & {s.lower() for s in self.subreddits}:
            if self.mode == "new":
                raise ValueError('mode "new" needs named subreddits, not "all"/"popular"')
            if self.include_comments:
                raise ValueError('include_comments needs named subreddits, not "all"/"popular"')
        return self

    @property
    def path_name(self) -> str:
        """The subreddits as Reddit's multi-subreddit path segment (``a+b``)."""
        return "+".join(self.subreddits)

    @property
    def searches_all(self) -> bool:
        """True when the source searches all of Reddit (praw's rule for ``restrict_sr``)."""
        return self.subreddits[0].lower() == "all"


class RedditAPI(Protocol):
    """The part of ``praw.Reddit`` the collector uses: one raw JSON request."""

    def request(self, *, method: str, path: str, params: dict[str, str | int] | None = None) -> Any:
        """Send one request and return the parsed JSON."""
        ...


# --- the praw client, made unable to sleep or retry ------------------------------------------


class QuotaExhaustedError(Exception):
    """prawcore's limiter would have slept until the quota resets."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"Reddit quota used up for {seconds:.0f} s")
        self.seconds = seconds


class NoWaitRateLimiter(RateLimiter):
    """prawcore's rate limiter that raises where the original would sleep."""

    def delay(self) -> None:
        """Raise when Reddit said the quota is spent and its window has not reset yet."""
        if self.remaining is None or self.remaining > 0 or self.next_request_timestamp_ns is None:
            # prawcore would also sleep (<= 10 s) to spread requests over the window; our
            # scheduler and Budget pace requests, so that sleep is skipped.
            return
        seconds = (self.next_request_timestamp_ns - time.monotonic_ns()) / 1e9
        if seconds > 0:
            raise QuotaExhaustedError(seconds)

    def update(self, *, response_headers: Mapping[str, str]) -> None:
        """Track the X-Ratelimit headers; malformed ones are forgotten, not fatal."""
        try:
            super().update(response_headers=response_headers)
        except (KeyError, ValueError, TypeError, ArithmeticError):
            self.remaining = self.used = self.next_request_timestamp_ns = None


@dataclass(frozen=True)
class NoRetry(FiniteRetryStrategy):
    """A retry strategy that never retries and never sleeps: failures go to the runner."""

    retries: int = 0

    def _sleep_seconds(self) -> float | None:
        return None


class _Requestor(prawcore.Requestor):
    """prawcore's requestor that remembers the last response, for errors praw mislabels."""

    last_response: requests.Response | None = None

    def request(self, *args: Any, timeout: float | None = None, **kwargs: Any) -> requests.Response:
        """Send the request and keep its response."""
        self.last_response = None
        response = super().request(*args, timeout=timeout, **kwargs)
        self.last_response = response
        return response


def make_reddit(settings: Settings, *, session: requests.Session | None = None) -> praw.Reddit:
    """Construct the read-only praw client that never sleeps and never retries."""
    secret = settings.reddit_client_secret.get_secret_value()
    missing = [
        name
        for name, value in (
            ("SOCIALCRM_REDDIT_CLIENT_ID", settings.reddit_client_id),
            ("SOCIALCRM_REDDIT_CLIENT_SECRET", secret),
            ("SOCIALCRM_REDDIT_USER_AGENT", settings.reddit_user_agent),
        )
        if not value.strip()
    ]
    if missing:
        raise SourceConfigError(f"Reddit credentials missing: set {', '.join(missing)}")
    try:
        reddit = praw.Reddit(
            client_id=settings.reddit_client_id,
            client_secret=secret,
            user_agent=settings.reddit_user_agent,
            check_for_updates=False,
            check_for_async=False,
            ratelimit_seconds=0,
            # Explicit, so a praw.ini or praw_* environment variable cannot turn this into a
            # logged-in client or point it at another host.
            username=None,
            password=None,
            refresh_token=None,
            oauth_url=OAUTH_URL,
            reddit_url=REDDIT_URL,
            requestor_class=_Requestor,
            requestor_kwargs={"timeout": settings.http_timeout_seconds, "session": session},
        )
    except (
        praw.exceptions.PRAWException,
        prawcore.exceptions.PrawcoreException,
        # A praw.ini or praw_site variable that praw cannot read.
        configparser.Error,
        ValueError,
    ) as exc:
        raise SourceConfigError(f"Reddit client cannot be built: {exc}") from exc
    disable_sleeps(reddit, SourceConfigError)
    return reddit


def disable_sleeps(reddit: praw.Reddit, error: type[Exception]) -> None:
    """Make prawcore never sleep or retry (rate limits and retries become our errors).

    Raises `error` when the installed prawcore lacks the hooks: without them prawcore would
    sleep and retry inside a scheduler thread, which we refuse.
    """
    for core in {id(c): c for c in sessions(reddit)}.values():
        if not (hasattr(core, "_rate_limiter") and hasattr(core, "_retry_strategy_class")):
            raise error(
                f"prawcore {prawcore.__version__} is not supported: cannot disable its sleeps"
            )
        core._rate_limiter = NoWaitRateLimiter(window_size=core._rate_limiter.window_size)
        core._retry_strategy_class = NoRetry


def sessions(reddit: praw.Reddit) -> list[prawcore.Session]:
    # praw declares these as None in __init__ and fills them later; getattr keeps mypy honest.
    cores = (
        getattr(reddit, name, None) for name in ("_core", "_read_only_core", "_authorized_core")
    )
    return [core for core in cores if isinstance(core, prawcore.Session)]


def _last_response(client: object) -> requests.Response | None:
    requestor = getattr(getattr(client, "_core", None), "requestor", None)
    return getattr(requestor, "last_response", None)


# --- errors ----------------------------------------------------------------------------------


def _retry_at(headers: Mapping[str, str] | None) -> datetime:
    for name in ("x-ratelimit-reset", "retry-after"):
        raw = headers.get(name) if headers is not None else None
        try:
            seconds = float(raw) if raw is not None else math.nan
        except ValueError:
            continue
        if math.isfinite(seconds) and seconds >= 0:
            return utcnow() + timedelta(seconds=min(max(seconds, 1.0), MAX_RETRY_AFTER_SECONDS))
    return utcnow() + DEFAULT_RETRY_AFTER


def _reason(response: requests.Response | None) -> str | None:
    if response is None:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    reason = body.get("reason") if isinstance(body, dict) else None
    return reason if isinstance(reason, str) else None


def _status_error(status: int, response: requests.Response | None, what: str) -> CollectorError:
    if status == 429:
        headers = response.headers if response is not None else None
        return RateLimited(f"Reddit rate limit (429) on {what}", _retry_at(headers))
    reason = _reason(response)
    if status in (403, 404) and reason in _UNREADABLE_REASONS:
        return SourceConfigError(f"Reddit says {what} is {reason} ({status})")
    if status in _AUTH_STATUSES:
        return AuthFailed(f"Reddit refused the credentials ({status}) on {what}")
    if status in _CONFIG_STATUSES:
        return SourceConfigError(f"Reddit answered {status} for {what}: check the subreddits/query")
    return TransientError(f"Reddit answered {status} for {what}")


def _map_error(exc: Exception, what: str, last: requests.Response | None) -> CollectorError:
    """Translate whatever praw/prawcore raised into the runner's error classes."""
    errors = prawcore.exceptions
    if isinstance(exc, QuotaExhaustedError):
        seconds = min(exc.seconds, MAX_RETRY_AFTER_SECONDS)
        return RateLimited(str(exc), utcnow() + timedelta(seconds=seconds))
    if isinstance(exc, errors.TooManyRequests):
        return RateLimited(f"Reddit rate limit (429) on {what}", _retry_at(exc.response.headers))
    if isinstance(exc, errors.Redirect):
        # Reddit redirects an unknown subreddit to /subreddits/search.
        return SourceConfigError(f"Reddit redirected {what} to {exc.path}: unknown subreddit?")
    if isinstance(exc, errors.OAuthException):
        return AuthFailed(f"Reddit OAuth error on {what}: {exc}")
    if isinstance(exc, errors.BadJSON):
        return TransientError(f"Reddit sent a body that is not JSON for {what}")
    if isinstance(exc, errors.ResponseException):
        return _status_error(exc.response.status_code, exc.response, what)
    if isinstance(exc, errors.RequestException):
        return TransientError(f"connection to Reddit failed for {what}: {exc.original_exception}")
    if isinstance(exc, praw.exceptions.RedditAPIException):
        return SourceConfigError(f"Reddit rejected the request for {what}: {exc}")
    # praw/prawcore slips (KeyError on a 401 without www-authenticate, a redirect without a
    # location, a non-JSON special error): classify by the HTTP status actually received.
    if last is not None and last.status_code >= 300:
        return _status_error(last.status_code, last, what)
    return TransientError(f"Reddit request for {what} failed: {exc!r}")


# --- cursor ----------------------------------------------------------------------------------


class _Mark(BaseModel):
    """One item's position in a listing."""

    fullname: str = Field(pattern=_FULLNAME.pattern)
    created_utc: float

    @property
    def number(self) -> int:
        """The base-36 id as a number: grows with creation time."""
        return int(self.fullname[3:], 36)


class _Cursor(BaseModel):
    """The stored cursor, parsed (the module docstring shows its JSON)."""

    model_config = ConfigDict(extra="ignore")

    v: int = CURSOR_VERSION
    stream: Stream = "submissions"
    newest: dict[str, str] = Field(default_factory=dict)
    newest_created_utc: dict[str, float] = Field(default_factory=dict)
    after: list[str] | None = None
    walk_top: _Mark | None = None
    pages: int = 0

    def mark(self, stream: str) -> _Mark | None:
        """The high-water mark of a stream, if a walk of it ever completed."""
        fullname, created = self.newest.get(stream), self.newest_created_utc.get(stream)
        if fullname is None or created is None:
            return None
        try:
            return _Mark(fullname=fullname, created_utc=created)
        except ValidationError:
            return None

    def dump(self) -> dict[str, Any]:
        """The JSON to store."""
        return self.model_dump(mode="json")


def _load_cursor(cursor: Mapping[str, Any], streams: tuple[Stream, ...]) -> _Cursor:
    try:
        state = _Cursor.model_validate(dict(cursor or {}))
    except ValidationError as exc:
        # Starting over beats failing forever; ingest drops what is read twice.
        log.warning("unreadable reddit cursor, starting over: %s", exc.errors()[0]["msg"])
        state = _Cursor()
    if state.stream not in streams:
        state = state.model_copy(update={"stream": streams[0], "after": None, "walk_top": None})
    if state.after is not None and not all(_FULLNAME.fullmatch(a) for a in state.after):
        state = state.model_copy(update={"after": None, "walk_top": None, "pages": 0})
    return state


# --- query terms -----------------------------------------------------------------------------

_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')
_OPERATORS = {"OR", "AND", "||", "&&"}


@dataclass(frozen=True)
class _Terms:
    """Query terms for filtering listings that Reddit does not search for us."""

    include: re.Pattern[str] | None
    exclude: re.Pattern[str] | None

    @classmethod
    def parse(cls, query: str) -> _Terms:
        """Words and "quoted phrases"; -term / NOT term exclude; OR/AND are ignored."""
        include: list[str] = []
        exclude: list[str] = []
        negate_next = False
        for match in _TOKEN.finditer(query):
            if match.group(2) is not None:
                negate, term = match.group(1) == "-", match.group(2)
            else:
                token = match.group(3)
                if token in _OPERATORS:
                    continue
                if token == "NOT":  # noqa: S105 - a query operator, not a secret
                    negate_next = True
                    continue
                negate = token.startswith("-") and len(token) > 1
                term = (token[1:] if negate else token).strip("()")
            term = term.strip()
            if term:
                (exclude if negate or negate_next else include).append(term)
            negate_next = False
        return cls(_pattern(include), _pattern(exclude))

    def match(self, text: str) -> bool:
        """True when the text has an included term (or none are given) and no excluded one."""
        if self.include is not None and not self.include.search(text):
            return False
        return self.exclude is None or not self.exclude.search(text)


def _pattern(terms: list[str]) -> re.Pattern[str] | None:
    if not terms:
        return None
    alternatives = "|".join(re.escape(term) for term in terms)
    # Whole words only: "acme" must not match "acmeist".
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


# --- normalisation ---------------------------------------------------------------------------


class _SkipItem(Exception):
    """An item that cannot become a mention; the message says why."""


def _str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _fullname_or_none(value: str | None, kind: str | None = None) -> str | None:
    parsed = _FULLNAME.fullmatch(value) if value else None
    return value if parsed and (kind is None or parsed.group(1) == kind) else None


def _mark_of(kind: str, data: Mapping[str, Any]) -> _Mark:
    fullname = _str(data, "name")
    if fullname is None and _str(data, "id"):
        fullname = f"{kind}_{data['id']}"
    if fullname is None:
        raise _SkipItem(f"{kind} without name or id")
    parsed = _FULLNAME.fullmatch(fullname)
    if parsed is None or parsed.group(1) != kind:
        raise _SkipItem(f"{kind} with a malformed fullname {fullname[:40]!r}")
    created = data.get("created_utc")
    if isinstance(created, bool) or not isinstance(created, int | float):
        raise _SkipItem(f"{fullname}: created_utc is {type(created).__name__}, not a number")
    if not math.isfinite(created) or not 0 < created < 32_503_680_000:
        raise _SkipItem(f"{fullname}: created_utc {created!r} is out of range")
    return _Mark(fullname=fullname, created_utc=float(created))


def _author(data: Mapping[str, Any]) -> AuthorIn | None:
    handle = _str(data, "author")
    if not handle or handle in _PLACEHOLDER_TEXT:
        return None
    author_id = _str(data, "author_fullname")
    return AuthorIn(
        id=author_id if author_id and author_id.startswith("t2_") else None, handle=handle
    )


def _url(data: Mapping[str, Any], fallback: str) -> str:
    permalink = _str(data, "permalink")
    # Always on reddit.com: a permalink is a path, never a full URL we would trust.
    return (
        REDDIT_URL + permalink if permalink and permalink.startswith("/") else REDDIT_URL + fallback
    )


@dataclass(frozen=True)
class _Item:
    """A listing child that passed validation."""

    mark: _Mark
    mention: MentionCreate
    filter_text: str


def _submission(mark: _Mark, data: dict[str, Any], brand: frozenset[str]) -> _Item:
    title = _str(data, "title")
    selftext = _str(data, "selftext")
    if selftext is not None and (not selftext.strip() or selftext in _PLACEHOLDER_TEXT):
        selftext = None
    text = selftext or title
    if not text or not text.strip():
        raise _SkipItem(f"{mark.fullname}: no title or selftext")
    metrics = {
        name: value
        for name, value in (
            ("upvotes", _int(data, "score")),
            ("comments", _int(data, "num_comments")),
        )
        if value is not None
    }
    return _Item(
        mark,
        _mention(
            mark,
            data,
            brand,
            kind=MentionKind.post,
            text=text,
            title=title,
            url=_url(data, f"/comments/{mark.fullname[3:]}/"),
            thread_id=mark.fullname,
            in_reply_to_id=None,
            metrics=metrics,
        ),
        f"{title or ''}\n{selftext or ''}",
    )


def _comment(mark: _Mark, data: dict[str, Any], brand: frozenset[str]) -> _Item:
    body = _str(data, "body")
    if body is None or not body.strip() or body in _PLACEHOLDER_TEXT:
        raise _SkipItem(f"{mark.fullname}: body is missing, empty or removed")
    link_id = _fullname_or_none(_str(data, "link_id"), "t3")
    parent_id = _fullname_or_none(_str(data, "parent_id"))
    score = _int(data, "score")
    fallback = f"/comments/{link_id[3:]}/_/{mark.fullname[3:]}/" if link_id else "/"
    return _Item(
        mark,
        _mention(
            mark,
            data,
            brand,
            kind=MentionKind.reply,
            text=body,
            title=None,
            url=_url(data, fallback),
            thread_id=link_id,
            in_reply_to_id=parent_id or link_id,
            metrics={"upvotes": score} if score is not None else {},
        ),
        body,
    )


def _mention(
    mark: _Mark,
    data: dict[str, Any],
    brand: frozenset[str],
    *,
    kind: MentionKind,
    text: str,
    title: str | None,
    url: str,
    thread_id: str | None,
    in_reply_to_id: str | None,
    metrics: dict[str, int],
) -> MentionCreate:
    author = _author(data)
    try:
        return MentionCreate(
            platform=Platform.reddit,
            external_id=mark.fullname,
            kind=kind,
            text=text,
            title=title,
            url=url,
            created_at=datetime.fromtimestamp(mark.created_utc, UTC).replace(tzinfo=None),
            thread_id=thread_id,
            in_reply_to_id=in_reply_to_id,
            author=author,
            metrics=metrics,
            is_brand=bool(author and author.handle and author.handle.lower() in brand),
            raw=data,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "item"
        raise _SkipItem(f"{mark.fullname}: {where}: {first['msg']}") from exc


def _parse_child(child: Any, kind: str, brand: frozenset[str]) -> _Item:
    if not isinstance(child, dict):
        raise _SkipItem(f"listing child is {type(child).__name__}, not an object")
    if child.get("kind") != kind:
        raise _SkipItem(f"unexpected child kind {str(child.get('kind'))[:20]!r}")
    data = child.get("data")
    if not isinstance(data, dict):
        raise _SkipItem(f"{kind} child without a data object")
    mark = _mark_of(kind, data)
    return _submission(mark, data, brand) if kind == "t3" else _comment(mark, data, brand)


def _listing(payload: Any, what: str) -> tuple[list[Any], str | None]:
    """The children and the ``after`` token of a Listing; anything else is transient."""
    data = payload.get("data") if isinstance(payload, dict) else None
    children = data.get("children") if isinstance(data, dict) else None
    if (
        not isinstance(payload, dict)
        or payload.get("kind") != "Listing"
        or not isinstance(children, list)
    ):
        shape = payload.get("kind") if isinstance(payload, dict) else type(payload).__name__
        raise TransientError(f"Reddit sent no Listing for {what} (got {str(shape)[:40]!r})")
    after = data.get("after") if isinstance(data, dict) else None
    return children, after if isinstance(after, str) and _FULLNAME.fullmatch(after) else None


# --- the collector ---------------------------------------------------------------------------


class RedditCollector:
    """Reads one Reddit source page by page (see the module docstring for the cursor)."""

    platform = Platform.reddit.value

    def __init__(
        self,
        client: RedditAPI,
        config: RedditSourceConfig,
        query: str = "",
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """Bind a client (praw.Reddit from ``make_reddit``, or a test fake) to one source."""
        query = query.strip()
        if config.mode == "search" and not query:
            raise SourceConfigError("Reddit search needs a query (the source's brand terms)")
        if len(query) > MAX_QUERY_CHARS:
            raise SourceConfigError(f"Reddit query longer than {MAX_QUERY_CHARS} characters")
        self.client = client
        self.config = config
        self.query = query
        self._terms = _Terms.parse(query)
        self._brand = frozenset(name.lower() for name in config.brand_usernames)
        self._clock = clock
        self._streams: tuple[Stream, ...] = (
            ("submissions", "comments") if config.include_comments else ("submissions",)
        )

    def fetch(self, cursor: dict[str, Any], budget: Budget) -> Batch:
        """Read the next page of the current stream; never sleeps, raises CollectorError."""
        state = _load_cursor(cursor, self._streams)
        if budget.max_requests < 1 or budget.max_items < 1:
            return Batch(mentions=[], cursor=state.dump(), more=False, requests=0)
        stream = state.stream
        mark = state.mark(stream)
        floor = self._floor(mark)
        path, params = self._request(stream, state, floor, min(self.config.limit, budget.max_items))
        what = f"/{path}"
        try:
            payload = self.client.request(method="GET", path=path, params=params)
        except (
            QuotaExhaustedError,
            prawcore.exceptions.PrawcoreException,
            praw.exceptions.PRAWException,
            requests.RequestException,
            KeyError,
            ValueError,
        ) as exc:
            raise _map_error(exc, what, _last_response(self.client)) from exc
        children, next_after = _listing(payload, what)
        return self._page(state, stream, mark, floor, children, next_after)

    def _floor(self, mark: _Mark | None) -> float | None:
        """created_utc below which items are old ground (None: first run, no backfill)."""
        if mark is not None:
            return mark.created_utc - LOOKBACK.total_seconds()
        if self.config.backfill_since is not None:
            return self.config.backfill_since.replace(tzinfo=UTC).timestamp()
        return None

    def _request(
        self, stream: Stream, state: _Cursor, floor: float | None, limit: int
    ) -> tuple[str, dict[str, str | int]]:
        params: dict[str, str | int] = {"limit": limit}
        if state.after:
            params["after"] = state.after[0]
        name = self.config.path_name
        if stream == "comments":
            return f"r/{name}/comments/", params
        if self.config.mode == "new":
            return f"r/{name}/new", params
        params.update(
            q=self.query,
            sort="new",
            syntax="lucene",
            t=self._time_filter(floor),
            # What praw sends for restrict_sr (a bool, encoded True/False).
            restrict_sr=not self.config.searches_all,
        )
        return f"r/{name}/search/", params

    def _time_filter(self, floor: float | None) -> str:
        if floor is None:
            return "week"
        age = self._clock() - datetime.fromtimestamp(floor, UTC).replace(tzinfo=None)
        for name, span in _TIME_FILTERS:
            if age <= span - timedelta(hours=1):
                return name
        return "all"

    def _page(
        self,
        state: _Cursor,
        stream: Stream,
        mark: _Mark | None,
        floor: float | None,
        children: list[Any],
        next_after: str | None,
    ) -> Batch:
        kind = _KIND_OF_STREAM[stream]
        mentions: list[MentionCreate] = []
        skipped: list[str] = []
        marks: list[_Mark] = []
        reached_floor = False
        top = state.walk_top
        for child in children:
            try:
                item = _parse_child(child, kind, self._brand)
            except _SkipItem as exc:
                skipped.append(str(exc))
                continue
            marks.append(item.mark)
            if self._is_old(item.mark, mark, floor):
                reached_floor = True
                continue
            if top is None or item.mark.number > top.number:
                top = item.mark
            filtered = stream == "comments" or self.config.mode == "new"
            if filtered and not self._terms.match(item.filter_text):
                continue
            mentions.append(item.mention)
        if skipped:
            log.info("reddit: skipped %d item(s) of %s: %s", len(skipped), stream, skipped[0])

        update: dict[str, Any] = {"walk_top": top, "pages": state.pages + 1}
        if not children and state.after:
            # The anchor may have been deleted (Reddit then answers an empty page): try the
            # next one kept from the page before; the walk ends when none is left.
            rest = state.after[1:]
            update.update(after=rest or None)
            done = not rest
        else:
            done = reached_floor or next_after is None or floor is None
            if not done:
                anchors = [next_after] + [m.fullname for m in reversed(marks)]
                update["after"] = list(dict.fromkeys(anchors))[:FALLBACK_ANCHORS]
        more = not done
        if done:
            update.update(after=None, walk_top=None, pages=0)
            if top is not None and (mark is None or top.number > mark.number):
                update["newest"] = {**state.newest, stream: top.fullname}
                update["newest_created_utc"] = {**state.newest_created_utc, stream: top.created_utc}
            position = self._streams.index(stream)
            if position + 1 < len(self._streams):
                update["stream"] = self._streams[position + 1]
                more = True
            else:
                update["stream"] = self._streams[0]
        new_state = state.model_copy(update=update)
        return Batch(
            mentions=mentions, cursor=new_state.dump(), more=more, requests=1, skipped=skipped
        )

    @staticmethod
    def _is_old(item: _Mark, mark: _Mark | None, floor: float | None) -> bool:
        if floor is None:
            return False
        if mark is None:
            return item.created_utc < floor
        # Ids grow with time; created_utc adds the look-back for late-indexed items.
        return item.number <= mark.number and item.created_utc < floor


def build(query: str, config: dict[str, Any], settings: Settings) -> RedditCollector:
    """Validate a source's config and build its collector with a real praw client."""
    parsed = parse_config(RedditSourceConfig, "reddit", config)
    collector_query = query.strip()
    # Checked before building the client, so a bad source fails without touching credentials.
    if parsed.mode == "search" and not collector_query:
        raise SourceConfigError("Reddit search needs a query (the source's brand terms)")
    return RedditCollector(make_reddit(settings), parsed, collector_query)
