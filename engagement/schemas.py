"""Pydantic I/O for response tasks, their events, agents, rules and reply templates."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from collectors.models import Platform
from collectors.schemas import MentionRead
from sentiment.schemas import SentimentRead

RuleKind = Literal["negative_wom", "low_rating", "question", "key_customer"]
StatusTarget = Literal["new", "assigned", "waiting", "resolved", "closed"]
NAME_MAX = 255
NOTE_MAX = 5000
TEMPLATE_MAX = 5000


class TaskEventRead(BaseModel):
    """One audit-trail entry."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    actor: str
    type: str
    data: dict[str, Any]
    created_at: datetime


class TaskMentionRead(MentionRead):
    """A mention inside a task, with its newest sentiment result."""

    sentiment: SentimentRead | None = None


class TaskRead(BaseModel):
    """A response task as the inbox shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    thread_key: str
    status: str
    priority: int
    reason: str
    assignee: str | None
    customer_id: int | None
    author_id: int | None
    category: str | None = None
    due_at: datetime | None
    resolution_due_at: datetime | None = None
    overdue: bool = False
    escalation_level: int = 0
    escalated_at: datetime | None = None
    # Filled only while the lock is still valid: "being answered by X until T".
    locked_by: str | None = None
    locked_until: datetime | None = None
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None = None
    last_mention_at: datetime
    created_at: datetime
    updated_at: datetime
    mentions: list[TaskMentionRead] = Field(default_factory=list)


class TaskDetail(TaskRead):
    """A task with its whole conversation (brand replies included) and its audit trail."""

    conversation: list[TaskMentionRead] = Field(default_factory=list)
    events: list[TaskEventRead] = Field(default_factory=list)


class EngageReport(BaseModel):
    """What one engagement pass did."""

    examined: int = 0
    opened: int = 0
    attached: int = 0
    reopened: int = 0
    opened_task_ids: list[int] = Field(default_factory=list)

    def add(self, other: EngageReport) -> None:
        """Accumulate another pass's counts."""
        self.examined += other.examined
        self.opened += other.opened
        self.attached += other.attached
        self.reopened += other.reopened
        self.opened_task_ids.extend(other.opened_task_ids)


class EscalationReport(BaseModel):
    """What one run of the SLA escalation job did."""

    escalated: int = 0
    first_response: int = 0
    resolution: int = 0
    task_ids: list[int] = Field(default_factory=list)


class TaskAssign(BaseModel):
    """Whom to assign a task to; no agent means round-robin among available agents."""

    model_config = ConfigDict(extra="forbid")

    agent: str | None = Field(default=None, min_length=1, max_length=NAME_MAX)


class TaskStatusChange(BaseModel):
    """A requested status change."""

    model_config = ConfigDict(extra="forbid")

    status: StatusTarget


class NoteCreate(BaseModel):
    """An internal note on a task (never sent to the customer)."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=NOTE_MAX)

    @field_validator("body")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("note is blank")
        return value


class LockRequest(BaseModel):
    """Take (or renew) the 'being answered by' lock of a task."""

    model_config = ConfigDict(extra="forbid")

    agent: str | None = Field(
        default=None, min_length=1, max_length=NAME_MAX, description="Defaults to the API key name"
    )
    minutes: int = Field(default=5, ge=1, le=60)


class AgentCreate(BaseModel):
    """A new agent."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=NAME_MAX)
    email: str | None = Field(default=None, max_length=320)
    available: bool = True


class AgentUpdate(BaseModel):
    """Fields of an agent to change (absent = unchanged); active=false deactivates."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, max_length=320)
    available: bool | None = None
    active: bool | None = None


class AgentRead(BaseModel):
    """An agent as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str | None
    available: bool
    active: bool
    last_assigned_at: datetime | None
    created_at: datetime


class RuleCreate(BaseModel):
    """A new engagement rule; `params` are checked against the rule's kind."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: RuleKind
    params: dict[str, Any] = Field(default_factory=dict)
    priority_shift: int = Field(default=0, ge=-3, le=3)
    enabled: bool = True
    position: int = Field(default=100, ge=0, le=1_000_000)


class RuleUpdate(BaseModel):
    """Fields of a rule to change (absent = unchanged)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    params: dict[str, Any] | None = None
    priority_shift: int | None = Field(default=None, ge=-3, le=3)
    enabled: bool | None = None
    position: int | None = Field(default=None, ge=0, le=1_000_000)


class RuleRead(BaseModel):
    """A rule as stored."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    params: dict[str, Any]
    priority_shift: int
    enabled: bool
    position: int
    created_at: datetime
    updated_at: datetime


class NegativeWomParams(BaseModel):
    """negative_wom: open a task when the negative probability reaches `min_negative`."""

    model_config = ConfigDict(extra="forbid")

    min_negative: float = Field(default=0.5, ge=0, le=1)


class LowRatingParams(BaseModel):
    """low_rating: open a task for reviews at or below `max_rating` stars."""

    model_config = ConfigDict(extra="forbid")

    max_rating: int = Field(default=2, ge=1, le=5)


class QuestionParams(BaseModel):
    """question: questions and requests addressed to the brand (its handles, its posts)."""

    model_config = ConfigDict(extra="forbid")

    brand_handles: list[str] = Field(default_factory=list, max_length=50)

    @field_validator("brand_handles")
    @classmethod
    def _handles(cls, value: list[str]) -> list[str]:
        out = []
        for handle in value:
            clean = handle.strip().lstrip("@").lower()
            if not clean or len(clean) > 100 or any(c.isspace() for c in clean):
                raise ValueError(f"invalid handle {handle[:100]!r}")
            out.append(clean)
        return out


class KeyCustomerParams(BaseModel):
    """key_customer: any non-positive mention of a customer in `tiers` or worth enough."""

    model_config = ConfigDict(extra="forbid")

    tiers: list[str] = Field(default_factory=lambda: ["vip", "business"], max_length=50)
    min_lifetime_value: float | None = Field(default=5000, ge=0)

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: list[str]) -> list[str]:
        if any(not t.strip() or len(t) > 64 for t in value):
            raise ValueError("tiers must be non-empty names of at most 64 characters")
        return [t.strip().lower() for t in value]


RULE_PARAMS: dict[str, type[BaseModel]] = {
    "negative_wom": NegativeWomParams,
    "low_rating": LowRatingParams,
    "question": QuestionParams,
    "key_customer": KeyCustomerParams,
}


class ReplyTemplateCreate(BaseModel):
    """A canned reply; placeholders: {first_name}, {name}, {handle}, {agent}."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=TEMPLATE_MAX)
    platform: Platform | None = None


class ReplyTemplateUpdate(BaseModel):
    """Fields of a template to change (absent = unchanged)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    body: str | None = Field(default=None, min_length=1, max_length=TEMPLATE_MAX)
    platform: Platform | None = None


class ReplyTemplateRead(BaseModel):
    """A stored template."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    body: str
    platform: str | None
    created_at: datetime
    updated_at: datetime


class RenderedReply(BaseModel):
    """A template filled in for one task."""

    text: str
