"""The shared httpx helper: client settings and the one error mapping."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
import respx

from collectors import http
from collectors.base import AuthFailed, RateLimited, SourceConfigError, TransientError
from core.timeutil import utcnow

URL = "https://feeds.example/x.xml"
NOW = datetime(2026, 11, 20, 12, 0, 0)


def _client(settings, handler=None):
    transport = httpx.MockTransport(handler) if handler else None
    return http.build_client(settings, transport=transport)


def test_client_uses_settings_timeout_user_agent_and_follows_redirects(settings):
    settings.http_timeout_seconds = 7.5
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/old":
            return httpx.Response(301, headers={"Location": "https://feeds.example/new"})
        return httpx.Response(200, text="ok")

    with _client(settings, handler) as client:
        assert client.timeout == httpx.Timeout(7.5)
        got = http.get(client, "https://feeds.example/old", what="feed")
    assert got.status == 200
    assert got.url == "https://feeds.example/new"
    assert got.content == b"ok"
    assert [r.url.path for r in seen] == ["/old", "/new"]
    assert seen[0].headers["user-agent"] == http.USER_AGENT


def test_real_transport_does_not_retry(settings):
    client = http.build_client(settings)
    transport = client._transport
    assert isinstance(transport, httpx.HTTPTransport)
    assert transport._pool._retries == 0
    client.close()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", NOW + timedelta(seconds=120)),
        ("0", NOW),
        ("Fri, 20 Nov 2026 12:30:00 GMT", NOW + timedelta(minutes=30)),
        ("Fri, 20 Nov 2026 11:00:00 GMT", NOW),  # already past: come back now
        ("soon", NOW + timedelta(minutes=15)),
        ("", NOW + timedelta(minutes=15)),
        ("99999999999", NOW + timedelta(days=1)),  # absurd values are capped
    ],
)
def test_retry_after(value, expected):
    assert http.retry_at_from({"retry-after": value}, now=NOW) == expected


def test_retry_after_missing_header_is_fifteen_minutes():
    assert http.retry_at_from({}, now=NOW) == NOW + timedelta(minutes=15)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, TransientError),
        (502, TransientError),
        (503, TransientError),
        (408, TransientError),
        (401, AuthFailed),
        (403, AuthFailed),
        (404, SourceConfigError),
        (410, SourceConfigError),
        (400, SourceConfigError),
    ],
)
def test_status_mapping(status, error):
    result = http.error_for(httpx.Response(status), what="feed")
    assert type(result) is error
    assert f"HTTP {status}" in str(result)


@pytest.mark.parametrize("status", [200, 204, 304])
def test_success_maps_to_none(status):
    assert http.error_for(httpx.Response(status), what="feed") is None


def test_429_with_retry_after_seconds():
    before = utcnow()
    result = http.error_for(httpx.Response(429, headers={"Retry-After": "90"}), what="feed")
    assert isinstance(result, RateLimited)
    assert before + timedelta(seconds=89) <= result.retry_at
    assert result.retry_at <= utcnow() + timedelta(seconds=91)


def test_429_with_http_date():
    when = "Wed, 21 Oct 2099 07:28:00 GMT"
    result = http.error_for(httpx.Response(429, headers={"Retry-After": when}), what="feed")
    assert isinstance(result, RateLimited)
    # Far-future dates are capped at one day.
    assert result.retry_at <= utcnow() + timedelta(days=1, seconds=1)
    assert result.retry_at >= utcnow() + timedelta(hours=23)


def test_429_without_header_waits_fifteen_minutes():
    result = http.error_for(httpx.Response(429), what="feed")
    assert isinstance(result, RateLimited)
    delta = result.retry_at - utcnow()
    assert timedelta(minutes=14) < delta <= timedelta(minutes=15)


@pytest.mark.parametrize(
    ("exc", "error"),
    [
        (httpx.ConnectTimeout("t"), TransientError),
        (httpx.ReadTimeout("t"), TransientError),
        (httpx.ConnectError("refused"), TransientError),
        (httpx.RemoteProtocolError("eof"), TransientError),
        (httpx.TooManyRedirects("loop"), TransientError),
        (httpx.UnsupportedProtocol("ftp"), SourceConfigError),
        (httpx.InvalidURL("bad"), SourceConfigError),
    ],
)
def test_exception_mapping(exc, error):
    assert type(http.error_for(exc, what="feed")) is error


@respx.mock
def test_get_raises_mapped_errors(settings):
    respx.get(URL).mock(side_effect=httpx.ConnectError("refused"))
    with http.build_client(settings) as client, pytest.raises(TransientError, match="feed"):
        http.get(client, URL, what="feed")


@respx.mock
def test_get_timeout_mid_body_is_transient(settings):
    class Stalls(httpx.SyncByteStream):
        def __iter__(self):
            yield b"<rss>"
            raise httpx.ReadTimeout("stalled")

    respx.get(URL).mock(return_value=httpx.Response(200, stream=Stalls()))
    with http.build_client(settings) as client, pytest.raises(TransientError, match="timed out"):
        http.get(client, URL, what="feed")


@respx.mock
def test_get_refuses_oversized_body(settings):
    respx.get(URL).mock(return_value=httpx.Response(200, content=b"x" * 2048))
    with http.build_client(settings) as client:
        with pytest.raises(SourceConfigError, match="larger than 1024"):
            http.get(client, URL, what="feed", max_bytes=1024)
        assert http.get(client, URL, what="feed", max_bytes=4096).content == b"x" * 2048


@respx.mock
def test_get_passes_headers_and_returns_304(settings):
    route = respx.get(URL).mock(return_value=httpx.Response(304, headers={"ETag": '"v2"'}))
    with http.build_client(settings) as client:
        got = http.get(client, URL, what="feed", headers={"If-None-Match": '"v1"'})
    assert got.status == 304
    assert got.headers["etag"] == '"v2"'
    assert route.calls.last.request.headers["if-none-match"] == '"v1"'
