"""What each platform lets us post as a reply, checked before a reply is stored.

X counts "weighted" characters (twitter-text v3, the rules its compose box applies): the text
is NFC-normalised, code points in the Latin/Greek/Cyrillic/... ranges and a few punctuation
ranges weigh 1, everything else (CJK, most symbols) weighs 2, one emoji (even a ZWJ sequence,
a flag, a keycap) weighs 2, and every URL weighs 23 whatever its length (t.co wrapping). The
limit is 280. URL detection here is an approximation of twitter-text's extractor: ``http(s)://``
links, ``www.`` links and bare domains on common top-level domains.

Reddit comments may hold 10,000 characters. Reviews and feed items (App Store, Google Play,
RSS, imported files) have no reply channel we can post to.
"""

from __future__ import annotations

import re
import unicodedata

from core.errors import InvalidError

X_MAX_WEIGHTED = 280
X_URL_WEIGHT = 23
REDDIT_MAX_CHARS = 10_000
ANSWERABLE = ("twitter", "reddit")

UNANSWERABLE: dict[str, str] = {
    "appstore": "App Store reviews cannot be answered from here",
    "googleplay": "Google Play reviews cannot be answered from here",
    "rss": "RSS/Atom feed items cannot be answered from here",
    "file": "Mentions imported from files cannot be answered from here",
    "other": "Mentions from other sources cannot be answered from here",
}

# twitter-text v3: (first, last code point, weight); scale 100 → 1, default weight 2.
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))

_TLDS = (
    "com|net|org|edu|gov|info|biz|io|co|me|ly|gl|tv|app|dev|ai|xyz|shop|store|online|site|"
    "news|blog|link|page|us|uk|de|fr|es|it|nl|eu|ca|au|in|jp|cn|br|ru|ch|se|no|dk|fi|pl|be|at"
)
_URL = re.compile(
    r"(?<![\w@#$.\-/])"
    r"(?:https?://[^\s<>\"]+"
    r"|www\.[^\s<>\"]+"
    r"|(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:" + _TLDS + r")\b(?:[/?#][^\s<>\"]*)?)",
    re.IGNORECASE,
)
_TRAILING = ".,:;!?'\"*"

_PICTO = (
    "[\u2300-\u23ff\u2460-\u27bf\u2900-\u297f\u2b00-\u2bff\u3030\u303d\u3297\u3299"
    "\U0001f000-\U0001faff]"
)
_MODS = "(?:[\ufe0e\ufe0f\U0001f3fb-\U0001f3ff]|[\U000e0020-\U000e007f])*"
_EMOJI = re.compile(
    "[\U0001f1e6-\U0001f1ff]{2}"  # flag: a pair of regional indicators
    "|[0-9#*]\ufe0f?\u20e3"  # keycap
    f"|[\u00a9\u00ae\u203c\u2049\u2122\u2139]\ufe0f"  # text symbols in emoji presentation
    f"|{_PICTO}{_MODS}(?:\u200d{_PICTO}{_MODS})*"  # pictograph, modifiers, ZWJ sequences
)


def _code_point_weight(char: str) -> int:
    cp = ord(char)
    return 1 if any(lo <= cp <= hi for lo, hi in _LIGHT_RANGES) else 2


def _url_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _URL.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in _TRAILING:
            end -= 1
        # A closing parenthesis belongs to the URL only when the URL opened one.
        while (
            end > start
            and text[end - 1] == ")"
            and text.count("(", start, end) < text.count(")", start, end)
        ):
            end -= 1
        if end > start:
            spans.append((start, end))
    return spans


def _plain_weight(text: str) -> int:
    total = 0
    pos = 0
    while pos < len(text):
        emoji = _EMOJI.match(text, pos)
        if emoji:
            total += 2
            pos = emoji.end()
        else:
            total += _code_point_weight(text[pos])
            pos += 1
    return total


def weighted_length(text: str) -> int:
    """The length X counts against its 280 limit (twitter-text v3 weighting, approximate URLs)."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    pos = 0
    for start, end in _url_spans(text):
        total += _plain_weight(text[pos:start]) + X_URL_WEIGHT
        pos = end
    return total + _plain_weight(text[pos:])


def check_answerable(platform: str) -> None:
    """Raise InvalidError when mentions of this platform cannot be answered from here."""
    if platform in ANSWERABLE:
        return
    raise InvalidError(
        UNANSWERABLE.get(platform, f"mentions from platform {platform!r} cannot be answered")
    )


def validate_reply(platform: str, body: str) -> None:
    """Raise InvalidError unless `body` can be posted as a reply on `platform`."""
    check_answerable(platform)
    if not body.strip():
        raise InvalidError("reply body is empty")
    if platform == "twitter":
        length = weighted_length(body)
        if length > X_MAX_WEIGHTED:
            raise InvalidError(
                f"reply is {length} characters as X counts them; X allows {X_MAX_WEIGHTED}"
            )
    elif platform == "reddit" and len(body) > REDDIT_MAX_CHARS:
        raise InvalidError(
            f"reply is {len(body)} characters; Reddit comments allow {REDDIT_MAX_CHARS}"
        )
