"""Pydantic I/O for response tasks and their events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from collectors.schemas import MentionRead
from sentiment.schemas import SentimentRead


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
    due_at: datetime | None
    overdue: bool = False
    first_response_at: datetime | None
    resolved_at: datetime | None
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
    opened_task_ids: list[int] = Field(default_factory=list)
