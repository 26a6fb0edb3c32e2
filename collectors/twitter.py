"""X (Twitter) collector: brand search or a brand account's mentions, X API v2 through tweepy.

Two modes (`TwitterSourceConfig.mode`):

* ``search``: ``GET /2/tweets/search/recent`` with the source's query (keywords, $cashtags,
  #hashtags, X search operators); ``-is:retweet`` is appended unless `exclude_retweets` is off.
* ``mentions``: ``GET /2/users/:id/mentions`` of the brand account, given as `user_id` or as
  `username` (resolved once with ``GET /2/users/by/username/:username``, kept in the cursor).

Cursor (the JSON dict stored with each batch)::

    {
      "since_id": "1861...",           # newest tweet id of the last COMPLETED run; later runs
                                       # ask only for tweets newer than it
      "start_time": "2026-11-20T...",  # lower time bound used while there is no since_id
                                       # (backfill, or a first run that found nothing)
      "pending_newest_id": "1862...",  # newest id seen by the run that is still paging
      "pagination_token": "b26v...",   # X's meta.next_token: the next (older) page of that run
      "user_id": "783214",             # mentions mode: whose mentions are read
      "username": "acme"               # mentions mode: the username user_id was resolved from
    }

X returns newest first and `next_token` walks towards older tweets, so a run is: page 1 with
``since_id`` (or ``start_time``), then pages by token until X sends no token; only then does
`since_id` become the newest id of the run (`pending_newest_id`). A process that dies after any
stored batch resumes at the stored token with the same lower bound; nothing newer than the old
since_id is skipped, and what is fetched twice is deduplicated by ingest.

First run: with `backfill_since`, the run pages back to that time (recent search reaches only the
last 7 days: older dates are clamped to that window and a warning is logged; the mentions
timeline reaches only the newest 800 mentions). Without it, only the newest page is taken
("listen from now on"), which keeps a new source from spending the project's monthly post cap.

Platform limits respected: ``max_results`` 10..100 per page; one page request per `fetch` (plus
one user lookup in mentions mode, once); ``since_id`` and ``start_time`` are never sent together
(X rejects that), and a recent-search since_id older than 7 days is replaced by the 7-day floor.
The client never sleeps or retries (``wait_on_rate_limit=False``; requests' adapters retry 0
times) and every request carries ``settings.http_timeout_seconds``. Rate limits are 15-minute
windows (``x-rate-limit-reset``) and, on some tiers, 24-hour app/user caps
(``x-app-limit-24hour-reset``); a 429 raises `RateLimited` with the reset that applies.

A 400 on a request that carried a pagination token drops the token and restarts the run from
the same lower bound (an empty batch with ``more=True``) rather than disabling the source; without
a token a 400 means the query is bad (`SourceConfigError`). Posts over 280 characters are stored
with their full text (``note_tweet.text``). A tweet without ``created_at`` (as in recordings made
without tweet.fields) gets the time encoded in its snowflake id.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

import requests
import tweepy
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from collectors.base import (
    AuthFailed,
    Batch,
    Budget,
    RateLimited,
    SourceConfigError,
    TransientError,
    parse_config,
)
from collectors.models import MentionKind, Platform
from collectors.schemas import AuthorIn, MentionCreate
from core.settings import Settings
from core.timeutil import parse_datetime, to_naive_utc, utcnow

log = logging.getLogger(__name__)

EXPANSIONS = ["author_id", "referenced_tweets.id"]
TWEET_FIELDS = [
    "created_at",
    "lang",
    "conversation_id",
    "referenced_tweets",
    "public_metrics",
    "author_id",
    "in_reply_to_user_id",
    # Posts over 280 characters carry their full text only here; `text` is cut short.
    "note_tweet",
]
USER_FIELDS = ["username", "name", "public_metrics"]
METRIC_NAMES = {
    "like_count": "likes",
    "retweet_count": "reposts",
    "reply_count": "replies",
    "quote_count": "quotes",
    "bookmark_count": "bookmarks",
    "impression_count": "views",
}
RECENT_SEARCH_WINDOW = timedelta(days=7)
# Slack so a clamped start_time is still inside the window when X receives the request.
WINDOW_MARGIN = timedelta(minutes=2)
# X wants start_time at least 10 s before the request.
MIN_START_AGE = timedelta(seconds=30)
MAX_RETRY_WAIT = timedelta(days=1)
MIN_RETRY_WAIT = timedelta(seconds=5)
# Tweet ids are snowflakes: milliseconds since this epoch, shifted left by 22 bits.
SNOWFLAKE_EPOCH_MS = 1288834974657
FIRST_SNOWFLAKE_ID = 29_700_859_247
USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{1,15}$")


class TwitterSourceConfig(BaseModel):
    """A source's `config` for platform "twitter" (the source's query is the search query)."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["search", "mentions"] = Field(
        default="search",
        description="search: recent search with the source query; mentions: an account's mentions",
    )
    user_id: str | None = Field(
        default=None, pattern=r"^[0-9]{1,20}$", description="mentions mode: the account's id"
    )
    username: str | None = Field(
        default=None, description="mentions mode: the account's @username (resolved once)"
    )
    brand_user_id: str | None = Field(
        default=None, pattern=r"^[0-9]{1,20}$", description="Brand account id (marks is_brand)"
    )
    brand_username: str | None = Field(
        default=None, description="Brand account @username (marks is_brand)"
    )
    max_results: int = Field(default=100, ge=10, le=100, description="Tweets per page request")
    backfill_since: datetime | None = Field(
        default=None,
        description="First run: fetch back to this time (search: at most 7 days; mentions: 800)",
    )
    exclude_retweets: bool = Field(
        default=True, description="Leave out retweets (search: -is:retweet; mentions: dropped)"
    )

    @field_validator("username", "brand_username")
    @classmethod
    def _valid_username(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().lstrip("@")
        if not USERNAME_RE.match(value):
            raise ValueError("an X username is 1-15 letters, digits or underscores")
        return value

    @field_validator("backfill_since")
    @classmethod
    def _naive_utc(cls, value: datetime | None) -> datetime | None:
        return to_naive_utc(value) if value is not None else None


class XClient(Protocol):
    """What the collector uses of `tweepy.Client` (built with return_type=requests.Response)."""

    def search_recent_tweets(self, query: str, **params: Any) -> Any:
        """GET /2/tweets/search/recent."""
        ...

    def get_users_mentions(self, id: str, **params: Any) -> Any:
        """GET /2/users/:id/mentions."""
        ...

    def get_user(self, **params: Any) -> Any:
        """GET /2/users/by/username/:username."""
        ...


class TimeoutSession(requests.Session):
    """A requests session that gives every request a timeout (tweepy passes none)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(
        self, method: str, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        """Send with the default timeout unless the caller chose one."""
        kwargs.setdefault("timeout", self.default_timeout)
        return super().request(method, url, *args, **kwargs)


class _BadRequest(Exception):
    """A 400 from X; what it means depends on whether a pagination token was sent."""


def snowflake_time(tweet_id: str) -> datetime | None:
    """The creation time encoded in a tweet id (naive UTC), None for pre-2010 or bad ids."""
    if not tweet_id.isdigit() or int(tweet_id) < FIRST_SNOWFLAKE_ID:
        return None
    ms = (int(tweet_id) >> 22) + SNOWFLAKE_EPOCH_MS
    return datetime.fromtimestamp(ms / 1000, UTC).replace(tzinfo=None)


def _newer(a: str | None, b: str | None) -> str | None:
    """The larger (newer) of two numeric tweet ids."""
    if a is None:
        return b
    if b is None:
        return a
    return a if int(a) >= int(b) else b


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _int_metric(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _first_message(exc: tweepy.HTTPException) -> str:
    messages = [m for m in exc.api_messages if isinstance(m, str)]
    status = getattr(exc.response, "status_code", "?")
    return f"HTTP {status}: {messages[0][:300]}" if messages else f"HTTP {status}"


def retry_at_from(headers: Any, now: datetime | None = None) -> datetime | None:
    """When a 429 ends: the latest exhausted reset among X's 15-minute and 24-hour limits."""
    now = now or utcnow()
    resets: list[int] = []
    for prefix in ("x-rate-limit", "x-app-limit-24hour", "x-user-limit-24hour"):
        reset = (headers.get(f"{prefix}-reset") or "").strip()
        if not reset.isdigit():
            continue
        # The 15-minute window is what a 429 usually means; a daily cap only when it is spent.
        if prefix == "x-rate-limit" or (headers.get(f"{prefix}-remaining") or "").strip() == "0":
            resets.append(int(reset))
    if not resets:
        return None
    when = datetime.fromtimestamp(max(resets), UTC).replace(tzinfo=None)
    return min(max(when, now + MIN_RETRY_WAIT), now + MAX_RETRY_WAIT)


def _load_json(response: Any) -> dict[str, Any]:
    """The body as a JSON object; bytes that are not UTF-8 become U+FFFD instead of failing."""
    content = getattr(response, "content", None)
    if isinstance(content, bytes):
        text = content.decode("utf-8", errors="replace")
    elif isinstance(content, str):
        text = content
    elif isinstance(response, dict):
        return response
    else:
        raise TransientError("X returned a response without a body")
    try:
        data = json.loads(text)
    except ValueError:
        raise TransientError(f"X returned a body that is not JSON: {text[:120]!r}") from None
    if not isinstance(data, dict):
        raise TransientError(f"X returned JSON that is not an object: {type(data).__name__}")
    return data


class TwitterCollector:
    """Collects one X source: recent search for the brand, or the brand account's mentions."""

    platform = "twitter"

    def __init__(self, query: str, config: TwitterSourceConfig, client: XClient) -> None:
        self.query = query.strip()
        self.config = config
        self.client = client
        if config.mode == "search" and not self.query:
            raise SourceConfigError("X search source needs a query")
        if config.mode == "mentions" and not (config.user_id or config.username):
            raise SourceConfigError("X mentions source needs config user_id or username")

    def close(self) -> None:
        """Close the HTTP session tweepy uses (an injected test client may have none)."""
        session = getattr(self.client, "session", None)
        if isinstance(session, requests.Session):
            session.close()

    # -- requests -----------------------------------------------------------------------------

    def _call(self, method: str, *args: Any, **params: Any) -> dict[str, Any]:
        """One request through tweepy, its failures mapped to the collector errors."""
        try:
            response = getattr(self.client, method)(*args, **params)
        except tweepy.TooManyRequests as exc:
            headers = getattr(exc.response, "headers", None) or {}
            raise RateLimited(f"X rate limit ({method})", retry_at_from(headers)) from exc
        except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
            raise AuthFailed(f"X refused the bearer token: {_first_message(exc)}") from exc
        except tweepy.NotFound as exc:
            raise SourceConfigError(f"X: not found ({method}): {_first_message(exc)}") from exc
        except tweepy.BadRequest as exc:
            raise _BadRequest(_first_message(exc)) from exc
        except tweepy.HTTPException as exc:
            # TwitterServerError (5xx) and any other unexpected status: try again later.
            raise TransientError(f"X error ({method}): {_first_message(exc)}") from exc
        except requests.RequestException as exc:
            # Connection refused/reset, timeouts, broken chunked or gzip bodies.
            raise TransientError(f"X unreachable ({method}): {type(exc).__name__}") from exc
        return _load_json(response)

    def _resolve_user(self, cursor: dict[str, Any]) -> tuple[str, dict[str, Any], int]:
        """The mentioned account's id, the cursor to go on with, and the requests spent."""
        config = self.config
        if config.user_id:
            wanted, username = config.user_id, None
        else:
            username = config.username
            known = cursor.get("username")
            if (
                cursor.get("user_id")
                and isinstance(known, str)
                and known.lower() == ((username or "").lower())
            ):
                return str(cursor["user_id"]), cursor, 0
            try:
                body = self._call("get_user", username=username, user_fields=USER_FIELDS)
            except _BadRequest as exc:
                raise SourceConfigError(f"X username {username!r} rejected: {exc}") from None
            data = body.get("data")
            user_id = data.get("id") if isinstance(data, dict) else None
            if not isinstance(user_id, str) or not user_id.isdigit():
                detail = _errors_text(body) or "no such user"
                raise SourceConfigError(f"X user @{username} not found: {detail}")
            wanted = user_id
        if cursor.get("user_id") not in (None, wanted):
            # Another account is a different stream: its since_id means nothing here.
            cursor = {}
        cursor = {**cursor, "user_id": wanted}
        if username:
            cursor["username"] = username
        return wanted, cursor, 0 if config.user_id else 1

    # -- fetch --------------------------------------------------------------------------------

    def fetch(self, cursor: dict[str, Any], budget: Budget) -> Batch:
        """Fetch the next page (newer than since_id, or the run's next older page)."""
        cursor = dict(cursor or {})
        requests_used = 0
        user_id: str | None = None
        if self.config.mode == "mentions":
            user_id, cursor, requests_used = self._resolve_user(cursor)

        now = utcnow()
        token = cursor.get("pagination_token")
        since_id, start_time, first_page_only = self._lower_bound(cursor, now)
        params: dict[str, Any] = {
            "max_results": max(10, min(self.config.max_results, budget.max_items, 100)),
            "expansions": EXPANSIONS,
            "tweet_fields": TWEET_FIELDS,
            "user_fields": USER_FIELDS,
        }
        if since_id:
            params["since_id"] = since_id
        elif start_time:
            params["start_time"] = _iso(start_time)
        try:
            if self.config.mode == "search":
                query = self.query
                if self.config.exclude_retweets and "-is:retweet" not in query:
                    query = f"{query} -is:retweet"
                if token:
                    params["next_token"] = token
                body = self._call("search_recent_tweets", query, sort_order="recency", **params)
            else:
                if token:
                    params["pagination_token"] = token
                body = self._call("get_users_mentions", user_id, **params)
        except _BadRequest as exc:
            if not token:
                raise SourceConfigError(f"X rejected the request: {exc}") from None
            # A token X no longer accepts must not wedge the source: restart the run from the top
            # (same since_id, so nothing is lost; what comes again is deduplicated).
            log.warning(
                "X rejected the pagination token; restarting the run", extra={"err": str(exc)}
            )
            cursor.pop("pagination_token", None)
            return Batch([], cursor, more=True, requests=requests_used + 1)
        requests_used += 1

        if "data" not in body and "meta" not in body and body.get("errors"):
            self._raise_for_errors(body)
        mentions, skipped, page_newest = self._normalise_page(body, user_id)
        meta = _dict(body.get("meta"))
        newest = meta.get("newest_id")
        if isinstance(newest, str) and newest.isdigit():
            page_newest = _newer(page_newest, newest)
        pending = _newer(_str_id(cursor.get("pending_newest_id")), page_newest)
        next_token = meta.get("next_token")
        if body.get("errors"):
            log.info("X partial errors", extra={"errors": _errors_text(body)[:500]})

        new_cursor = {k: v for k, v in cursor.items() if k in ("user_id", "username")}
        if isinstance(next_token, str) and next_token and not first_page_only:
            new_cursor.update(pagination_token=next_token)
            if since_id:
                new_cursor["since_id"] = since_id
            elif start_time:
                new_cursor["start_time"] = _iso(start_time)
            if pending:
                new_cursor["pending_newest_id"] = pending
            return Batch(mentions, new_cursor, more=True, requests=requests_used, skipped=skipped)

        # Last page of the run: everything down to the lower bound is stored.
        done_newest = _newer(since_id, pending)
        if done_newest:
            new_cursor["since_id"] = done_newest
        else:
            # Nothing at all yet: next time ask from this run's lower bound (or from now).
            new_cursor["start_time"] = _iso(start_time or now - WINDOW_MARGIN)
        return Batch(mentions, new_cursor, more=False, requests=requests_used, skipped=skipped)

    def _lower_bound(
        self, cursor: dict[str, Any], now: datetime
    ) -> tuple[str | None, datetime | None, bool]:
        """(since_id, start_time, first_page_only) for this request; never both bounds."""
        since_id = _str_id(cursor.get("since_id"))
        start_time: datetime | None = None
        raw_start = cursor.get("start_time")
        if isinstance(raw_start, str):
            try:
                start_time = parse_datetime(raw_start)
            except ValueError:
                start_time = None
        first_page_only = False
        if since_id is None and start_time is None:
            if cursor.get("pagination_token") is None and self.config.backfill_since is None:
                first_page_only = True
            start_time = self.config.backfill_since
        if self.config.mode == "search":
            floor = now - RECENT_SEARCH_WINDOW + WINDOW_MARGIN
            made = snowflake_time(since_id) if since_id else None
            if made is not None and made < floor:
                log.warning(
                    "X since_id is older than recent search's 7 days; tweets in between are lost",
                    extra={"since_id": since_id},
                )
                since_id, start_time = None, floor
            if start_time is not None and start_time < floor:
                log.warning(
                    "X recent search reaches 7 days back: start_time clamped",
                    extra={"asked": _iso(start_time), "used": _iso(floor)},
                )
                start_time = floor
        if start_time is not None and start_time > now - MIN_START_AGE:
            start_time = now - MIN_START_AGE
        return (since_id, None if since_id else start_time, first_page_only)

    def _raise_for_errors(self, body: dict[str, Any]) -> None:
        """A 200 that carries only errors: the watched user is gone, or X misbehaved."""
        errors = [e for e in _list(body.get("errors")) if isinstance(e, dict)]
        if self.config.mode == "mentions" and any(e.get("resource_type") == "user" for e in errors):
            raise SourceConfigError(f"X mentions: {_errors_text(body)[:300]}")
        raise TransientError(f"X returned only errors: {_errors_text(body)[:300]}")

    # -- normalisation ------------------------------------------------------------------------

    def _normalise_page(
        self, body: dict[str, Any], mentioned_user: str | None
    ) -> tuple[list[MentionCreate], list[str], str | None]:
        """Mentions, skip reasons and the newest numeric tweet id of one response body."""
        data = body.get("data", [])
        if data is None:
            data = []
        if not isinstance(data, list):
            raise TransientError(f"X returned data of type {type(data).__name__}, not a list")
        includes = _dict(body.get("includes"))
        users: dict[str, dict[str, Any]] = {}
        for user in _list(includes.get("users")):
            if isinstance(user, dict) and isinstance(user.get("id"), str):
                users[user["id"]] = user
        brand_ids = {i for i in (self.config.brand_user_id, mentioned_user) if i}
        brand_name = (self.config.brand_username or "").lower()

        mentions: list[MentionCreate] = []
        skipped: list[str] = []
        newest: str | None = None
        for index, tweet in enumerate(data):
            if not isinstance(tweet, dict):
                skipped.append(f"item {index}: not an object")
                continue
            tweet_id = _str_id(tweet.get("id"))
            if tweet_id is not None:
                newest = _newer(newest, tweet_id)
            if self.config.exclude_retweets and _referenced(tweet, "retweeted"):
                continue
            try:
                mentions.append(self._normalise(tweet, users, brand_ids, brand_name))
            except (ValueError, TypeError) as exc:
                skipped.append(f"tweet {tweet.get('id')!r:.40}: {_reason(exc)[:200]}")
        return mentions, skipped, newest

    def _normalise(
        self,
        tweet: dict[str, Any],
        users: dict[str, dict[str, Any]],
        brand_ids: set[str],
        brand_name: str,
    ) -> MentionCreate:
        """One tweet object as a MentionCreate; ValueError when it cannot be one."""
        tweet_id = _str_id(tweet.get("id"))
        if tweet_id is None:
            raise ValueError("id missing or not a numeric string")
        text = tweet.get("text")
        note = tweet.get("note_tweet")
        if isinstance(note, dict) and isinstance(note.get("text"), str) and note["text"]:
            text = note["text"]
        if not isinstance(text, str):
            raise ValueError("text missing or not a string")
        created = tweet.get("created_at")
        if created is None:
            # Recorded without tweet.fields=created_at: the id itself encodes the time.
            created_at = snowflake_time(tweet_id)
            if created_at is None:
                raise ValueError("created_at missing and id is not a snowflake")
        elif isinstance(created, str):
            created_at = parse_datetime(created)
        else:
            raise ValueError("created_at is not a string")

        author_id = tweet.get("author_id") if isinstance(tweet.get("author_id"), str) else None
        user = users.get(author_id) if author_id else None
        author: AuthorIn | None = None
        username: str | None = None
        if user is not None:
            username = user.get("username") if isinstance(user.get("username"), str) else None
            user_metrics = user.get("public_metrics")
            followers = (
                _int_metric(user_metrics.get("followers_count"))
                if isinstance(user_metrics, dict)
                else None
            )
            name = user.get("name") if isinstance(user.get("name"), str) else None
            author = AuthorIn(id=author_id, handle=username, name=name, followers=followers)
        elif author_id:
            author = AuthorIn(id=author_id)

        if username and USERNAME_RE.match(username):
            url = f"https://x.com/{username}/status/{tweet_id}"
        else:
            url = f"https://x.com/i/web/status/{tweet_id}"
        metrics: dict[str, int] = {}
        public = tweet.get("public_metrics")
        if isinstance(public, dict):
            for key, name in METRIC_NAMES.items():
                value = _int_metric(public.get(key))
                if value is not None:
                    metrics[name] = value
        replied_to = _referenced(tweet, "replied_to")
        lang = tweet.get("lang")
        conversation = _str_id(tweet.get("conversation_id"))
        is_brand = bool(
            (author_id and author_id in brand_ids)
            or (brand_name and username and username.lower() == brand_name)
        )
        return MentionCreate(
            platform=Platform.twitter,
            external_id=tweet_id,
            text=text,
            created_at=created_at,
            kind=MentionKind.reply if replied_to else MentionKind.post,
            url=url,
            language=lang if isinstance(lang, str) and 0 < len(lang) <= 16 else None,
            thread_id=conversation,
            in_reply_to_id=replied_to,
            author=author,
            metrics=metrics,
            is_brand=is_brand,
            raw=tweet,
        )


def _reason(exc: Exception) -> str:
    """One line saying why an item failed (pydantic's first error, or the exception text)."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "mention"
        return f"{where}: {first['msg']}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _dict(value: Any) -> dict[str, Any]:
    """The value if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    """The value if it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def _str_id(value: Any) -> str | None:
    """A tweet/user id as X sends it (numeric string); ints are tolerated, the rest is None."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    if isinstance(value, str) and value.isdigit() and len(value) <= 20:
        return value
    return None


def _referenced(tweet: dict[str, Any], kind: str) -> str | None:
    """The id of the tweet this one references as `kind` (replied_to, quoted, retweeted)."""
    refs = tweet.get("referenced_tweets")
    if not isinstance(refs, list):
        return None
    for ref in refs:
        if isinstance(ref, dict) and ref.get("type") == kind:
            return _str_id(ref.get("id"))
    return None


def _errors_text(body: dict[str, Any]) -> str:
    """X's `errors` array as one line (detail or message of each)."""
    parts = []
    for error in _list(body.get("errors")):
        if isinstance(error, dict):
            text = error.get("detail") or error.get("message") or error.get("title")
            if isinstance(text, str):
                parts.append(text)
    return "; ".join(parts)


def build(query: str, config: dict[str, Any], settings: Settings) -> TwitterCollector:
    """A collector for one X source, with a real tweepy client (app bearer token)."""
    parsed = parse_config(TwitterSourceConfig, "twitter", config)
    token = settings.x_bearer_token.get_secret_value().strip()
    if not token:
        raise SourceConfigError("X sources need SOCIALCRM_X_BEARER_TOKEN (an app bearer token)")
    client = tweepy.Client(
        bearer_token=token, return_type=requests.Response, wait_on_rate_limit=False
    )
    client.session = TimeoutSession(settings.http_timeout_seconds)
    return TwitterCollector(query, parsed, client)
