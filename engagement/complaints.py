"""Complaints pull export for the CRM: keyset pages over negative customer mentions.

A complaint is a mention not posted by the brand (`is_brand` false) whose newest sentiment
result is labelled negative, whatever model produced it. Each one comes with its task (id and
status, if a task covers it), the CRM id of the customer who owns the author, the author's
handle and followers, the sentiment probabilities, category and WOM score.

Order and paging: ascending (created_at, id) of the mention, with an opaque cursor that encodes
the last row's key. New complaints with later timestamps land after the cursor, so a client
paging while mentions arrive sees every older row once (no duplicates, no skips). `since`
filters on the mention's created_at (the platform's post time); a mention scored later than
it was posted shows up behind a cursor already passed, so incremental pullers should re-read an
overlapping window and deduplicate on `mention_id`.
"""

from __future__ import annotations

import base64
import binascii
import csv
import json
from collections.abc import Iterable
from datetime import datetime
from typing import TextIO

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from core.errors import InvalidError
from engagement import complaints_repository as repository

MAX_LIMIT = 1000

CSV_COLUMNS = (
    "mention_id",
    "created_at",
    "platform",
    "external_id",
    "kind",
    "url",
    "author_handle",
    "author_followers",
    "customer_crm_id",
    "task_id",
    "task_status",
    "sentiment_label",
    "p_negative",
    "p_neutral",
    "p_positive",
    "category",
    "wom_score",
    "rating",
    "text",
)


class ComplaintRead(BaseModel):
    """One complaint as the CRM receives it (times are UTC)."""

    model_config = ConfigDict(from_attributes=True)

    mention_id: int
    created_at: datetime
    platform: str
    external_id: str
    kind: str
    url: str | None
    author_handle: str | None
    author_followers: int | None
    customer_crm_id: str | None
    task_id: int | None
    task_status: str | None
    sentiment_label: str
    p_negative: float | None
    p_neutral: float | None
    p_positive: float | None
    category: str | None
    wom_score: float | None
    rating: int | None
    text: str


class ComplaintPage(BaseModel):
    """A page of complaints; pass `next_cursor` back to get the next one (null: no more)."""

    items: list[ComplaintRead]
    next_cursor: str | None


def encode_cursor(created_at: datetime, mention_id: int) -> str:
    """The opaque cursor that resumes after this row."""
    raw = json.dumps({"t": created_at.isoformat(), "id": mention_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (created_at, id) key inside a cursor; InvalidError for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        key = (datetime.fromisoformat(data["t"]), int(data["id"]))
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise InvalidError("invalid cursor: pass back a next_cursor unchanged") from None
    if key[0].tzinfo is not None:
        raise InvalidError("invalid cursor: pass back a next_cursor unchanged")
    return key


def list_complaints(
    session: Session,
    *,
    since: datetime | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> ComplaintPage:
    """One page of complaints posted at or after `since`, after `cursor`, oldest first."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidError(f"limit must be between 1 and {MAX_LIMIT}")
    after = decode_cursor(cursor) if cursor else None
    # One extra row tells whether another page exists without a count query.
    rows = repository.complaint_rows(session, since=since, after=after, limit=limit + 1)
    items = [
        ComplaintRead(
            mention_id=r.id,
            created_at=r.created_at,
            platform=r.platform,
            external_id=r.external_id,
            kind=r.kind,
            url=r.url,
            author_handle=r.author_handle,
            author_followers=r.author_followers,
            customer_crm_id=r.customer_crm_id,
            task_id=r.task_id,
            task_status=r.task_status,
            sentiment_label=r.sentiment_label,
            p_negative=r.p_negative,
            p_neutral=r.p_neutral,
            p_positive=r.p_positive,
            category=r.category,
            wom_score=r.wom_score,
            rating=r.rating,
            text=r.text,
        )
        for r in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor(last.created_at, last.mention_id)
    return ComplaintPage(items=items, next_cursor=next_cursor)


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        # Mention text and handles are the public's: "=HYPERLINK(...)" must stay text when
        # an agent opens the export in Excel or Sheets (OWASP's advice: a leading quote).
        return "'" + value
    return str(value)


class ComplaintWriter:
    """Writes complaints to a text stream as CSV (fixed header first) or JSON Lines."""

    def __init__(self, out: TextIO, fmt: str) -> None:
        if fmt not in ("csv", "jsonl"):
            raise InvalidError(f"unknown export format {fmt!r}: use csv or jsonl")
        self.out = out
        self.fmt = fmt
        self.count = 0
        self._csv = csv.writer(out) if fmt == "csv" else None
        if self._csv is not None:
            self._csv.writerow(CSV_COLUMNS)

    def write(self, items: Iterable[ComplaintRead]) -> None:
        """Append complaints; the csv module quotes commas, quotes and newlines in text."""
        for item in items:
            if self._csv is not None:
                data = item.model_dump()
                self._csv.writerow([_cell(data[c]) for c in CSV_COLUMNS])
            else:
                self.out.write(item.model_dump_json() + "\n")
            self.count += 1
