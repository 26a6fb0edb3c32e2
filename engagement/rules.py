"""Which mentions open a response task, and how urgent they are.

The rules live in the `engagement_rules` table (editable per brand through /api/v1/rules);
this module validates their params and evaluates them against one mention, its newest
sentiment result and the customer behind its author.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from collectors.models import Mention
from core.business_hours import BusinessHours
from core.errors import InvalidError, NotFoundError, validation_message
from core.timeutil import utcnow
from engagement import repository
from engagement.models import Customer, EngagementRule
from engagement.schemas import (
    RULE_PARAMS,
    KeyCustomerParams,
    LowRatingParams,
    NegativeWomParams,
    QuestionParams,
    RuleCreate,
    RuleUpdate,
)
from sentiment.models import SentimentResult

log = logging.getLogger(__name__)

# The reason a rule kind writes on the task ("negative" predates the rules table and is what
# the inbox, the API and existing tasks show).
REASONS = {
    "negative_wom": "negative",
    "low_rating": "low_rating",
    "question": "question",
    "key_customer": "key_customer",
}
FOLLOW_UP = "follow_up"

LOW_RATING = 2  # reviews at or below this many stars need an answer (default rule)
HIGH_REACH = 10_000
VERY_HIGH_REACH = 100_000
HIGH_ENGAGEMENT = 100
VERY_NEGATIVE = 0.9
DEFAULT_KEY_TIERS = ("vip", "business")
# Complaint categories that are urgent whatever their reach.
URGENT_CATEGORIES = frozenset({"safety", "security", "fraud", "legal", "outage"})
# A neutral mention of a key customer is worth a look but not urgent on its own.
KEY_CUSTOMER_BASE = 4
DEFAULT_PRIORITY = 3
MIN_PRIORITY, MAX_PRIORITY = 1, 4

REQUEST_PHRASES = (
    "how do i",
    "how can i",
    "how to ",
    "can you",
    "could you",
    "can someone",
    "please help",
    "pls help",
    "need help",
    "help me",
    "anyone know",
    "does anyone know",
    "is there a way",
    "is it possible",
    "why does",
    "why is",
    "why can't",
    "when will",
    "where can i",
    "what should i",
    "please fix",
    "please advise",
    "let me know",
    "i need",
    "i want to cancel",
)
_MENTIONED = re.compile(r"(?:(?<![\w@])@|\bu/)([A-Za-z0-9_.]{1,100})")


@dataclass(frozen=True)
class Rule:
    """A rule row with validated params, detached from the session."""

    kind: str
    params: BaseModel
    priority_shift: int = 0
    name: str = ""
    id: int | None = None


@dataclass(frozen=True)
class Context:
    """What the rules look at for one mention."""

    mention: Mention
    result: SentimentResult | None = None
    customer: Customer | None = None
    brand_handles: frozenset[str] = field(default_factory=frozenset)
    # True when the mention answers a post the brand itself made.
    replies_to_brand: bool = False

    @property
    def label(self) -> str | None:
        """The sentiment label, if scored."""
        return self.result.label if self.result is not None else None

    @property
    def p_negative(self) -> float:
        """The negative probability (0 when unscored)."""
        if self.result is None or self.result.p_negative is None:
            return 0.0
        return self.result.p_negative


@dataclass(frozen=True)
class Decision:
    """Whether a mention opens a task, why, and at which priority (1 = most urgent)."""

    opens: bool
    reasons: tuple[str, ...] = ()
    priority: int = DEFAULT_PRIORITY

    @property
    def reason(self) -> str:
        """The reasons as stored on the task, e.g. "negative+low_rating"."""
        return "+".join(self.reasons)


def validate_params(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """Check a rule's params against its kind; return them with defaults filled in."""
    model = RULE_PARAMS.get(kind)
    if model is None:
        raise InvalidError(f"unknown rule kind {kind!r}: use one of {', '.join(RULE_PARAMS)}")
    try:
        return model.model_validate(params).model_dump(mode="json")
    except ValidationError as exc:
        problems = validation_message(exc, where="params")
        raise InvalidError(f"invalid params for a {kind} rule: {problems}") from None


def compile_rules(
    rows: Iterable[EngagementRule], *, negative_threshold: float | None = None
) -> list[Rule]:
    """Validated rules in evaluation order; a row with broken params is skipped and logged.

    `negative_threshold` (the SOCIALCRM_NEGATIVE_THRESHOLD setting) is the default
    `min_negative` of a negative_wom rule whose params leave it out.
    """
    out = []
    for row in sorted(rows, key=lambda r: (r.position, r.id)):
        params = dict(row.params or {})
        if row.kind == "negative_wom" and negative_threshold is not None:
            params.setdefault("min_negative", negative_threshold)
        try:
            model = RULE_PARAMS[row.kind].model_validate(params)
        except (KeyError, ValidationError):
            log.warning("engagement rule skipped: bad kind or params", extra={"rule_id": row.id})
            continue
        out.append(Rule(row.kind, model, row.priority_shift or 0, row.name, row.id))
    return out


# What migration 0003 seeds: the out-of-the-box rules.
DEFAULT_RULE_ROWS: tuple[dict[str, Any], ...] = (
    {
        "name": "Negative word of mouth",
        "kind": "negative_wom",
        "params": {"min_negative": 0.5},
        "priority_shift": 0,
        "position": 10,
    },
    {
        "name": "Low-star review",
        "kind": "low_rating",
        "params": {"max_rating": LOW_RATING},
        "priority_shift": 0,
        "position": 20,
    },
    {
        "name": "Question or request to the brand",
        "kind": "question",
        "params": {"brand_handles": []},
        "priority_shift": 1,
        "position": 30,
    },
    {
        "name": "Key customer",
        "kind": "key_customer",
        "params": {"tiers": list(DEFAULT_KEY_TIERS), "min_lifetime_value": 5000},
        "priority_shift": -1,
        "position": 40,
    },
)


def default_rules(negative_threshold: float = 0.5) -> list[Rule]:
    """The out-of-the-box rules, compiled (no database needed)."""
    rows = [
        EngagementRule(id=i, enabled=True, **copy.deepcopy(row))
        for i, row in enumerate(DEFAULT_RULE_ROWS)
    ]
    rows[0].params = {"min_negative": negative_threshold}
    return compile_rules(rows)


def seed_default_rules(session: Session) -> list[EngagementRule]:
    """Insert the out-of-the-box rules (as the migration does), e.g. after wiping the table."""
    now = utcnow()
    return [
        repository.add_rule(
            session,
            EngagementRule(enabled=True, created_at=now, updated_at=now, **copy.deepcopy(row)),
        )
        for row in DEFAULT_RULE_ROWS
    ]


def evaluate(rules: Sequence[Rule], ctx: Context) -> Decision:
    """Apply the rules: the task opens if any matches, at the most urgent matching priority."""
    if ctx.mention.is_brand:
        return Decision(False)
    reasons: list[str] = []
    base: int | None = None
    for rule in rules:
        matched = rule_priority(rule, ctx)
        if matched is None:
            continue
        if REASONS[rule.kind] not in reasons:
            reasons.append(REASONS[rule.kind])
        base = matched if base is None else min(base, matched)
    if base is None:
        return Decision(False)
    return Decision(True, tuple(reasons), adjust_priority(base, ctx, key_tiers(rules)))


def rule_priority(rule: Rule, ctx: Context) -> int | None:
    """The priority one rule gives the mention before reach and customer, or None if no match."""
    params = rule.params
    mention = ctx.mention
    base: int | None = None
    if isinstance(params, NegativeWomParams):
        if ctx.label == "negative" and ctx.p_negative >= params.min_negative:
            base = 2 if ctx.p_negative >= VERY_NEGATIVE else 3
    elif isinstance(params, LowRatingParams):
        if mention.rating is not None and mention.rating <= params.max_rating:
            base = 2 if mention.rating == 1 else 3
    elif isinstance(params, QuestionParams):
        handles = ctx.brand_handles | frozenset(params.brand_handles)
        if addressed_to_brand(ctx, handles) and is_question(_text(mention)):
            base = DEFAULT_PRIORITY
    elif (
        isinstance(params, KeyCustomerParams)
        and ctx.label != "positive"
        and is_key_customer(ctx.customer, params)
    ):
        base = KEY_CUSTOMER_BASE
    return None if base is None else base + rule.priority_shift


def adjust_priority(base: int, ctx: Context, tiers: Iterable[str] = DEFAULT_KEY_TIERS) -> int:
    """Raise urgency for reach, engagement, key customers and urgent categories; clamp 1..4."""
    priority = base
    author = ctx.mention.author
    followers = author.followers if author is not None and author.followers else 0
    if followers >= VERY_HIGH_REACH:
        priority -= 2
    elif followers >= HIGH_REACH:
        priority -= 1
    if engagement(ctx.mention) >= HIGH_ENGAGEMENT:
        priority -= 1
    tier = (ctx.customer.tier or "").lower() if ctx.customer is not None else ""
    if tier and tier in set(tiers):
        priority -= 1
    category = (ctx.result.category or "").lower() if ctx.result is not None else ""
    if category in URGENT_CATEGORIES:
        priority -= 1
    return max(MIN_PRIORITY, min(MAX_PRIORITY, priority))


def key_tiers(rules: Sequence[Rule]) -> set[str]:
    """Tiers that count as key customers: those of the key_customer rules, else the default."""
    tiers = {t for r in rules if isinstance(r.params, KeyCustomerParams) for t in r.params.tiers}
    return tiers or set(DEFAULT_KEY_TIERS)


def engagement(mention: Mention) -> int:
    """Likes + reposts + upvotes of a mention."""
    return mention.engagement


def is_key_customer(customer: Customer | None, params: KeyCustomerParams) -> bool:
    """Whether a customer's tier or lifetime value makes them a key customer."""
    if customer is None:
        return False
    if customer.tier and customer.tier.lower() in params.tiers:
        return True
    return (
        params.min_lifetime_value is not None
        and customer.lifetime_value is not None
        and float(customer.lifetime_value) >= params.min_lifetime_value
    )


def addressed_to_brand(ctx: Context, handles: frozenset[str]) -> bool:
    """A review, a reply to a brand post, or a text that @-mentions one of the brand handles."""
    if ctx.mention.kind == "review" or ctx.replies_to_brand:
        return True
    return bool(handles) and not handles.isdisjoint(mentioned_handles(_text(ctx.mention)))


def mentioned_handles(text: str) -> set[str]:
    """Lower-cased @handles (and Reddit u/names) in a text."""
    return {m.group(1).rstrip(".").lower() for m in _MENTIONED.finditer(text)}


def is_question(text: str) -> bool:
    """A question mark or an English request phrase ("how do i", "can you", "need help"...)."""
    low = " ".join(text.lower().split())
    return "?" in low or any(phrase in low for phrase in REQUEST_PHRASES)


def thread_key(mention: Mention) -> str:
    """The conversation a mention belongs to: its thread, else the mention itself."""
    if mention.thread_id:
        return f"{mention.platform}:thread:{mention.thread_id}"
    return f"{mention.platform}:mention:{mention.external_id}"


def due_at(
    opened_at: datetime,
    priority: int,
    sla_minutes: dict[int, int],
    default: int = 24 * 60,
    calendar: BusinessHours | None = None,
) -> datetime:
    """Deadline for a priority from a priority→minutes table, in business time if given."""
    minutes = sla_minutes.get(priority, default)
    if calendar is None:
        return opened_at + timedelta(minutes=minutes)
    return calendar.add(opened_at, minutes)


def list_rules(session: Session) -> list[EngagementRule]:
    """Every rule in evaluation order."""
    return repository.list_rules(session)


def get_rule(session: Session, rule_id: int) -> EngagementRule:
    """One rule."""
    rule = repository.get_rule(session, rule_id)
    if rule is None:
        raise NotFoundError(f"rule {rule_id} not found")
    return rule


def create_rule(session: Session, data: RuleCreate) -> EngagementRule:
    """Add a rule; its params are checked against its kind."""
    now = utcnow()
    return repository.add_rule(
        session,
        EngagementRule(
            name=data.name,
            kind=data.kind,
            params=validate_params(data.kind, data.params),
            priority_shift=data.priority_shift,
            enabled=data.enabled,
            position=data.position,
            created_at=now,
            updated_at=now,
        ),
    )


def update_rule(session: Session, rule_id: int, data: RuleUpdate) -> EngagementRule:
    """Change a rule (enabled=false switches it off); new params are checked."""
    rule = get_rule(session, rule_id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("params") is not None:
        rule.params = validate_params(rule.kind, changes["params"])
    for name in ("name", "priority_shift", "enabled", "position"):
        if changes.get(name) is not None:
            setattr(rule, name, changes[name])
    rule.updated_at = utcnow()
    session.flush()
    return rule


def delete_rule(session: Session, rule_id: int) -> None:
    """Remove a rule (disabling it keeps it for later)."""
    repository.delete_rule(session, get_rule(session, rule_id))


def _text(mention: Mention) -> str:
    return f"{mention.title}\n{mention.text}" if mention.title else mention.text
