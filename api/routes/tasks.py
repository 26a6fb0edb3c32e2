"""Response tasks: the agents' work queue."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import SessionDep
from core.pagination import Page
from engagement import service
from engagement.schemas import TaskDetail, TaskRead

router = APIRouter(prefix="/tasks", tags=["tasks"])

StatusFilter = Literal["open", "new", "assigned", "waiting", "resolved", "closed", "all"]


@router.get("", response_model=Page[TaskRead])
def list_tasks(
    session: SessionDep,
    status: StatusFilter = "open",
    assignee: Annotated[str | None, Query(max_length=255)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[TaskRead]:
    """List tasks in inbox order (most urgent, then earliest due)."""
    items, total = service.list_tasks(
        session,
        status=None if status == "all" else status,
        assignee=assignee,
        limit=limit,
        offset=offset,
    )
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/{task_id}", response_model=TaskDetail)
def get_task(session: SessionDep, task_id: int) -> TaskDetail:
    """One task with its conversation and audit trail."""
    return service.get_task(session, task_id)
