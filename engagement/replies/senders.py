"""Posting replies to the platforms: X through tweepy, Reddit through praw.

Each sender turns the platform's answer into a `SentResult` and its failures into the
collectors' error classes, so the outbox job decides the same way for every platform:

- `RateLimited`: wait until `retry_at`, then try again.
- `TransientError`: the request did not get through (connect timeout, refused): back off, retry.
- `DeliveryUncertain` (a `TransientError`): the request may have reached the platform (read
  timeout, 5xx, connection dropped after sending, an answer without the new post). Before
  trying again the job asks `find_sent` whether the reply is already there, so a retry never
  posts it twice.
- `AuthFailed`, `SendRejected`: the platform refused for good (bad credentials, duplicate,
  deleted or locked post, not allowed to reply); the reply fails with the platform's own text.

Neither client sleeps or retries by itself: a retried POST could post the same reply twice.
"""

from __future__ import annotations

import configparser
import html
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import praw
import praw.exceptions
import prawcore
import prawcore.exceptions
import requests
import tweepy
from pydantic import SecretStr

from collectors.base import AuthFailed, RateLimited, TransientError
from collectors.models import Mention
from collectors.reddit import (
    OAUTH_URL,
    REDDIT_URL,
    QuotaExhaustedError,
    disable_sleeps,
    sessions,
)
from collectors.schemas import AuthorIn
from collectors.twitter import TimeoutSession, retry_at_from, snowflake_time
from core.settings import Settings
from core.timeutil import parse_datetime, utcnow
from engagement.models import Reply
from engagement.replies.schemas import SentResult

# A reply found on the platform counts as ours only if posted after we queued it (clock slack).
FIND_SLACK = timedelta(minutes=2)
REDDIT_RATELIMIT_WAIT = timedelta(minutes=10)
_URL_IN_TEXT = re.compile(r"https?://\S+")
_LEADING_HANDLES = re.compile(r"^(?:@\w{1,15}\s+)+")
_REDDIT_WAIT = re.compile(r"(\d{1,4}) (milliseconds?|seconds?|minutes?)")


class SendRejected(Exception):
    """The platform refused the reply for good; the message is the platform's reason."""


class DeliveryUncertain(TransientError):
    """The request may have reached the platform: look for the reply before sending again."""


class ReplySender(Protocol):
    """Posts replies on one platform."""

    platform: str

    def send(self, reply: Reply, mention: Mention) -> SentResult:
        """Post `reply.body` as an answer to `mention`; raises the errors above."""
        ...

    def find_sent(self, reply: Reply, mention: Mention) -> SentResult | None:
        """The reply if an earlier, interrupted attempt did post it; None if it is not there."""
        ...

    def close(self) -> None:
        """Release network resources."""
        ...


def _credential(settings: Settings, name: str) -> str:
    value = getattr(settings, name, "")
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return str(value or "").strip()


def _require(settings: Settings, platform: str, names: tuple[str, ...]) -> dict[str, str]:
    values = {name: _credential(settings, name) for name in names}
    missing = [f"SOCIALCRM_{name.upper()}" for name, value in values.items() if not value]
    if missing:
        raise AuthFailed(f"{platform} replies need credentials: set {', '.join(missing)}")
    return values


# --- X -----------------------------------------------------------------------------------------


class XWriteClient(Protocol):
    """What the sender uses of `tweepy.Client` (built with return_type=requests.Response)."""

    def create_tweet(self, **params: Any) -> Any:
        """POST /2/tweets."""
        ...

    def get_users_tweets(self, id: str, **params: Any) -> Any:
        """GET /2/users/:id/tweets."""
        ...

    def get_me(self, **params: Any) -> Any:
        """GET /2/users/me."""
        ...


def _x_message(exc: tweepy.HTTPException) -> str:
    status = getattr(exc.response, "status_code", "?")
    messages = [m for m in exc.api_messages if isinstance(m, str) and m]
    return f"HTTP {status}: {'; '.join(messages)[:500]}" if messages else f"HTTP {status}"


def _x_json(response: Any, *, write: bool) -> dict[str, Any]:
    content = getattr(response, "content", None)
    try:
        data = json.loads(content) if isinstance(content, bytes | str) else response
    except ValueError:
        data = None
    if not isinstance(data, dict):
        error = DeliveryUncertain if write else TransientError
        raise error("X answered with a body that is not a JSON object")
    return data


def _x_same_text(posted: str, body: str) -> bool:
    """Whether X's text of a tweet is our reply: X escapes &<>, may prefix the @handles it
    answers, and wraps links in t.co, so those parts are left out of the comparison."""

    def norm(text: str) -> str:
        text = _URL_IN_TEXT.sub(" ", html.unescape(text))
        return " ".join(_LEADING_HANDLES.sub("", text.strip()).split())

    return norm(posted) == norm(body)


def _tweet_id(value: Any) -> str | None:
    return value if isinstance(value, str) and value.isdigit() and len(value) <= 20 else None


class TwitterSender:
    """Replies on X with `POST /2/tweets` (`in_reply_to_tweet_id`), as the brand's user."""

    platform = "twitter"

    def __init__(self, client: XWriteClient, *, brand_user_id: str | None = None) -> None:
        self.client = client
        self.brand_user_id = brand_user_id

    @classmethod
    def from_settings(cls, settings: Settings) -> TwitterSender:
        """A sender with OAuth 1.0a user context (the brand account's access token)."""
        creds = _require(
            settings,
            "X",
            ("x_consumer_key", "x_consumer_secret", "x_access_token", "x_access_token_secret"),
        )
        client = tweepy.Client(
            consumer_key=creds["x_consumer_key"],
            consumer_secret=creds["x_consumer_secret"],
            access_token=creds["x_access_token"],
            access_token_secret=creds["x_access_token_secret"],
            return_type=requests.Response,
            wait_on_rate_limit=False,
        )
        client.session = TimeoutSession(settings.http_timeout_seconds)
        # OAuth 1.0a access tokens start with the id of the user they belong to.
        prefix = creds["x_access_token"].partition("-")[0]
        return cls(client, brand_user_id=prefix if prefix.isdigit() else None)

    def close(self) -> None:
        """Close tweepy's HTTP session (a test client may have none)."""
        session = getattr(self.client, "session", None)
        if isinstance(session, requests.Session):
            session.close()

    def _call(self, method: str, *, write: bool, **params: Any) -> dict[str, Any]:
        uncertain = DeliveryUncertain if write else TransientError
        try:
            response = getattr(self.client, method)(**params)
        except tweepy.TooManyRequests as exc:
            headers = getattr(exc.response, "headers", None) or {}
            raise RateLimited(f"X rate limit ({method})", retry_at_from(headers)) from exc
        except tweepy.Unauthorized as exc:
            raise AuthFailed(f"X refused the brand's credentials: {_x_message(exc)}") from exc
        except tweepy.TwitterServerError as exc:
            raise uncertain(f"X error: {_x_message(exc)}") from exc
        except tweepy.HTTPException as exc:
            # 400 (bad id), 403 (duplicate text, not allowed to reply), 404 (tweet deleted), ...
            raise SendRejected(f"X refused: {_x_message(exc)}") from exc
        except requests.ConnectTimeout as exc:
            raise TransientError(f"X unreachable: {type(exc).__name__}") from exc
        except requests.RequestException as exc:
            # The request may have been sent before the connection failed.
            raise uncertain(f"X connection failed: {type(exc).__name__}") from exc
        return _x_json(response, write=write)

    def _result(self, tweet_id: str, text: str, created_at: datetime | None) -> SentResult:
        return SentResult(
            external_id=tweet_id,
            url=f"https://x.com/i/web/status/{tweet_id}",
            created_at=created_at or snowflake_time(tweet_id) or utcnow(),
            text=text,
            author=AuthorIn(id=self.brand_user_id) if self.brand_user_id else None,
        )

    def send(self, reply: Reply, mention: Mention) -> SentResult:
        """Post the reply under the mentioned tweet."""
        body = self._call(
            "create_tweet",
            write=True,
            text=reply.body,
            in_reply_to_tweet_id=mention.external_id,
            user_auth=True,
        )
        data = body.get("data")
        tweet_id = _tweet_id(data.get("id")) if isinstance(data, dict) else None
        if tweet_id is None or not isinstance(data, dict):
            raise DeliveryUncertain("X accepted the reply but sent back no tweet id")
        text = data.get("text")
        return self._result(tweet_id, text if isinstance(text, str) else reply.body, None)

    def find_sent(self, reply: Reply, mention: Mention) -> SentResult | None:
        """The brand's tweet with the reply's text answering the mention since it was queued."""
        user_id = self.brand_user_id
        if user_id is None:
            me = self._call("get_me", write=False, user_auth=True).get("data")
            user_id = _tweet_id(me.get("id")) if isinstance(me, dict) else None
            if user_id is None:
                raise TransientError("X did not say which user the access token belongs to")
            self.brand_user_id = user_id
        body = self._call(
            "get_users_tweets",
            write=False,
            id=user_id,
            # Replies are newer than what they answer, and tweet ids grow with time.
            since_id=mention.external_id,
            max_results=100,
            tweet_fields=["created_at", "referenced_tweets"],
            user_auth=True,
        )
        tweets = body.get("data")
        for tweet in tweets if isinstance(tweets, list) else []:
            if not isinstance(tweet, dict) or (tweet_id := _tweet_id(tweet.get("id"))) is None:
                continue
            refs = tweet.get("referenced_tweets")
            answers = any(
                isinstance(ref, dict)
                and ref.get("type") == "replied_to"
                and ref.get("id") == mention.external_id
                for ref in (refs if isinstance(refs, list) else [])
            )
            created = tweet.get("created_at")
            created_at = parse_datetime(created) if isinstance(created, str) else None
            when = created_at or snowflake_time(tweet_id)
            text = tweet.get("text")
            if (
                answers
                and isinstance(text, str)
                and _x_same_text(text, reply.body)
                and when is not None
                and when >= reply.created_at - FIND_SLACK
            ):
                return self._result(tweet_id, text, when)
        return None


# --- Reddit ------------------------------------------------------------------------------------


def make_user_reddit(
    settings: Settings, *, session: requests.Session | None = None
) -> tuple[praw.Reddit, str]:
    """A praw client logged in as the brand's account (script app, password grant).

    Like the collector's client it never sleeps and never retries: prawcore would otherwise
    resend a POST after a read timeout or a 5xx, which can post the comment twice.
    """
    creds = _require(
        settings,
        "Reddit",
        ("reddit_client_id", "reddit_client_secret", "reddit_username", "reddit_password"),
    )
    try:
        reddit = praw.Reddit(
            client_id=creds["reddit_client_id"],
            client_secret=creds["reddit_client_secret"],
            user_agent=settings.reddit_user_agent,
            username=creds["reddit_username"],
            password=creds["reddit_password"],
            refresh_token=None,
            check_for_updates=False,
            check_for_async=False,
            ratelimit_seconds=0,
            oauth_url=OAUTH_URL,
            reddit_url=REDDIT_URL,
            requestor_kwargs={"timeout": settings.http_timeout_seconds, "session": session},
        )
    except (
        praw.exceptions.PRAWException,
        prawcore.exceptions.PrawcoreException,
        # A praw.ini or praw_* variable that praw cannot read.
        configparser.Error,
        ValueError,
    ) as exc:
        raise AuthFailed(f"Reddit client cannot be built: {exc}") from exc
    disable_sleeps(reddit, AuthFailed)
    return reddit, creds["reddit_username"]


def _reddit_retry_at(exc: Exception) -> datetime:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    for name in ("x-ratelimit-reset", "retry-after"):
        raw = headers.get(name)
        try:
            seconds = float(raw) if raw is not None else -1.0
        except ValueError:
            continue
        if 0 <= seconds <= 3600:
            return utcnow() + timedelta(seconds=max(seconds, 1.0))
    return utcnow() + REDDIT_RATELIMIT_WAIT


def _reddit_error(exc: Exception, *, write: bool) -> Exception:
    """Map what praw/prawcore raised to the sender errors."""
    uncertain = DeliveryUncertain if write else TransientError
    errors = prawcore.exceptions
    if isinstance(exc, QuotaExhaustedError):
        return RateLimited(str(exc), utcnow() + timedelta(seconds=min(exc.seconds, 3600)))
    if isinstance(exc, praw.exceptions.RedditAPIException):
        for item in exc.items:
            if item.error_type == "RATELIMIT":
                match = _REDDIT_WAIT.search(item.message or "")
                seconds = int(match.group(1)) if match else 600
                if match and match.group(2).startswith("minute"):
                    seconds *= 60
                elif match and match.group(2).startswith("milli"):
                    seconds = 1
                return RateLimited(
                    f"Reddit rate limit: {item.message}", utcnow() + timedelta(seconds=seconds)
                )
        return SendRejected(f"Reddit refused: {exc}")
    if isinstance(exc, errors.TooManyRequests):
        return RateLimited("Reddit rate limit (429)", _reddit_retry_at(exc))
    if isinstance(exc, errors.OAuthException | errors.InvalidToken):
        return AuthFailed(f"Reddit refused the brand's credentials: {exc}")
    if isinstance(exc, errors.ResponseException):
        status = exc.response.status_code
        if status == 401:
            return AuthFailed(f"Reddit refused the brand's credentials ({status})")
        if status < 500:
            # 403: locked thread, banned from the subreddit; 404: the post is gone.
            return SendRejected(f"Reddit refused: HTTP {status}: {exc}")
        return uncertain(f"Reddit error: HTTP {status}")
    if isinstance(exc, errors.RequestException):
        original = exc.original_exception
        if isinstance(original, requests.ConnectTimeout):
            return TransientError(f"Reddit unreachable: {type(original).__name__}")
        return uncertain(f"Reddit connection failed: {type(original).__name__}")
    return uncertain(f"Reddit request failed: {exc!r}")


class RedditSender:
    """Replies on Reddit as the brand's account: to a comment (t1_) or a submission (t3_)."""

    platform = "reddit"

    def __init__(self, reddit: praw.Reddit, *, username: str) -> None:
        self.reddit = reddit
        self.username = username

    @classmethod
    def from_settings(
        cls, settings: Settings, *, session: requests.Session | None = None
    ) -> RedditSender:
        """A sender logged in with SOCIALCRM_REDDIT_USERNAME / SOCIALCRM_REDDIT_PASSWORD."""
        reddit, username = make_user_reddit(settings, session=session)
        return cls(reddit, username=username)

    def close(self) -> None:
        """Close the HTTP session of the praw client."""
        for core in sessions(self.reddit):
            core.close()

    def send(self, reply: Reply, mention: Mention) -> SentResult:
        """Post the reply under the mentioned comment or submission."""
        kind, _, base36 = mention.external_id.partition("_")
        if kind == "t1":
            target: Any = self.reddit.comment(base36)
        elif kind == "t3":
            target = self.reddit.submission(base36)
        else:
            raise SendRejected(f"{mention.external_id!r} is not a Reddit comment or submission")
        try:
            created = target.reply(reply.body)
        except Exception as exc:
            raise _reddit_error(exc, write=True) from exc
        if created is None:
            # praw: Reddit may create the comment without returning it (quarantined subreddit).
            raise DeliveryUncertain("Reddit accepted the reply but did not return it")
        # vars(): praw objects fetch missing attributes lazily, which would be another request.
        return self._result(vars(created), reply.body)

    def find_sent(self, reply: Reply, mention: Mention) -> SentResult | None:
        """The brand's comment with the reply's text answering the mention since it was queued."""
        try:
            listing = self.reddit.request(
                method="GET",
                path=f"/user/{self.username}/comments",
                params={"limit": 100, "sort": "new", "raw_json": 1},
            )
        except Exception as exc:
            raise _reddit_error(exc, write=False) from exc
        data = listing.get("data") if isinstance(listing, dict) else None
        children = data.get("children") if isinstance(data, dict) else None
        since = reply.created_at.replace(tzinfo=UTC).timestamp() - FIND_SLACK.total_seconds()
        for child in children if isinstance(children, list) else []:
            item = child.get("data") if isinstance(child, dict) else None
            if not isinstance(item, dict) or item.get("parent_id") != mention.external_id:
                continue
            posted = item.get("body")
            if not isinstance(posted, str) or posted.strip() != reply.body.strip():
                continue
            created = item.get("created_utc")
            if isinstance(created, int | float) and created >= since:
                return self._result(item, reply.body)
        return None

    def _result(self, data: dict[str, Any], fallback_text: str) -> SentResult:
        comment_id = str(data.get("id") or "")
        name = data.get("name")
        fullname = name if isinstance(name, str) and name.startswith("t1_") else f"t1_{comment_id}"
        permalink = data.get("permalink")
        link_id = data.get("link_id")
        if isinstance(permalink, str) and permalink.startswith("/"):
            url = REDDIT_URL + permalink
        elif isinstance(link_id, str) and link_id.startswith("t3_"):
            url = f"{REDDIT_URL}/comments/{link_id[3:]}/_/{fullname[3:]}/"
        else:
            url = None
        created = data.get("created_utc")
        created_at = (
            datetime.fromtimestamp(created, UTC).replace(tzinfo=None)
            if isinstance(created, int | float)
            else utcnow()
        )
        author_name = str(data.get("author") or "") or self.username
        author_id = data.get("author_fullname")
        if not (isinstance(author_id, str) and author_id.startswith("t2_")):
            author_id = None
        body = data.get("body")
        return SentResult(
            external_id=fullname,
            url=url,
            created_at=created_at,
            text=body if isinstance(body, str) and body else fallback_text,
            author=AuthorIn(
                id=author_id
                if isinstance(author_id, str) and author_id.startswith("t2_")
                else None,
                handle=author_name,
            ),
        )
