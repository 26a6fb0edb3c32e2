"""Standard Webhooks signatures (symmetric `v1`, HMAC-SHA256).

Spec: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
The signed content is `{msg_id}.{timestamp}.{body}`; the secret is `whsec_` + base64 of the key;
`webhook-signature` is a space-separated list of `v1,<base64 signature>` (several during a key
rotation); `webhook-timestamp` is integer Unix seconds, checked against a tolerance on receipt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence
from secrets import token_bytes

SECRET_PREFIX = "whsec_"  # noqa: S105 - the spec's marker for secrets, not a secret
# The spec asks for 24 to 64 random bytes; 32 is SHA-256's own output size.
KEY_BYTES = 32
DEFAULT_TOLERANCE = 300

HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"


class WebhookVerificationError(ValueError):
    """A webhook whose headers are missing, stale or carry no matching signature."""


def generate_secret() -> str:
    """A new random signing secret in the spec's `whsec_<base64>` form."""
    return SECRET_PREFIX + base64.b64encode(token_bytes(KEY_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The raw HMAC key of a `whsec_` secret (the prefix is optional, padding forgiven)."""
    text = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("webhook secret is not base64") from exc
    if not key:
        raise ValueError("webhook secret is empty")
    return key


def _body_bytes(body: str | bytes) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def sign(secret: str, msg_id: str, timestamp: int, body: str | bytes) -> str:
    """`v1,<base64(HMAC-SHA256(key, "{msg_id}.{timestamp}.{body}"))>`."""
    if "." in msg_id:
        # The spec forbids dots in the id: they would make the signed content ambiguous.
        raise ValueError("webhook message id must not contain '.'")
    content = f"{msg_id}.{int(timestamp)}.".encode() + _body_bytes(body)
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def sign_headers(
    secrets: Sequence[str], msg_id: str, timestamp: int, body: str | bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every given secret (rotation)."""
    return {
        HEADER_ID: msg_id,
        HEADER_TIMESTAMP: str(int(timestamp)),
        HEADER_SIGNATURE: " ".join(sign(s, msg_id, timestamp, body) for s in secrets),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: str | bytes,
    tolerance: int = DEFAULT_TOLERANCE,
    *,
    now: int | None = None,
) -> None:
    """Raise WebhookVerificationError unless a `v1` signature matches and the timestamp is
    within `tolerance` seconds of now (either side: replayed or forward-dated requests)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id = lowered.get(HEADER_ID)
    stamp = lowered.get(HEADER_TIMESTAMP)
    signatures = lowered.get(HEADER_SIGNATURE)
    if not (msg_id and stamp and signatures):
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or signature")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not an integer") from None
    current = int(time.time()) if now is None else now
    if timestamp < current - tolerance:
        raise WebhookVerificationError("webhook-timestamp too old")
    if timestamp > current + tolerance:
        raise WebhookVerificationError("webhook-timestamp too new")
    try:
        expected = sign(secret, msg_id, timestamp, body).encode("ascii")
    except ValueError as exc:
        raise WebhookVerificationError(str(exc)) from None
    for candidate in signatures.split(" "):
        # compare_digest keeps the comparison constant-time (no signing oracle).
        if candidate.startswith("v1,") and hmac.compare_digest(candidate.encode(), expected):
            return
    raise WebhookVerificationError("no matching v1 signature")
