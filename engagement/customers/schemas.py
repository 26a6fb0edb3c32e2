"""Pydantic I/O for customers, identities, link suggestions and the customer view."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from collectors.models import Platform
from collectors.schemas import AuthorRead, MentionRead
from sentiment.schemas import SentimentRead

CRM_ID_MAX = 255
NAME_MAX = 255
EMAIL_MAX = 320
PHONE_MAX = 64
TIER_MAX = 64
NOTES_MAX = 10_000
CONSENT_KEYS_MAX = 50
BATCH_MAX = 1000

# Deliberately loose: the CRM owns e-mail validity; this only rejects what cannot be an address.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^[0-9+()\-. /x]+$")
CONSENT_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

SuggestionStatus = Literal["pending", "accepted", "rejected"]


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


class IdentityDeclared(BaseModel):
    """A social identity the CRM knows for a customer: platform plus user id and/or handle."""

    model_config = ConfigDict(extra="forbid")

    platform: Platform
    platform_user_id: str | None = Field(default=None, max_length=255)
    handle: str | None = Field(default=None, max_length=255)

    @field_validator("platform_user_id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return _blank_to_none(value)

    @field_validator("handle", mode="before")
    @classmethod
    def _strip_at(cls, value: Any) -> Any:
        value = _blank_to_none(value)
        if isinstance(value, str):
            return value.lstrip("@").strip() or None
        return value

    @model_validator(mode="after")
    def _needs_a_key(self) -> IdentityDeclared:
        if self.platform_user_id is None and self.handle is None:
            raise ValueError("an identity needs a platform_user_id or a handle")
        return self


class CustomerUpsert(BaseModel):
    """A customer record from the CRM (the crm_id is the path parameter).

    Fields left out of the payload keep their stored value; an explicit null clears them.
    Identities are added when missing and never removed by an upsert.
    """

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=NAME_MAX)
    email: str | None = Field(default=None, max_length=EMAIL_MAX)
    phone: str | None = Field(default=None, max_length=PHONE_MAX)
    tier: str | None = Field(default=None, max_length=TIER_MAX)
    lifetime_value: Decimal | None = Field(
        default=None, ge=0, max_digits=14, decimal_places=2, allow_inf_nan=False
    )
    consent: dict[str, bool] = Field(default_factory=dict, max_length=CONSENT_KEYS_MAX)
    notes: str | None = Field(default=None, max_length=NOTES_MAX)
    identities: list[IdentityDeclared] = Field(default_factory=list, max_length=50)

    @field_validator("name", "phone", "tier", "notes", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> Any:
        value = _blank_to_none(value)
        if isinstance(value, str):
            if not EMAIL_RE.match(value):
                raise ValueError("not an e-mail address")
            # Compared and searched case-insensitively; storing one form keeps re-imports quiet.
            return value.lower()
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is not None and not PHONE_RE.match(value):
            raise ValueError("a phone number holds digits, spaces and + ( ) - . / x only")
        return value

    @field_validator("tier")
    @classmethod
    def _tier(cls, value: str | None) -> str | None:
        return value.lower() if value else value

    @field_validator("consent")
    @classmethod
    def _consent_keys(cls, value: dict[str, bool]) -> dict[str, bool]:
        for key in value:
            if not CONSENT_KEY_RE.match(key):
                raise ValueError(f"consent key {key!r}: use lower-case letters, digits and _")
        return value


class CustomerBatchItem(CustomerUpsert):
    """One record of a batch upsert: the crm_id travels in the body."""

    crm_id: str = Field(min_length=1, max_length=CRM_ID_MAX)

    @field_validator("crm_id", mode="before")
    @classmethod
    def _crm_id(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value


class CustomerRead(BaseModel):
    """A stored customer record."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    crm_id: str | None
    name: str | None
    email: str | None
    phone: str | None
    tier: str | None
    lifetime_value: Decimal | None
    consent: dict[str, Any]
    notes: str | None
    merged_into_id: int | None
    created_at: datetime
    updated_at: datetime


class IdentityRead(BaseModel):
    """A social identity of a customer and, once resolved, the author behind it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    platform: str
    platform_user_id: str | None
    handle: str | None
    author_id: int | None
    method: str
    confidence: float
    linked_by: str | None
    created_at: datetime
    author: AuthorRead | None = None


class IdentityLink(BaseModel):
    """Link an author to a customer."""

    model_config = ConfigDict(extra="forbid")

    author_id: int = Field(ge=1)


class MergeRequest(BaseModel):
    """Merge this customer into another one."""

    model_config = ConfigDict(extra="forbid")

    into_customer_id: int = Field(ge=1)


class MergeResult(BaseModel):
    """What a merge (or unmerge) moved."""

    source_customer_id: int
    target_customer_id: int
    identity_ids: list[int]
    task_ids: list[int]
    event_id: int


class SuggestionRead(BaseModel):
    """A possible author→customer link for an agent to confirm or reject."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    author_id: int
    customer_id: int
    confidence: float
    reason: str
    status: str
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime
    author: AuthorRead | None = None
    customer_name: str | None = None
    customer_crm_id: str | None = None


class CustomerEventRead(BaseModel):
    """One entry of a customer's audit trail."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    actor: str
    type: str
    data: dict[str, Any]
    created_at: datetime


class UpsertResult(BaseModel):
    """Counts of one batch upsert or import."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    customer_ids: list[int] = Field(default_factory=list)

    def add(self, other: UpsertResult) -> None:
        """Accumulate another batch's counts."""
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.customer_ids.extend(other.customer_ids)


class ResolveReport(BaseModel):
    """What one identity-resolution pass over a batch of authors did."""

    examined: int = 0
    already_linked: int = 0
    linked_exact_id: int = 0
    linked_handle: int = 0
    ambiguous: int = 0
    suggestions_created: int = 0
    # Customers scored by the fuzzy matcher, summed over authors: bounded by the SQL prefilters.
    candidates_compared: int = 0
    linked_author_ids: list[int] = Field(default_factory=list)


class CustomerMentionRead(MentionRead):
    """A mention by one of the customer's identities, with its newest sentiment."""

    sentiment: SentimentRead | None = None


class SentimentDay(BaseModel):
    """One day of a customer's sentiment: mentions per label and mean negative probability."""

    day: date
    negative: int = 0
    neutral: int = 0
    positive: int = 0
    mean_p_negative: float | None = None


class CustomerTaskRead(BaseModel):
    """A response task of the customer, in brief."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str
    priority: int
    reason: str
    assignee: str | None
    created_at: datetime
    resolved_at: datetime | None


class CustomerReplyRead(BaseModel):
    """A reply the brand wrote in one of the customer's tasks."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    task_id: int | None
    mention_id: int
    platform: str
    body: str
    author: str
    status: str
    sent_at: datetime | None
    created_at: datetime


class CustomerCompensationRead(BaseModel):
    """What the brand gave the customer in one of their tasks."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    task_id: int
    kind: str
    amount: Decimal | None
    currency: str | None
    note: str | None
    created_by: str
    created_at: datetime


class CustomerView(BaseModel):
    """Everything about one customer across platforms."""

    customer: CustomerRead
    identities: list[IdentityRead]
    mentions: list[CustomerMentionRead]
    mentions_total: int
    sentiment_timeline: list[SentimentDay]
    tasks: list[CustomerTaskRead]
    replies: list[CustomerReplyRead]
    compensations: list[CustomerCompensationRead]
