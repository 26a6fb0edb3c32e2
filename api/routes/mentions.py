"""Stored mentions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep
from collectors import service
from collectors.models import MentionKind, Platform
from collectors.schemas import MentionRead
from core.errors import NotFoundError
from core.pagination import Page

router = APIRouter(prefix="/mentions", tags=["mentions"])


@router.get("", response_model=Page[MentionRead])
def list_mentions(
    session: SessionDep,
    platform: Platform | None = None,
    kind: MentionKind | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[MentionRead]:
    """List mentions, newest first."""
    items, total = service.list_mentions(
        session,
        limit=limit,
        offset=offset,
        platform=platform.value if platform else None,
        kind=kind.value if kind else None,
    )
    return Page(
        items=[MentionRead.model_validate(m) for m in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{mention_id}", response_model=MentionRead)
def get_mention(session: SessionDep, mention_id: int) -> MentionRead:
    """One mention."""
    mention = service.get_mention(session, mention_id)
    if mention is None:
        raise NotFoundError(f"mention {mention_id} not found")
    return MentionRead.model_validate(mention)
