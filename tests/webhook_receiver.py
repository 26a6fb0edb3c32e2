"""A real local HTTP receiver for webhook tests (127.0.0.1, random port, its own thread).

It checks each request's Standard Webhooks signature with its own small implementation of the
spec (not engagement.webhooks.signing, so a bug shared by our signer and verifier cannot hide),
records what arrived, and answers 200, or 401 for a bad signature. Tests can queue behaviours
for the next requests: an HTTP status (500, 410, ...) or a hang. A hang waits on an event that
`stop()` sets, for at most `seconds`, so it outlasts a tiny client timeout but never the test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE = 300


@dataclass
class Received:
    """One request as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    error: str | None
    answered: int | None  # None: the request was left hanging

    @property
    def json(self) -> Any:
        """The parsed body."""
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        """The webhook-id header."""
        return self.headers.get("webhook-id", "")


def spec_verify(secret: str, headers: dict[str, str], body: bytes) -> str | None:
    """None if a v1 signature matches and the timestamp is fresh, else the reason."""
    msg_id = headers.get("webhook-id")
    stamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (msg_id and stamp and signatures):
        return "missing headers"
    if not stamp.isdigit() or abs(int(stamp) - time.time()) > TOLERANCE:
        return "bad or stale timestamp"
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = msg_id.encode() + b"." + stamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for sig in signatures.split(" "):
        version, _, value = sig.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return None
    return "no matching signature"


@dataclass
class _Behaviour:
    status: int | None = None
    hang_seconds: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class WebhookReceiver:
    """Start with `with WebhookReceiver(secret) as rx:`; POST to `rx.url`."""

    secret: str | None = None
    received: list[Received] = field(default_factory=list)
    _queue: list[_Behaviour] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # -- control ---------------------------------------------------------------------------
    def fail(
        self, status: int = 500, times: int = 1, headers: dict[str, str] | None = None
    ) -> None:
        """Answer the next `times` requests with `status` (and extra response headers)."""
        with self._lock:
            self._queue.extend(
                _Behaviour(status=status, headers=dict(headers or {})) for _ in range(times)
            )

    def hang(self, times: int = 1, seconds: float = 5.0) -> None:
        """Leave the next `times` requests unanswered for up to `seconds` (then answer 200)."""
        with self._lock:
            self._queue.extend(_Behaviour(hang_seconds=seconds) for _ in range(times))

    @property
    def url(self) -> str:
        """Where to POST."""
        assert self._server is not None, "receiver not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def ids(self) -> list[str]:
        """webhook-id of every request so far, in arrival order."""
        with self._lock:
            return [r.webhook_id for r in self.received]

    def start(self) -> WebhookReceiver:
        """Bind 127.0.0.1 on a free port and serve in a daemon thread."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver._handle(self, headers, body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release hanging requests and shut the server down."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving ---------------------------------------------------------------------------
    def _handle(
        self, handler: BaseHTTPRequestHandler, headers: dict[str, str], body: bytes
    ) -> None:
        with self._lock:
            behaviour = self._queue.pop(0) if self._queue else _Behaviour()
        error = spec_verify(self.secret, headers, body) if self.secret else "no secret set"
        if behaviour.hang_seconds:
            with self._lock:
                self.received.append(
                    Received(handler.path, headers, body, error is None, error, None)
                )
            # Server side of a timeout test: outlast the client's timeout, bounded.
            self._stopping.wait(behaviour.hang_seconds)
            self._answer(handler, 200)
            return
        status = behaviour.status or (200 if error is None else 401)
        with self._lock:
            self.received.append(
                Received(handler.path, headers, body, error is None, error, status)
            )
        body = b"receiver says no" if status >= 300 else b"ok"
        self._answer(handler, status, body, behaviour.headers)

    @staticmethod
    def _answer(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: bytes = b"ok",
        headers: dict[str, str] | None = None,
    ) -> None:
        try:
            handler.send_response(status)
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            handler.send_header("Content-Type", "text/plain")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:
            pass  # the client gave up (timeout): nothing to answer
