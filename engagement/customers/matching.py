"""Fuzzy author→customer matching: pure functions, no database.

A match here is only ever a *suggestion* for an agent: names repeat, handles are chosen freely and
a text can quote someone else's e-mail. Each signal gives a confidence and a sentence saying why.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher

# Weight of each signal at full similarity. Independent signals combine as 1 - Π(1 - c), so two
# strong ones (same name and a handle made of it) land near 0.97; one alone stays below 0.9.
EMAIL_IN_TEXT = 0.9
PHONE_IN_TEXT = 0.85
NAME_WEIGHT = 0.85
HANDLE_WEIGHT = 0.8
# Below this raw similarity a signal is noise and does not count at all.
MIN_SIMILARITY = 0.8
# Words of two names pair up at this similarity ('Jon' / 'John'); names that don't pair up are
# held at DISAGREEING_NAMES, under MIN_SIMILARITY.
TOKEN_SIMILARITY = 0.75
DISAGREEING_NAMES = 0.5
MIN_HANDLE_LETTERS = 4
WORD_START = 3
MAX_CONFIDENCE = 0.99
MIN_PHONE_DIGITS = 7
PHONE_SUFFIX_DIGITS = 10
PREFIX_LEN = 4

EMAIL_IN_TEXT_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
PHONE_IN_TEXT_RE = re.compile(r"\+?\d[\d\s().\-]{5,}\d")
NON_ALNUM_RE = re.compile(r"[^0-9a-z]+")
NON_ALPHA_RE = re.compile(r"[^a-z]+")
WORD_RE = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Profile:
    """What we know about an author: authors have no bio, so names and what they wrote."""

    handle: str | None
    display_name: str | None
    emails: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Candidate:
    """A customer as the matcher sees it."""

    id: int
    name: str | None
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class Match:
    """A scored suggestion: confidence in [0, 1] and the human-readable reason."""

    customer_id: int
    confidence: float
    reason: str


@dataclass(frozen=True)
class PrefilterKeys:
    """Cheap SQL look-ups that bound which customers are scored at all."""

    # All words of the display name at once: the specific look-up, tried before single words.
    full_name: list[str] = field(default_factory=list)
    name_prefixes: list[str] = field(default_factory=list)
    email_prefixes: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    phone_suffixes: list[str] = field(default_factory=list)

    def empty(self) -> bool:
        """True when nothing about the author could find a candidate."""
        return not (self.name_prefixes or self.email_prefixes or self.emails or self.phone_suffixes)


def fold(text: str) -> str:
    """Lower-case without accents: 'José Ramírez' → 'jose ramirez'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def tokens(text: str | None) -> list[str]:
    """Alphanumeric words of a folded text."""
    if not text:
        return []
    return [t for t in NON_ALNUM_RE.split(fold(text)) if t]


def letters(text: str | None) -> str:
    """Only the letters of a folded text ('Tasha_Monroe_7' → 'tashamonroe')."""
    return NON_ALPHA_RE.sub("", fold(text)) if text else ""


def ratio(a: str, b: str) -> float:
    """difflib similarity in [0, 1] (0 when either side is empty)."""
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def _tokens_agree(short: list[str], long: list[str]) -> bool:
    """Every word of the shorter name has a counterpart: similar, or a prefix ('Greg' of
    'Gregory', 'K' of 'Kara'). 'Mei Brooks' and 'Leo Brooks' share a surname, not a person."""
    for word in short:
        if not any(
            ratio(word, other) >= TOKEN_SIMILARITY
            or ((len(word) == 1 or len(word) >= 3) and other.startswith(word))
            or ((len(other) == 1 or len(other) >= 3) and word.startswith(other))
            for other in long
        ):
            return False
    return True


def name_similarity(a: str | None, b: str | None) -> float:
    """Similarity of two person names, insensitive to case, accents and word order; names
    whose words do not pair up stay below every threshold."""
    ta, tb = tokens(a), tokens(b)
    if not ta or not tb:
        return 0.0
    score = max(
        ratio(" ".join(ta), " ".join(tb)), ratio(" ".join(sorted(ta)), " ".join(sorted(tb)))
    )
    short, long = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    return score if _tokens_agree(short, long) else min(score, DISAGREEING_NAMES)


def name_variants(name: str | None) -> tuple[list[str], list[str]]:
    """How people turn a name into a handle: whole forms (greghalvorsen, halvorsengreg) that may
    be misspelt, and initial forms (ghalvorsen, gregh, halvorseng) that must match exactly,
    since the one letter that differs is the whole evidence."""
    words = [letters(t) for t in tokens(name)]
    words = [w for w in words if w]
    if not words:
        return [], []
    if len(words) == 1:
        return words, []
    first, last = words[0], words[-1]
    whole = list(dict.fromkeys(["".join(words), first + last, last + first]))
    initials = [first[0] + last, first + last[0], last + first[0]]
    return whole, initials


def handle_name_similarity(handle: str | None, name: str | None) -> float:
    """Best similarity of a handle's letters to the usual handle forms of a name."""
    core = letters(handle)
    if len(core) < MIN_HANDLE_LETTERS:
        return 0.0
    whole, initials = name_variants(name)
    if core in initials:
        return 1.0
    if not _covers(core, tokens(name)):
        return 0.0
    return max((ratio(core, v) for v in whole), default=0.0)


def _covers(core: str, words: list[str]) -> bool:
    """A handle that drops a word ('casey' for Casey Xu) names a first name, not a person: the
    start of every word must be in it."""
    starts = [letters(w)[:WORD_START] for w in words]
    return all(s in core for s in starts if s)


def email_local(email: str | None) -> str:
    """The part before the @."""
    return email.partition("@")[0] if email else ""


def handle_email_similarity(handle: str | None, email: str | None) -> float:
    """Similarity of a handle's letters to the letters of an e-mail's local part."""
    core = letters(handle)
    local = email_local(email)
    if len(core) < MIN_HANDLE_LETTERS or not _covers(core, tokens(local)):
        return 0.0
    return ratio(core, letters(local))


def digits(text: str | None) -> str:
    """The digits of a phone number."""
    return "".join(c for c in text if c.isdigit()) if text else ""


def phone_suffix(text: str | None) -> str | None:
    """The last digits of a phone number, enough to compare with or without country codes."""
    d = digits(text)
    return d[-PHONE_SUFFIX_DIGITS:] if len(d) >= MIN_PHONE_DIGITS else None


def extract_emails(text: str) -> set[str]:
    """E-mail addresses written in a text, lower-cased."""
    return {m.group(0).lower().rstrip(".") for m in EMAIL_IN_TEXT_RE.finditer(text)}


def extract_phones(text: str) -> set[str]:
    """Phone-number suffixes written in a text (runs of at least 7 digits)."""
    out = set()
    for m in PHONE_IN_TEXT_RE.finditer(text):
        suffix = phone_suffix(m.group(0))
        if suffix:
            out.add(suffix)
    return out


def profile_from(handle: str | None, display_name: str | None, texts: list[str]) -> Profile:
    """An author's profile, with the e-mails and phone numbers found in what they wrote."""
    emails: set[str] = set()
    phones: set[str] = set()
    for text in texts:
        emails |= extract_emails(text)
        phones |= extract_phones(text)
    return Profile(handle, display_name, frozenset(emails), frozenset(phones))


def prefilter_keys(profile: Profile) -> PrefilterKeys:
    """Name-token prefixes, e-mail prefixes, e-mails and phone suffixes to look customers up by."""
    name_prefixes: list[str] = []

    def add(prefix: str) -> None:
        if len(prefix) >= 2 and prefix not in name_prefixes:
            name_prefixes.append(prefix)

    for word in tokens(profile.display_name)[:3]:
        if word.isalpha() and len(word) >= 2:
            add(word)
    # The accented form too: SQL compares the stored name, which keeps its accents.
    raw = WORD_RE.findall((profile.display_name or "").lower())
    for word in raw[:3]:
        if fold(word) != word:
            add(word)
    handle_words = [w for w in NON_ALPHA_RE.split(fold(profile.handle or "")) if len(w) >= 3]
    for word in handle_words[:3]:
        add(word[:PREFIX_LEN] if len(word) > PREFIX_LEN else word)
    core = letters(profile.handle)
    email_prefixes = [core[:PREFIX_LEN]] if len(core) >= PREFIX_LEN else []
    full_name = [w for w in raw[:3] if len(w) >= 2]
    return PrefilterKeys(
        full_name=full_name if len(full_name) >= 2 else [],
        name_prefixes=name_prefixes[:6],
        email_prefixes=email_prefixes,
        emails=sorted(profile.emails)[:10],
        phone_suffixes=sorted(profile.phones)[:10],
    )


def score(profile: Profile, candidate: Candidate) -> Match | None:
    """Every signal linking the author to the customer, combined; None when nothing matches."""
    signals: list[tuple[float, str]] = []
    if candidate.email and candidate.email.lower() in profile.emails:
        signals.append(
            (EMAIL_IN_TEXT, f"their posts contain the customer's e-mail '{candidate.email}'")
        )
    customer_phone = phone_suffix(candidate.phone)
    if customer_phone and customer_phone in profile.phones:
        signals.append(
            (PHONE_IN_TEXT, f"their posts contain the customer's phone number '{candidate.phone}'")
        )
    sim = name_similarity(profile.display_name, candidate.name)
    if sim >= MIN_SIMILARITY:
        signals.append(
            (
                NAME_WEIGHT * sim,
                f"display name '{profile.display_name}' ≈ customer name '{candidate.name}' "
                f"({sim:.2f})",
            )
        )
    # A handle built from the name and one built from the e-mail are the same evidence twice.
    by_name = handle_name_similarity(profile.handle, candidate.name)
    by_email = handle_email_similarity(profile.handle, candidate.email)
    if max(by_name, by_email) >= MIN_SIMILARITY:
        if by_name >= by_email:
            reason = f"handle @{profile.handle} ≈ customer name '{candidate.name}' ({by_name:.2f})"
        else:
            reason = f"handle @{profile.handle} ≈ e-mail '{candidate.email}' ({by_email:.2f})"
        signals.append((HANDLE_WEIGHT * max(by_name, by_email), reason))
    if not signals:
        return None
    miss = 1.0
    for confidence, _ in signals:
        miss *= 1.0 - confidence
    combined = min(MAX_CONFIDENCE, 1.0 - miss)
    signals.sort(key=lambda s: -s[0])
    return Match(candidate.id, round(combined, 3), "; ".join(r for _, r in signals))
