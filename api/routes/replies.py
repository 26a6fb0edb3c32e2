"""Replies to a task's mentions (through the outbox) and compensations on a task."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from api.deps import SessionDep, get_settings, require_api_key
from api.models import ApiKey
from core.settings import Settings
from engagement.replies import service
from engagement.replies.schemas import (
    CompensationCreate,
    CompensationRead,
    ReplyCreate,
    ReplyRead,
)

router = APIRouter(tags=["replies"])

KeyDep = Annotated[ApiKey, Depends(require_api_key)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


@router.post(
    "/tasks/{task_id}/replies", response_model=ReplyRead, status_code=status.HTTP_201_CREATED
)
def create_reply(
    session: SessionDep, settings: SettingsDep, key: KeyDep, task_id: int, data: ReplyCreate
) -> ReplyRead:
    """Queue a reply (422 if the platform cannot take it); the outbox job posts it."""
    reply = service.create_reply(
        session,
        task_id=task_id,
        mention_id=data.mention_id,
        body=data.body,
        template_id=data.template_id,
        author=key.name,
        dry_run=data.dry_run or settings.dry_run_replies,
    )
    return ReplyRead.model_validate(reply)


@router.get("/tasks/{task_id}/replies", response_model=list[ReplyRead])
def list_replies(session: SessionDep, task_id: int) -> list[ReplyRead]:
    """A task's replies with their delivery state, oldest first."""
    return [ReplyRead.model_validate(r) for r in service.list_replies(session, task_id)]


@router.get("/replies/{reply_id}", response_model=ReplyRead)
def get_reply(session: SessionDep, reply_id: int) -> ReplyRead:
    """One reply with its delivery state."""
    return ReplyRead.model_validate(service.get_reply(session, reply_id))


@router.delete("/replies/{reply_id}", response_model=ReplyRead)
def cancel_reply(session: SessionDep, key: KeyDep, reply_id: int) -> ReplyRead:
    """Cancel a reply still waiting in the outbox (409 once it is being sent or sent)."""
    return ReplyRead.model_validate(service.cancel_reply(session, reply_id, key.name))


@router.post(
    "/tasks/{task_id}/compensations",
    response_model=CompensationRead,
    status_code=status.HTTP_201_CREATED,
)
def add_compensation(
    session: SessionDep, key: KeyDep, task_id: int, data: CompensationCreate
) -> CompensationRead:
    """Record an apology, refund, voucher or replacement given on this task."""
    compensation = service.add_compensation(
        session,
        task_id,
        kind=data.kind,
        amount=data.amount,
        currency=data.currency,
        note=data.note,
        actor=key.name,
    )
    return CompensationRead.model_validate(compensation)


@router.get("/tasks/{task_id}/compensations", response_model=list[CompensationRead])
def list_compensations(session: SessionDep, task_id: int) -> list[CompensationRead]:
    """A task's compensations, oldest first."""
    return [
        CompensationRead.model_validate(c) for c in service.list_compensations(session, task_id)
    ]
