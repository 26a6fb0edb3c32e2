"""Pydantic I/O for replies, their delivery, and compensations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from collectors.schemas import AuthorIn

CompensationKind = Literal["apology", "refund", "voucher", "replacement", "other"]

# Generous bound on untrusted input; each platform's own limit is checked by `limits`.
MAX_BODY_CHARS = 20_000


class ReplyCreate(BaseModel):
    """A reply an agent wants to send: its text, or a template filled in for the task."""

    model_config = ConfigDict(extra="forbid")

    mention_id: int | None = Field(
        default=None, description="Mention to answer (default: the task's latest customer one)"
    )
    body: str | None = Field(default=None, min_length=1, max_length=MAX_BODY_CHARS)
    template_id: int | None = Field(default=None, description="Reply template to fill instead")
    dry_run: bool = Field(default=False, description="Record the reply without posting it")

    @model_validator(mode="after")
    def _body_or_template(self) -> ReplyCreate:
        if (self.body is None) == (self.template_id is None):
            raise ValueError("give either body or template_id")
        return self


class ReplyRead(BaseModel):
    """A reply and its delivery state."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    task_id: int | None
    mention_id: int
    platform: str
    body: str
    author: str
    status: str
    dry_run: bool
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    external_id: str | None
    sent_mention_id: int | None
    idempotency_key: str
    sent_at: datetime | None
    created_at: datetime
    updated_at: datetime


class CompensationCreate(BaseModel):
    """Something given to the customer to make up for a complaint."""

    model_config = ConfigDict(extra="forbid")

    kind: CompensationKind
    amount: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    currency: str | None = Field(
        default=None, min_length=3, max_length=3, description="ISO 4217 code, e.g. EUR"
    )
    note: str | None = Field(default=None, max_length=2000)


class CompensationRead(BaseModel):
    """A recorded compensation."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    task_id: int
    kind: str
    amount: Decimal | None
    currency: str | None
    note: str | None
    created_by: str
    created_at: datetime


class ReplyDeliveryReport(BaseModel):
    """What one run of the reply outbox did."""

    claimed: int = 0
    sent: int = 0
    dry_run: int = 0
    # Replies found already posted while recovering an interrupted attempt (not sent again).
    reconciled: int = 0
    # Interrupted attempts ("sending" past their lease) picked up again.
    recovered: int = 0
    retried: int = 0
    failed: int = 0
    sent_ids: list[int] = Field(default_factory=list)
    failed_ids: list[int] = Field(default_factory=list)


@dataclass(frozen=True)
class SentResult:
    """A reply as the platform stored it (what a sender returns)."""

    external_id: str
    url: str | None
    created_at: datetime
    text: str
    author: AuthorIn | None = None
