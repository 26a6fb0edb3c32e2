"""Reply senders on the real tweepy/praw request paths: upstream cassettes replayed with vcrpy
for the successful posts, a local transport serving hand-written answers for the rest."""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import vcr
from pydantic import SecretStr
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from vcr.serialize import deserialize

from collectors.base import AuthFailed, RateLimited, TransientError
from collectors.models import Author, Mention
from core.settings import Settings
from engagement.models import Reply
from engagement.replies import jobs
from engagement.replies.senders import (
    DeliveryUncertain,
    RedditSender,
    SendRejected,
    TwitterSender,
)
from tests.engagement.test_replies import fresh, queue, seed_task

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
X_ANSWERS: dict[str, Any] = json.loads((FIXTURES / "replies" / "x_responses.json").read_text())
REDDIT_ANSWERS: dict[str, Any] = json.loads(
    (FIXTURES / "replies" / "reddit_responses.json").read_text()
)

X_TOKEN = "1072250532645998596-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
CLIENT_ID = "test-client-id"
CLIENT_SECRET = "test-client-secret"
USER_AGENT = "social-crm-tests/1.0 (by u/tester)"
ACCESS_TOKEN = "test-access-token"
USERNAME = "LumenSupport"
PASSWORD = "test-password"
QUEUED_AT = datetime(2026, 11, 20, 10, 1, 0)
DM_REPLY = "Sorry about that, we have sent you a DM"


class SenderSettings(Settings):
    """Settings with the brand-account credentials the senders read (proposed settings)."""

    x_consumer_key: SecretStr = SecretStr("")
    x_consumer_secret: SecretStr = SecretStr("")
    x_access_token: SecretStr = SecretStr("")
    x_access_token_secret: SecretStr = SecretStr("")
    reddit_username: str = ""
    reddit_password: SecretStr = SecretStr("")


@pytest.fixture
def creds(tmp_path: Path) -> SenderSettings:
    return SenderSettings(
        database_url=f"sqlite:///{tmp_path / 'unused.db'}",
        x_consumer_key=SecretStr("test-consumer-key"),
        x_consumer_secret=SecretStr("test-consumer-secret"),
        x_access_token=SecretStr(X_TOKEN),
        x_access_token_secret=SecretStr("test-access-secret"),
        reddit_client_id=CLIENT_ID,
        reddit_client_secret=SecretStr(CLIENT_SECRET),
        reddit_user_agent=USER_AGENT,
        reddit_username=USERNAME,
        reddit_password=SecretStr(PASSWORD),
        http_timeout_seconds=5,
        _env_file=None,
    )


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither client may sleep (praw's rate-limit sleep, prawcore's retry back-off)."""

    def forbidden(seconds: float) -> None:
        raise AssertionError(f"slept {seconds} s")

    monkeypatch.setattr(time, "sleep", forbidden)


def unsaved(external_id: str, *, platform: str = "twitter", body: str = "Test Tweet") -> tuple:
    mention = Mention(platform=platform, external_id=external_id, text="help", thread_id=None)
    reply = Reply(body=body, platform=platform, created_at=QUEUED_AT)
    return reply, mention


# --- a local platform behind the real clients -------------------------------------------------

Answer = tuple[int, dict[str, str], bytes] | BaseException


def answer(entry: dict[str, Any]) -> Answer:
    return (entry["status"], dict(entry["headers"]), json.dumps(entry["body"]).encode())


class Transport(BaseAdapter):
    """A requests transport: OAuth token grants plus queued API answers, requests recorded."""

    def __init__(self, *answers: Answer, token: Answer | None = None) -> None:
        super().__init__()
        self.answers = list(answers)
        self.token = token or (
            200,
            {"content-type": "application/json"},
            json.dumps(
                {
                    "access_token": ACCESS_TOKEN,
                    "token_type": "bearer",
                    "expires_in": 3600,
                    "scope": "*",
                }
            ).encode(),
        )
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        path = urlsplit(request.url or "").path
        item = self.token if path == "/api/v1/access_token" else None
        if item is None:
            self.sent.append(request)
            assert self.answers, f"unexpected request {request.method} {request.url}"
            item = self.answers.pop(0)
        if isinstance(item, BaseException):
            raise item
        status, headers, body = item
        response = requests.Response()
        response.status_code = status
        response.reason = {200: "OK", 201: "Created"}.get(status, "Error")
        response.headers = CaseInsensitiveDict(headers)
        response._content = body
        response.encoding = get_encoding_from_headers(response.headers)
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        """Nothing to release."""


def twitter_with(creds: Settings, *answers: Answer) -> tuple[TwitterSender, Transport]:
    sender = TwitterSender.from_settings(creds)
    transport = Transport(*answers)
    sender.client.session.mount("https://", transport)  # type: ignore[attr-defined]
    return sender, transport


def reddit_with(
    creds: Settings, *answers: Answer, token: Answer | None = None
) -> tuple[RedditSender, Transport]:
    transport = Transport(*answers, token=token)
    session = requests.Session()
    session.mount("https://", transport)
    return RedditSender.from_settings(creds, session=session), transport


# --- X: the create/delete-tweet cassette -------------------------------------------------------


def tweepy_vcr(seen: list[Any]) -> vcr.VCR:
    def keep(request: Any) -> Any:
        seen.append(request)
        return request

    return vcr.VCR(
        cassette_library_dir=str(FIXTURES / "tweepy-cassettes"),
        record_mode="none",
        decode_compressed_response=True,
        # The recording had no reply field in its body; method, host and path must match.
        match_on=["method", "host", "path"],
        before_record_request=keep,
    )


def test_twitter_reply_replays_create_tweet(creds):
    sender = TwitterSender.from_settings(creds)
    reply, mention = unsaved("1455953449422516226")
    seen: list[Any] = []
    with tweepy_vcr(seen).use_cassette("test_client_create_and_delete_tweet.yaml") as cassette:
        result = sender.send(reply, mention)
        assert cassette.play_count == 1
    sent = seen[-1]
    assert (sent.method, sent.uri) == ("POST", "https://api.twitter.com/2/tweets")
    assert json.loads(sent.body) == {
        "text": "Test Tweet",
        "reply": {"in_reply_to_tweet_id": "1455953449422516226"},
    }
    # OAuth 1.0a user context, signed with the brand account's token.
    auth = sent.headers["Authorization"]
    assert auth.startswith("OAuth ")
    assert 'oauth_consumer_key="test-consumer-key"' in auth
    assert f'oauth_token="{X_TOKEN}"' in auth
    assert result.external_id == "1456012973835788293"
    assert result.text == "Test Tweet"
    assert result.url == "https://x.com/i/web/status/1456012973835788293"
    # The recording's answer has no created_at: the snowflake id gives the time.
    assert result.created_at == datetime(2021, 11, 3, 21, 38, 39, 32000)
    assert result.author is not None and result.author.id == "1072250532645998596"
    sender.close()


def test_outbox_with_the_real_twitter_sender(session, session_factory, creds):
    task, target = seed_task(session, "1455953449422516226", thread_id="1455953449422516226")
    reply = queue(session, task, body="Test Tweet")
    seen: list[Any] = []
    with tweepy_vcr(seen).use_cassette("test_client_create_and_delete_tweet.yaml"):
        report = jobs.deliver_replies(
            session_factory, creds, {"twitter": TwitterSender.from_settings(creds)}
        )
    assert (report.sent, report.failed) == (1, 0)
    reply = fresh(session, reply.id)
    assert (reply.status, reply.external_id) == ("sent", "1456012973835788293")
    brand = session.get(Mention, reply.sent_mention_id)
    assert (brand.is_brand, brand.text, brand.in_reply_to_id) == (
        True,
        "Test Tweet",
        target.external_id,
    )
    assert brand.created_at == datetime(2021, 11, 3, 21, 38, 39, 32000)
    assert session.get(Author, brand.author_id).platform_user_id == "1072250532645998596"


def test_outbox_builds_the_twitter_sender_from_settings(session, session_factory, creds):
    task, _ = seed_task(session, "1455953449422516226")
    reply = queue(session, task, body="Test Tweet")
    with tweepy_vcr([]).use_cassette("test_client_create_and_delete_tweet.yaml"):
        jobs.deliver_replies(session_factory, creds)  # no senders given
    assert fresh(session, reply.id).external_id == "1456012973835788293"


# --- X: failures --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "error", "message"),
    [
        (
            "duplicate",
            SendRejected,
            "X refused: HTTP 403: You are not allowed to create a Tweet with duplicate content.",
        ),
        (
            "reply_not_allowed",
            SendRejected,
            "X refused: HTTP 403: Reply to this conversation is not allowed because you have not "
            "been mentioned or otherwise engaged by the author of the post you are replying to.",
        ),
        (
            "deleted",
            SendRejected,
            "X refused: HTTP 400: The `reply.in_reply_to_tweet_id` query parameter value "
            "[2123717988971446272] does not exist",
        ),
        ("unauthorized", AuthFailed, "X refused the brand's credentials: HTTP 401: Unauthorized"),
        ("unavailable", DeliveryUncertain, "X error: HTTP 503: Service Unavailable"),
        ("created_without_id", DeliveryUncertain, "X accepted the reply but sent back no tweet id"),
    ],
)
def test_twitter_errors(creds, fixture, error, message):
    sender, transport = twitter_with(creds, answer(X_ANSWERS[fixture]))
    with pytest.raises(error) as exc:
        sender.send(*unsaved("2123717988971446272"))
    assert str(exc.value) == message
    assert type(exc.value) is error
    assert len(transport.sent) == 1


def test_twitter_rate_limit_waits_for_the_reset(creds, monkeypatch):
    monkeypatch.setattr("collectors.twitter.utcnow", lambda: datetime(2026, 11, 21, 11, 50))
    sender, _ = twitter_with(creds, answer(X_ANSWERS["rate_limited"]))
    with pytest.raises(RateLimited) as exc:
        sender.send(*unsaved("2123717988971446272"))
    assert exc.value.retry_at == datetime(2026, 11, 21, 12, 0, 0)


@pytest.mark.parametrize(
    ("raised", "error", "message"),
    [
        (requests.ConnectTimeout("connect"), TransientError, "X unreachable: ConnectTimeout"),
        (requests.ReadTimeout("read"), DeliveryUncertain, "X connection failed: ReadTimeout"),
        (
            requests.ConnectionError("reset"),
            DeliveryUncertain,
            "X connection failed: ConnectionError",
        ),
    ],
)
def test_twitter_connection_failures(creds, raised, error, message):
    sender, _ = twitter_with(creds, raised)
    with pytest.raises(error) as exc:
        sender.send(*unsaved("2123717988971446272"))
    assert type(exc.value) is error and str(exc.value) == message


def test_twitter_finds_an_earlier_post(creds):
    sender, transport = twitter_with(creds, answer(X_ANSWERS["user_tweets"]))
    # X escapes &, prefixes the handle it answers and wraps links: still the same reply.
    body = "We are on it & sorry about the wait https://lumen.example.com/status"
    found = sender.find_sent(*unsaved("2123717988971446272", body=body))
    assert found is not None
    assert found.external_id == "2123719247262646272"
    assert found.created_at == datetime(2026, 11, 20, 10, 5, 0)
    assert found.text == "@ann We are on it &amp; sorry about the wait https://t.co/Xy12AbCdEf"
    (request,) = transport.sent
    assert urlsplit(request.url or "").path == "/2/users/1072250532645998596/tweets"
    query = parse_qs(urlsplit(request.url or "").query)
    assert query["since_id"] == ["2123717988971446272"]
    assert query["tweet.fields"] == ["created_at,referenced_tweets"]


def test_twitter_find_asks_who_the_token_belongs_to(creds):
    creds.x_access_token = SecretStr("not-a-user-id-token")
    sender, transport = twitter_with(
        creds, answer(X_ANSWERS["me"]), answer(X_ANSWERS["user_tweets_empty"])
    )
    assert sender.find_sent(*unsaved("2123717988971446272")) is None
    assert [urlsplit(r.url or "").path for r in transport.sent] == [
        "/2/users/me",
        "/2/users/1072250532645998596/tweets",
    ]
    assert sender.brand_user_id == "1072250532645998596"


def test_twitter_find_ignores_other_texts_and_older_replies(creds):
    sender, _ = twitter_with(
        creds, answer(X_ANSWERS["user_tweets"]), answer(X_ANSWERS["user_tweets"])
    )
    # Another answer of ours to the same tweet is not this reply.
    assert sender.find_sent(*unsaved("2123717988971446272", body="Please DM us")) is None
    reply, mention = unsaved("2123717988971446272", body="We are on it & sorry about the wait")
    reply.created_at = datetime(2026, 11, 20, 10, 30)
    assert sender.find_sent(reply, mention) is None


def test_twitter_find_failures_are_transient(creds):
    sender, _ = twitter_with(creds, answer(X_ANSWERS["unavailable"]))
    with pytest.raises(TransientError) as exc:
        sender.find_sent(*unsaved("2123717988971446272"))
    assert type(exc.value) is TransientError


def test_missing_x_credentials_name_the_settings(settings):
    with pytest.raises(AuthFailed) as exc:
        TwitterSender.from_settings(settings)
    assert str(exc.value) == (
        "X replies need credentials: set SOCIALCRM_X_CONSUMER_KEY, SOCIALCRM_X_CONSUMER_SECRET, "
        "SOCIALCRM_X_ACCESS_TOKEN, SOCIALCRM_X_ACCESS_TOKEN_SECRET"
    )


# --- Reddit: the comment and submission reply cassettes ----------------------------------------

PLACEHOLDERS = {
    "<USER_AGENT>": USER_AGENT,
    "<ACCESS_TOKEN>": ACCESS_TOKEN,
    "<BASIC_AUTH>": base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode(),
    "<USERNAME>": USERNAME,
    "<PASSWORD>": PASSWORD,
    "<TEST_SUBREDDIT>": "lumenmobile",
}


class PlaceholderPersister:
    """Loads praw's cassettes with their placeholders filled in with the test credentials."""

    @classmethod
    def load_cassette(cls, cassette_path: str, serializer: Any) -> Any:
        text = Path(cassette_path).read_text(encoding="utf-8")
        for placeholder, value in PLACEHOLDERS.items():
            text = text.replace(placeholder, value)
        return deserialize(text, serializer)

    @staticmethod
    def save_cassette(cassette_path: str, cassette_dict: Any, serializer: Any) -> None:
        raise AssertionError("cassettes are replayed only")


def _same_authorization(r1: Any, r2: Any) -> None:
    # The recorded Basic and bearer credentials must be the ones our client sends.
    assert r1.headers.get("Authorization") == r2.headers.get("Authorization")


def _same_form(r1: Any, r2: Any) -> None:
    # The form fields (order aside): the password grant and the reply's thing_id and text.
    assert parse_qs(r1.body.decode() if isinstance(r1.body, bytes) else r1.body) == parse_qs(
        r2.body.decode() if isinstance(r2.body, bytes) else r2.body
    )


@pytest.fixture
def praw_vcr() -> vcr.VCR:
    replay = vcr.VCR(
        serializer="json",
        cassette_library_dir=str(FIXTURES / "praw-cassettes"),
        record_mode="none",
        match_on=["method", "scheme", "host", "path", "authorization", "form"],
    )
    replay.register_persister(PlaceholderPersister)
    replay.register_matcher("authorization", _same_authorization)
    replay.register_matcher("form", _same_form)
    return replay


def test_reddit_comment_reply_replays_the_cassette(creds, praw_vcr):
    sender = RedditSender.from_settings(creds)
    reply, mention = unsaved("t1_d1616q2", platform="reddit", body="Comment reply")
    with praw_vcr.use_cassette("TestComment.test_reply.json") as cassette:
        result = sender.send(reply, mention)
        assert cassette.all_played
    assert result.external_id == "t1_d1680wu"
    assert result.text == "Comment reply"
    assert result.url == "https://www.reddit.com/comments/4b1tfm/_/d1680wu/"
    assert result.created_at == datetime(2016, 3, 20, 0, 33, 51)
    assert result.author is not None and (result.author.id, result.author.handle) == (
        None,
        USERNAME,
    )
    sender.close()


def test_reddit_submission_reply_replays_the_cassette(creds, praw_vcr):
    sender = RedditSender.from_settings(creds)
    reply, mention = unsaved("t3_4b1tfm", platform="reddit", body="Test reply")
    with praw_vcr.use_cassette("TestSubmission.test_reply.json") as cassette:
        result = sender.send(reply, mention)
        assert cassette.all_played
    assert (result.external_id, result.text) == ("t1_d162ara", "Test reply")
    assert result.url == "https://www.reddit.com/comments/4b1tfm/_/d162ara/"
    assert result.created_at == datetime(2016, 3, 19, 21, 39, 27)


def test_outbox_with_the_real_reddit_sender(session, session_factory, creds, praw_vcr):
    task, _target = seed_task(
        session,
        "t1_d1616q2",
        platform="reddit",
        text="the app is broken",
        thread_id="t3_4b1tfm",
        in_reply_to_id="t3_4b1tfm",
    )
    reply = queue(session, task, body="Comment reply")
    with praw_vcr.use_cassette("TestComment.test_reply.json"):
        report = jobs.deliver_replies(session_factory, creds)  # sender built from settings
    assert (report.sent, report.failed) == (1, 0)
    reply = fresh(session, reply.id)
    assert (reply.status, reply.external_id) == ("sent", "t1_d1680wu")
    brand = session.get(Mention, reply.sent_mention_id)
    assert (brand.platform, brand.is_brand, brand.kind) == ("reddit", True, "reply")
    assert (brand.thread_id, brand.in_reply_to_id) == ("t3_4b1tfm", "t1_d1616q2")
    assert brand.url == "https://www.reddit.com/comments/4b1tfm/_/d1680wu/"
    author = session.get(Author, brand.author_id)
    assert (author.author_key, author.handle) == (f"@{USERNAME.lower()}", USERNAME)


# --- Reddit: failures ----------------------------------------------------------------------------


def test_reddit_ratelimit_error_waits(creds, monkeypatch):
    now = datetime(2026, 11, 20, 12, 0)
    monkeypatch.setattr("engagement.replies.senders.utcnow", lambda: now)
    sender, _ = reddit_with(creds, answer(REDDIT_ANSWERS["ratelimit"]))
    with pytest.raises(RateLimited) as exc:
        sender.send(*unsaved("t1_m9x1aaa", platform="reddit"))
    assert exc.value.retry_at == now + timedelta(minutes=5)
    assert str(exc.value).startswith("Reddit rate limit: Looks like you've been doing that a lot.")


def test_reddit_429_waits_for_the_reset_header(creds, monkeypatch):
    now = datetime(2026, 11, 20, 12, 0)
    monkeypatch.setattr("engagement.replies.senders.utcnow", lambda: now)
    sender, _ = reddit_with(creds, answer(REDDIT_ANSWERS["too_many_requests"]))
    with pytest.raises(RateLimited) as exc:
        sender.send(*unsaved("t1_m9x1aaa", platform="reddit"))
    assert exc.value.retry_at == now + timedelta(seconds=120)


@pytest.mark.parametrize(
    ("fixture", "error", "message"),
    [
        (
            "thread_locked",
            SendRejected,
            "Reddit refused: THREAD_LOCKED: 'Comments are locked.' on field 'parent'",
        ),
        ("forbidden", SendRejected, "Reddit refused: HTTP 403: received 403 HTTP response"),
        ("server_error", DeliveryUncertain, "Reddit error: HTTP 500"),
    ],
)
def test_reddit_errors(creds, fixture, error, message):
    sender, transport = reddit_with(creds, answer(REDDIT_ANSWERS[fixture]))
    with pytest.raises(error) as exc:
        sender.send(*unsaved("t3_1h2k3l", platform="reddit"))
    assert type(exc.value) is error and str(exc.value) == message
    # Never retried: a second POST could post the comment twice.
    assert len(transport.sent) == 1


def test_reddit_bad_password_is_an_auth_failure(creds):
    sender, transport = reddit_with(creds, token=answer(REDDIT_ANSWERS["invalid_grant"]))
    with pytest.raises(AuthFailed) as exc:
        sender.send(*unsaved("t1_m9x1aaa", platform="reddit"))
    assert (
        str(exc.value)
        == "Reddit refused the brand's credentials: invalid_grant error processing request"
    )
    assert transport.sent == []


@pytest.mark.parametrize(
    ("raised", "error", "message"),
    [
        (requests.ConnectTimeout("connect"), TransientError, "Reddit unreachable: ConnectTimeout"),
        (requests.ReadTimeout("read"), DeliveryUncertain, "Reddit connection failed: ReadTimeout"),
    ],
)
def test_reddit_connection_failures(creds, raised, error, message):
    sender, transport = reddit_with(creds, raised)
    with pytest.raises(error) as exc:
        sender.send(*unsaved("t1_m9x1aaa", platform="reddit"))
    assert type(exc.value) is error and str(exc.value) == message
    assert len(transport.sent) == 1


def test_reddit_refuses_what_is_not_a_comment_or_post(creds):
    sender, transport = reddit_with(creds)
    with pytest.raises(SendRejected, match="'t5_2qh1i' is not a Reddit comment or submission"):
        sender.send(*unsaved("t5_2qh1i", platform="reddit"))
    assert transport.sent == []


def test_reddit_finds_an_earlier_comment(creds):
    sender, transport = reddit_with(creds, answer(REDDIT_ANSWERS["user_comments"]))
    found = sender.find_sent(*unsaved("t1_m9x1aaa", platform="reddit", body=DM_REPLY))
    assert found is not None
    assert found.external_id == "t1_m9x2k1p"
    assert (
        found.url
        == "https://www.reddit.com/r/lumenmobile/comments/1h2k3l/app_keeps_crashing/m9x2k1p/"
    )
    assert found.created_at == datetime(2026, 11, 20, 10, 5, 0)
    assert found.author is not None and found.author.id == "t2_1q2w3e"
    (request,) = transport.sent
    assert urlsplit(request.url or "").path == f"/user/{USERNAME}/comments"
    assert parse_qs(urlsplit(request.url or "").query)["limit"] == ["100"]


def test_reddit_find_ignores_other_parents_texts_and_older_comments(creds):
    listing = answer(REDDIT_ANSWERS["user_comments"])
    sender, _ = reddit_with(creds, listing, listing, listing)
    assert sender.find_sent(*unsaved("t1_other", platform="reddit", body=DM_REPLY)) is None
    assert sender.find_sent(*unsaved("t1_m9x1aaa", platform="reddit", body="Other")) is None
    reply, mention = unsaved("t1_m9x1aaa", platform="reddit", body=DM_REPLY)
    reply.created_at = datetime(2026, 11, 20, 10, 30)
    assert sender.find_sent(reply, mention) is None


def test_missing_reddit_credentials_name_the_settings(settings):
    with pytest.raises(AuthFailed) as exc:
        RedditSender.from_settings(settings)
    assert str(exc.value) == (
        "Reddit replies need credentials: set SOCIALCRM_REDDIT_CLIENT_ID, "
        "SOCIALCRM_REDDIT_CLIENT_SECRET, SOCIALCRM_REDDIT_USERNAME, SOCIALCRM_REDDIT_PASSWORD"
    )
