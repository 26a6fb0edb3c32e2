"""The one Settings object (env prefix SOCIALCRM_, optional .env file)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.business_hours import BusinessHours


class Settings(BaseSettings):
    """Runtime configuration; every field maps to SOCIALCRM_<NAME>."""

    model_config = SettingsConfigDict(
        env_prefix="SOCIALCRM_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default="sqlite:///./var/socialcrm.db",
        description="SQLAlchemy URL; PostgreSQL as postgresql+psycopg://user@host/db",
    )
    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds to")
    port: int = Field(default=8000, description="HTTP port")
    log_level: str = Field(default="INFO", description="Python logging level")
    log_format: Literal["json", "text"] = Field(default="text", description="Log line format")

    sentiment_backend: Literal["lexicon", "transformer"] = Field(
        default="transformer",
        description="Sentiment model backend: transformer (the bundled fine-tuned MiniLM, or "
        "SENTIMENT_MODEL) or lexicon (VADER, no torch); both English only",
    )
    sentiment_model: str = Field(
        default="",
        description="Transformer model: a local Hugging Face directory or hub id (hub ids are "
        "read from the local cache unless HF_HUB_OFFLINE=0); empty = the bundled model",
    )
    sentiment_threads: int = Field(
        default=0, ge=0, description="CPU threads for the transformer (0 = all cores)"
    )
    sentiment_quantize: bool = Field(
        default=True,
        description="int8 dynamic quantisation of the transformer and the category encoder on "
        "CPU (about twice as fast; scores then shift slightly with the other texts in a batch)",
    )
    score_batch_size: int = Field(default=256, ge=1, description="Mentions scored per batch")
    category_model: str = Field(
        default="",
        description="Sentence encoder that matches complaints to the category taxonomy: a local "
        "Hugging Face directory or hub id; empty = the sentiment model's own sentence vectors "
        "when it was trained to keep them (the bundled model), else the bundled "
        "all-MiniLM-L6-v2 (transformer backend) or a bag of words (lexicon backend)",
    )
    category_min_similarity: float = Field(
        default=0.15,
        ge=-1.0,
        le=1.0,
        description="A complaint whose best category is less similar than this (cosine) is "
        "left uncategorised",
    )

    scheduler_enabled: bool = Field(
        default=True, description="Run the in-process scheduler inside `socialcrm run`"
    )
    score_interval_seconds: int = Field(default=30, ge=1, description="Scoring job interval")
    engage_interval_seconds: int = Field(default=30, ge=1, description="Engagement job interval")

    max_text_chars: int = Field(
        default=20_000, ge=280, description="Mention text longer than this is truncated"
    )
    max_raw_bytes: int = Field(
        default=65_536, ge=1024, description="Raw payload JSON larger than this is not stored"
    )

    x_bearer_token: SecretStr = Field(
        default=SecretStr(""), description="X API v2 app bearer token (X/Twitter sources)"
    )
    x_consumer_key: SecretStr = Field(
        default=SecretStr(""), description="X app API key (consumer key), for posting replies"
    )
    x_consumer_secret: SecretStr = Field(
        default=SecretStr(""), description="X app API key secret (consumer secret)"
    )
    x_access_token: SecretStr = Field(
        default=SecretStr(""),
        description="OAuth 1.0a access token (read and write) of the brand's X account",
    )
    x_access_token_secret: SecretStr = Field(
        default=SecretStr(""), description="OAuth 1.0a access token secret of the brand's X account"
    )
    reddit_client_id: str = Field(default="", description="Reddit script-app client id")
    reddit_client_secret: SecretStr = Field(
        default=SecretStr(""), description="Reddit script-app client secret"
    )
    reddit_username: str = Field(
        default="", description="The brand's Reddit account (a developer of the script app)"
    )
    reddit_password: SecretStr = Field(
        default=SecretStr(""), description="Password of the brand's Reddit account"
    )
    reddit_user_agent: str = Field(
        default="social-crm/0.1 (self-hosted social listening)",
        description="User-Agent Reddit requires (name your deployment and contact)",
    )
    http_timeout_seconds: float = Field(
        default=20.0, gt=0, description="Timeout for every request a collector makes"
    )

    collect_max_items_per_run: int = Field(
        default=5000, ge=1, description="Most mentions one collection run of a source fetches"
    )
    collect_max_requests_per_run: int = Field(
        default=50, ge=1, description="Most platform requests one collection run makes"
    )

    negative_threshold: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Negative probability for the negative-WOM rule when its params name none",
    )
    thread_window_hours: int = Field(
        default=72, ge=1, description="Later mentions by the same author join an open task"
    )
    sla_first_response_minutes: str = Field(
        default="1:30,2:60,3:240,4:1440",
        description="First-response SLA per priority (1 = urgent), as priority:minutes pairs",
    )
    sla_resolution_minutes: str = Field(
        default="1:240,2:480,3:1440,4:4320",
        description="Resolution SLA per priority, as priority:minutes pairs",
    )
    dry_run_replies: bool = Field(
        default=False,
        description="Record replies as sent without calling the platform (the demo sets it)",
    )
    reply_max_attempts: int = Field(
        default=5, ge=1, description="Send attempts for a reply before it is marked failed"
    )
    reply_interval_seconds: int = Field(
        default=15, ge=1, description="Reply outbox job interval (posts queued replies)"
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Timeout of one webhook delivery request"
    )
    webhook_allowed_networks: str = Field(
        default="",
        description="Private networks webhooks may reach, as comma-separated CIDRs (e.g. "
        "'10.20.0.0/16' for a CRM inside the company network); public addresses are always "
        "allowed, loopback, private, link-local and other internal ones only when listed here",
    )
    webhook_interval_seconds: int = Field(
        default=5, ge=1, description="How often the webhook delivery job looks for due deliveries"
    )
    recovery_window_days: int = Field(
        default=14, ge=1, description="How long after our first answer a customer's posts count"
    )
    business_hours: str = Field(
        default="",
        description="When SLA clocks run, as 'DAYS HH:MM-HH:MM' rules separated by ';' (e.g. "
        "'mon-fri 09:00-17:30; sat 10:00-14:00'); empty = around the clock",
    )
    business_timezone: str = Field(
        default="UTC", description="IANA time zone of the business hours (e.g. Europe/Berlin)"
    )
    business_holidays: str = Field(
        default="",
        description="Dates on which SLA clocks stop all day, comma-separated (2026-12-25,...)",
    )

    @model_validator(mode="after")
    def _check_parsed_values(self) -> Settings:
        # A calendar or network list that cannot work fails at start-up, not at 3 a.m.
        self.business_calendar()
        self.webhook_networks()
        return self

    def webhook_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """The networks of SOCIALCRM_WEBHOOK_ALLOWED_NETWORKS."""
        out = []
        for part in (p.strip() for p in self.webhook_allowed_networks.split(",")):
            if part:
                try:
                    out.append(ipaddress.ip_network(part, strict=False))
                except ValueError:
                    raise ValueError(
                        f"SOCIALCRM_WEBHOOK_ALLOWED_NETWORKS: {part!r} is not an IP network "
                        "(e.g. 10.0.0.0/8)"
                    ) from None
        return out

    def business_calendar(self) -> BusinessHours | None:
        """The SLA calendar, or None when SLAs run around the clock."""
        if not self.business_hours.strip():
            if self.business_holidays.strip():
                raise ValueError("SOCIALCRM_BUSINESS_HOLIDAYS needs SOCIALCRM_BUSINESS_HOURS")
            return None
        return BusinessHours.parse(
            self.business_hours, self.business_timezone, self.business_holidays
        )

    def sla_minutes(self) -> dict[int, int]:
        """Parse the first-response SLA table."""
        return _priority_table(self.sla_first_response_minutes)

    def resolution_sla_minutes(self) -> dict[int, int]:
        """Parse the resolution SLA table."""
        return _priority_table(self.sla_resolution_minutes)


def _priority_table(text: str) -> dict[int, int]:
    table: dict[int, int] = {}
    for pair in text.split(","):
        prio, _, minutes = pair.partition(":")
        table[int(prio)] = int(minutes)
    return table


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings, read once from the environment."""
    return Settings()
