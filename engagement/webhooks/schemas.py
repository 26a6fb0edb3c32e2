"""Pydantic I/O for webhook subscriptions, deliveries and the delivery job."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator

from engagement.webhooks.outbox import EVENT_TYPES

ALL_EVENTS = "*"
DeliveryStatus = Literal["pending", "sending", "delivered", "dead"]


def _check_event_types(value: list[str]) -> list[str]:
    types = list(dict.fromkeys(v.strip() for v in value))
    if not types:
        raise ValueError('give at least one event type, or ["*"] for all')
    if ALL_EVENTS in types:
        if len(types) > 1:
            raise ValueError('"*" already means every event type: give it alone')
        return types
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        raise ValueError(f"unknown event types {unknown}; known: {', '.join(EVENT_TYPES)}")
    return types


def _url_text(value: AnyHttpUrl | None) -> str | None:
    return None if value is None else str(value)


class WebhookSubscriptionCreate(BaseModel):
    """A CRM endpoint to register: where to POST and which event types it wants."""

    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl = Field(description="http(s) endpoint of the receiver")
    event_types: list[str] = Field(
        min_length=1, max_length=len(EVENT_TYPES), description='Event types, or ["*"] for all'
    )
    description: str | None = Field(default=None, max_length=500)
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _url_length(cls, value: AnyHttpUrl) -> AnyHttpUrl:
        if len(str(value)) > 2048:
            raise ValueError("URL longer than 2048 characters")
        return value

    @field_validator("event_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        return _check_event_types(value)

    def url_text(self) -> str:
        """The normalised URL as stored."""
        return str(self.url)


class WebhookSubscriptionUpdate(BaseModel):
    """Fields to change; omitted ones stay as they are."""

    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl | None = None
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=len(EVENT_TYPES))
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = None

    @field_validator("url")
    @classmethod
    def _url_length(cls, value: AnyHttpUrl | None) -> AnyHttpUrl | None:
        if value is not None and len(str(value)) > 2048:
            raise ValueError("URL longer than 2048 characters")
        return value

    @field_validator("event_types")
    @classmethod
    def _types(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _check_event_types(value)

    def url_text(self) -> str | None:
        """The normalised URL, if one was given."""
        return _url_text(self.url)


class WebhookSubscriptionRead(BaseModel):
    """A subscription as listed: the secret is shown only by its first characters."""

    id: int
    url: str
    event_types: list[str]
    description: str | None
    enabled: bool
    secret_prefix: str = Field(description="Start of the signing secret, to tell secrets apart")
    previous_secret_expires_at: datetime | None = Field(
        default=None,
        description="After a rotation: until then deliveries are also signed with the old secret",
    )
    created_at: datetime
    updated_at: datetime


class WebhookSubscriptionSecret(WebhookSubscriptionRead):
    """A subscription with its whole signing secret: returned once, on create and rotate."""

    secret: str = Field(description="whsec_… secret; store it now, it is not shown again")


class WebhookDeliveryRead(BaseModel):
    """One event's delivery to one subscription, with its retry state."""

    id: int
    subscription_id: int
    event_id: str = Field(description="Stable id sent as webhook-id on every attempt")
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class WebhookTestResult(BaseModel):
    """What one synthetic `webhook.test` request to a subscription's endpoint got back."""

    webhook_id: str
    delivered: bool
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryReport(BaseModel):
    """What one run of the `outbox:webhooks` job did."""

    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    # Failed without a request: their endpoint had just timed out or refused a connection in
    # this run (also counted in retrying/dead).
    skipped: int = 0
    # Claimed but handed back unsent because the run reached its time cap.
    released: int = 0
    disabled_subscriptions: list[int] = Field(default_factory=list)
