"""Pydantic I/O for mentions, authors and sources: the one mention schema every collector emits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from collectors.models import MentionKind, Platform
from core.timeutil import parse_datetime, to_naive_utc


class AuthorIn(BaseModel):
    """The author of a mention as the platform describes them."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, max_length=255, description="Platform user id")
    handle: str | None = Field(default=None, max_length=255)
    name: str | None = Field(default=None, max_length=255)
    followers: int | None = Field(default=None, ge=0)

    @field_validator("id", mode="before")
    @classmethod
    def _id_to_str(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @field_validator("handle")
    @classmethod
    def _strip_at(cls, value: str | None) -> str | None:
        return value.strip().lstrip("@") or None if value else None

    @property
    def key(self) -> str | None:
        """Stable key: the platform id if known, else the lower-cased handle."""
        if self.id:
            return self.id
        return f"@{self.handle.lower()}" if self.handle else None


class MentionCreate(BaseModel):
    """One mention, normalised: what collectors and file imports produce."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    platform: Platform
    external_id: str = Field(min_length=1, max_length=255)
    text: str
    created_at: datetime
    kind: MentionKind | None = None
    url: str | None = Field(default=None, max_length=2048)
    language: str | None = Field(default=None, max_length=16)
    title: str | None = Field(default=None, max_length=500)
    rating: int | None = Field(default=None, ge=1, le=5)
    thread_id: str | None = Field(default=None, max_length=255)
    in_reply_to_id: str | None = Field(default=None, max_length=255)
    author: AuthorIn | None = None
    metrics: dict[str, int] = Field(default_factory=dict)
    is_brand: bool = False
    raw: dict[str, Any] | None = None

    @field_validator("external_id", "thread_id", "in_reply_to_id", mode="before")
    @classmethod
    def _ids_to_str(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        # Shown as a link to agents: anything but http(s) could run script in their browser.
        if value is not None and not value.lower().startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return value

    @field_validator("created_at", mode="before")
    @classmethod
    def _parse_time(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_datetime(value)
        if isinstance(value, datetime):
            return to_naive_utc(value)
        return value

    @model_validator(mode="after")
    def _defaults(self) -> MentionCreate:
        if not self.text.strip() and not self.title and self.rating is None:
            raise ValueError("text is empty (and no title or rating)")
        if self.kind is None:
            if self.rating is not None:
                self.kind = MentionKind.review
            elif self.in_reply_to_id:
                self.kind = MentionKind.reply
            else:
                self.kind = MentionKind.post
        return self


class AuthorRead(BaseModel):
    """An author as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    platform: str
    platform_user_id: str | None
    handle: str | None
    display_name: str | None
    followers: int | None


class MentionRead(BaseModel):
    """A stored mention as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    platform: str
    external_id: str
    kind: str
    text: str
    text_truncated: bool
    title: str | None
    url: str | None
    language: str | None
    rating: int | None
    thread_id: str | None
    in_reply_to_id: str | None
    metrics: dict[str, Any]
    is_brand: bool
    created_at: datetime
    collected_at: datetime
    author: AuthorRead | None


class IngestResult(BaseModel):
    """What one ingest call stored."""

    received: int = 0
    inserted: int = 0
    duplicates: int = 0
    inserted_ids: list[int] = Field(default_factory=list)

    def add(self, other: IngestResult) -> None:
        """Accumulate another batch's counts."""
        self.received += other.received
        self.inserted += other.inserted
        self.duplicates += other.duplicates
        self.inserted_ids.extend(other.inserted_ids)


class SourceCreate(BaseModel):
    """A new collector source."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    platform: Platform
    query: str = Field(default="", max_length=1024)
    config: dict[str, Any] = Field(default_factory=dict)
    schedule_seconds: int = Field(default=900, ge=60, le=7 * 24 * 3600)
    enabled: bool = True


class SourceUpdate(BaseModel):
    """Fields of a source to change (absent = unchanged)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    query: str | None = Field(default=None, max_length=1024)
    config: dict[str, Any] | None = None
    schedule_seconds: int | None = Field(default=None, ge=60, le=7 * 24 * 3600)
    enabled: bool | None = None


class SourceRead(BaseModel):
    """A source with its collection status."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    platform: str
    query: str
    config: dict[str, Any]
    schedule_seconds: int
    enabled: bool
    status: str
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    items_fetched: int
    last_run_items: int
    failures: int
    next_run_at: datetime | None
    created_at: datetime
    updated_at: datetime
