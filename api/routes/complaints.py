"""Complaints pull export: keyset pages of negative customer mentions for the CRM."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep
from core.timeutil import to_naive_utc
from engagement import complaints
from engagement.complaints import ComplaintPage

router = APIRouter(prefix="/complaints", tags=["complaints"])


@router.get("", response_model=ComplaintPage)
def list_complaints(
    session: SessionDep,
    since: Annotated[
        datetime | None, Query(description="Only complaints posted at or after (ISO 8601)")
    ] = None,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=complaints.MAX_LIMIT)] = 100,
) -> ComplaintPage:
    """Complaints oldest first; follow next_cursor until it is null."""
    return complaints.list_complaints(
        session,
        since=to_naive_utc(since) if since else None,
        cursor=cursor,
        limit=limit,
    )
