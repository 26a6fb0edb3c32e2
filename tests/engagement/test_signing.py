"""Standard Webhooks signing: the spec's published vector, our own, and what must fail."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from engagement.webhooks import signing
from engagement.webhooks.signing import WebhookVerificationError

# Published by the spec's reference Python library:
# github.com/standard-webhooks/standard-webhooks libraries/python/tests/test_webhooks.py
# (test_sign_function); the same vector is in the other language libraries' tests.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = 1614265330
SPEC_BODY = '{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

# Our own vector: a 32-byte key of 0x00..0x1f and one of our event bodies.
OWN_SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
OWN_ID = "evt_0123456789abcdef0123456789abcdef"
OWN_TS = 1795168800  # 2026-11-20T10:00:00Z
OWN_BODY = (
    '{"type":"complaint.flagged","timestamp":"2026-11-20T10:00:00Z",'
    '"data":{"mention_id":42,"text":"caf\u00e9 \u2615 broken"}}'
)


def _headers(secret: str, msg_id: str, ts: int, body: str) -> dict[str, str]:
    return signing.sign_headers([secret], msg_id, ts, body)


def test_spec_published_vector():
    assert signing.sign(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY) == SPEC_SIGNATURE
    # The prefix is optional for the key, as in the reference library.
    assert signing.sign(SPEC_SECRET.removeprefix("whsec_"), SPEC_ID, SPEC_TS, SPEC_BODY) == (
        SPEC_SIGNATURE
    )
    signing.verify(
        SPEC_SECRET,
        {
            "webhook-id": SPEC_ID,
            "webhook-timestamp": str(SPEC_TS),
            "webhook-signature": SPEC_SIGNATURE,
        },
        SPEC_BODY,
        now=SPEC_TS + 10,
    )


def test_own_vector_matches_an_independent_hmac():
    key = bytes(range(32))
    content = f"{OWN_ID}.{OWN_TS}.{OWN_BODY}".encode()
    expected = "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    assert signing.sign(OWN_SECRET, OWN_ID, OWN_TS, OWN_BODY) == expected
    assert signing.sign(OWN_SECRET, OWN_ID, OWN_TS, OWN_BODY.encode()) == expected
    # Pinned with `openssl dgst -sha256 -mac HMAC -macopt hexkey:000102...1f -binary | base64`.
    assert expected == "v1,6V4ARC/gMeNNcD8C18Y96z5m6VDrv6snybtWr1rR7Rc="


def test_headers_and_verify_round_trip():
    headers = _headers(OWN_SECRET, OWN_ID, OWN_TS, OWN_BODY)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-id"] == OWN_ID and headers["webhook-timestamp"] == str(OWN_TS)
    signing.verify(OWN_SECRET, headers, OWN_BODY.encode(), now=OWN_TS)
    # Header names are case-insensitive.
    signing.verify(OWN_SECRET, {k.title(): v for k, v in headers.items()}, OWN_BODY, now=OWN_TS)


def test_rotation_signature_list_verifies_with_either_secret():
    old, new = signing.generate_secret(), signing.generate_secret()
    headers = signing.sign_headers([new, old], OWN_ID, OWN_TS, OWN_BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    signing.verify(old, headers, OWN_BODY, now=OWN_TS)
    signing.verify(new, headers, OWN_BODY, now=OWN_TS)
    with pytest.raises(WebhookVerificationError):
        signing.verify(signing.generate_secret(), headers, OWN_BODY, now=OWN_TS)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda h, b: (h, b.replace("42", "43")), id="body"),
        pytest.param(lambda h, b: ({**h, "webhook-timestamp": str(OWN_TS + 1)}, b), id="timestamp"),
        pytest.param(lambda h, b: ({**h, "webhook-id": "evt_other"}, b), id="id"),
        pytest.param(
            lambda h, b: ({**h, "webhook-signature": h["webhook-signature"][:-2] + "A="}, b),
            id="signature",
        ),
        pytest.param(
            lambda h, b: (
                {**h, "webhook-signature": h["webhook-signature"].replace("v1", "v2")},
                b,
            ),
            id="unknown-version",
        ),
        pytest.param(lambda h, b: ({**h, "webhook-timestamp": "soon"}, b), id="ts-not-int"),
        pytest.param(
            lambda h, b: ({k: v for k, v in h.items() if k != "webhook-signature"}, b),
            id="no-signature",
        ),
    ],
)
def test_tampering_fails(tamper):
    headers, body = tamper(_headers(OWN_SECRET, OWN_ID, OWN_TS, OWN_BODY), OWN_BODY)
    with pytest.raises(WebhookVerificationError):
        signing.verify(OWN_SECRET, headers, body, now=OWN_TS)


def test_timestamp_tolerance_both_ways():
    headers = _headers(OWN_SECRET, OWN_ID, OWN_TS, OWN_BODY)
    signing.verify(OWN_SECRET, headers, OWN_BODY, now=OWN_TS + 300)
    signing.verify(OWN_SECRET, headers, OWN_BODY, now=OWN_TS - 300)
    with pytest.raises(WebhookVerificationError, match="too old"):
        signing.verify(OWN_SECRET, headers, OWN_BODY, now=OWN_TS + 301)
    with pytest.raises(WebhookVerificationError, match="too new"):
        signing.verify(OWN_SECRET, headers, OWN_BODY, now=OWN_TS - 301)
    with pytest.raises(WebhookVerificationError, match="too old"):
        signing.verify(OWN_SECRET, headers, OWN_BODY, tolerance=60, now=OWN_TS + 61)


def test_generated_secrets_are_whsec_base64_of_32_random_bytes():
    a, b = signing.generate_secret(), signing.generate_secret()
    assert a.startswith("whsec_") and a != b
    assert len(signing.secret_key(a)) == 32


def test_bad_secrets_and_ids_are_refused():
    with pytest.raises(ValueError, match="base64"):
        signing.secret_key("whsec_not base64!")
    with pytest.raises(ValueError, match="empty"):
        signing.secret_key("whsec_")
    with pytest.raises(ValueError, match=r"'\.'"):
        signing.sign(OWN_SECRET, "evt.1", OWN_TS, OWN_BODY)
