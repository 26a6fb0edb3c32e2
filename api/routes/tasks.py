"""Response tasks: the agents' work queue, lifecycle, notes, lock and canned replies."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi import status as http

from api.deps import SessionDep, require_api_key
from api.models import ApiKey
from core.pagination import Page
from engagement import service, templates
from engagement.schemas import (
    LockRequest,
    NoteCreate,
    RenderedReply,
    TaskAssign,
    TaskDetail,
    TaskEventRead,
    TaskRead,
    TaskStatusChange,
)

router = APIRouter(prefix="/tasks", tags=["tasks"])

StatusFilter = Literal["open", "new", "assigned", "waiting", "resolved", "closed", "all"]


def current_actor(key: Annotated[ApiKey, Depends(require_api_key)]) -> str:
    """Who is acting: the name of the request's API key."""
    return key.name


ActorDep = Annotated[str, Depends(current_actor)]


@router.get("", response_model=Page[TaskRead])
def list_tasks(
    session: SessionDep,
    status: StatusFilter = "open",
    assignee: Annotated[str | None, Query(max_length=255)] = None,
    priority: Annotated[int | None, Query(ge=1, le=4)] = None,
    overdue: Annotated[bool | None, Query(description="Past the first-response SLA")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[TaskRead]:
    """List tasks in inbox order (most urgent, then earliest due)."""
    items, total = service.list_tasks(
        session,
        status=None if status == "all" else status,
        assignee=assignee,
        priority=priority,
        overdue=overdue,
        limit=limit,
        offset=offset,
    )
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/{task_id}", response_model=TaskDetail)
def get_task(session: SessionDep, task_id: int) -> TaskDetail:
    """One task with its conversation and audit trail."""
    return service.get_task(session, task_id)


@router.post("/{task_id}/assign", response_model=TaskRead)
def assign_task(session: SessionDep, actor: ActorDep, task_id: int, body: TaskAssign) -> TaskRead:
    """Assign a task to an agent by name, or round-robin when no agent is given."""
    task = service.assign(session, task_id, body.agent, actor)
    return service.task_read(session, task)


@router.post("/{task_id}/status", response_model=TaskRead)
def change_status(
    session: SessionDep, actor: ActorDep, task_id: int, body: TaskStatusChange
) -> TaskRead:
    """Move a task through its lifecycle; an illegal transition is a 409 problem."""
    task = service.change_status(session, task_id, body.status, actor)
    return service.task_read(session, task)


@router.post("/{task_id}/notes", response_model=TaskEventRead, status_code=http.HTTP_201_CREATED)
def add_note(session: SessionDep, actor: ActorDep, task_id: int, body: NoteCreate) -> TaskEventRead:
    """Add an internal note to a task's audit trail."""
    event = service.add_note(session, task_id, actor, body.body)
    return TaskEventRead.model_validate(event)


@router.post("/{task_id}/lock", response_model=TaskRead)
def lock_task(
    session: SessionDep, actor: ActorDep, task_id: int, body: LockRequest | None = None
) -> TaskRead:
    """Show "being answered by" on a task; 409 while another agent holds it."""
    body = body or LockRequest()
    task = service.lock(session, task_id, body.agent or actor, body.minutes)
    return service.task_read(session, task)


@router.delete("/{task_id}/lock", response_model=TaskRead)
def unlock_task(
    session: SessionDep,
    actor: ActorDep,
    task_id: int,
    agent: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
    force: Annotated[bool, Query(description="Release another agent's lock")] = False,
) -> TaskRead:
    """Release a task's lock (another agent's only with force=true)."""
    task = service.unlock(session, task_id, agent or actor, force=force)
    return service.task_read(session, task)


@router.get("/{task_id}/reply-templates/{template_id}/render", response_model=RenderedReply)
def render_template(
    session: SessionDep,
    actor: ActorDep,
    task_id: int,
    template_id: int,
    agent: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
) -> RenderedReply:
    """A canned reply filled in with this task's customer (or author) and the agent."""
    return RenderedReply(
        text=templates.render_for_task(session, task_id, template_id, agent or actor)
    )
