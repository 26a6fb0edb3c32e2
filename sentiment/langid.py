"""Language of a post, for mentions whose platform gave none (py3langid, offline, ~100 µs).

Tweets are short and full of handles, links, tags and emoji, which a character n-gram model
reads as noise; they are stripped first. What is left must be long enough and the model sure
enough, or the answer is "und" (undetermined), which the scoring service scores rather than
skips: a short English reply such as "@united thanks!" must not be dropped as foreign.
"""

from __future__ import annotations

import re
import threading
from typing import Any

UNDETERMINED = "und"
MIN_LETTERS = 12  # fewer letters than this (after stripping) is too little to tell
MIN_CONFIDENCE = 0.90  # py3langid's calibrated probability of its best language

_NOISE = re.compile(
    r"https?://\S+|www\.\S+"  # links
    r"|(?<![\w@])[@#]\w+"  # handles and hashtags
    r"|\bRT\b"  # retweet marker
    r"|&\w+;"  # HTML entities (&amp;)
)
_NON_LETTER = re.compile(r"[\W\d_]+", re.UNICODE)

_lock = threading.Lock()
_identifier: Any = None


def _model() -> Any:
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _identifier


def clean(text: str) -> str:
    """The text without links, handles, hashtags, RT markers and entities."""
    return " ".join(_NOISE.sub(" ", text).split())


def detect(text: str | None) -> tuple[str, float]:
    """(ISO 639-1 code, confidence) of `text`; ("und", confidence) when it cannot tell."""
    if not text:
        return UNDETERMINED, 0.0
    body = clean(text[:2_000])
    if len(_NON_LETTER.sub("", body)) < MIN_LETTERS:
        return UNDETERMINED, 0.0
    lang, conf = _model().classify(body)
    conf = float(conf)
    if conf < MIN_CONFIDENCE:
        return UNDETERMINED, conf
    return str(lang), conf


def is_supported(text: str | None, languages: frozenset[str] | None) -> tuple[bool, str]:
    """Whether a model for `languages` (None: all) should score `text`, and the language."""
    if languages is None:
        return True, UNDETERMINED
    lang, _ = detect(text)
    return lang == UNDETERMINED or lang in languages, lang
