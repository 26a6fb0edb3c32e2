"""Collector sources: configure what is collected, see how collection is going."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response, status

from api.deps import SessionDep
from collectors import service
from collectors.schemas import SourceCreate, SourceRead, SourceUpdate
from core.errors import ConflictError

router = APIRouter(prefix="/sources", tags=["sources"])


def _resync(request: Request, background: BackgroundTasks) -> None:
    """After the commit, make this process's scheduler (if it runs one) match the sources."""
    scheduler = getattr(request.app.state, "scheduler", None)
    if scheduler is not None:
        from scheduler.registry import sync_sources

        background.add_task(sync_sources, scheduler)


@router.get("", response_model=list[SourceRead])
def list_sources(
    session: SessionDep, enabled: Annotated[bool | None, Query()] = None
) -> list[SourceRead]:
    """List sources with their collection status (last run, last error, next run)."""
    return [SourceRead.model_validate(s) for s in service.list_sources(session, enabled=enabled)]


@router.post("", response_model=SourceRead, status_code=status.HTTP_201_CREATED)
def create_source(
    session: SessionDep, request: Request, background: BackgroundTasks, body: SourceCreate
) -> SourceRead:
    """Add a source; it is scheduled at once when this process runs the scheduler."""
    source = service.create_source(session, body)
    _resync(request, background)
    return SourceRead.model_validate(source)


@router.get("/{source_id}", response_model=SourceRead)
def get_source(session: SessionDep, source_id: int) -> SourceRead:
    """One source and its status."""
    return SourceRead.model_validate(service.get_source(session, source_id))


@router.patch("/{source_id}", response_model=SourceRead)
def update_source(
    session: SessionDep,
    request: Request,
    background: BackgroundTasks,
    source_id: int,
    body: SourceUpdate,
) -> SourceRead:
    """Change a source (pause with enabled=false); the schedule follows without a restart."""
    source = service.update_source(session, source_id, body)
    _resync(request, background)
    return SourceRead.model_validate(source)


@router.delete("/{source_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_source(
    session: SessionDep, request: Request, background: BackgroundTasks, source_id: int
) -> Response:
    """Remove a source and its schedule; collected mentions stay."""
    service.delete_source(session, source_id)
    _resync(request, background)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{source_id}/collect", status_code=status.HTTP_202_ACCEPTED)
def collect_now(session: SessionDep, request: Request, source_id: int) -> dict[str, str]:
    """Ask the scheduler to run this source's collection now."""
    source = service.get_source(session, source_id)
    scheduler = getattr(request.app.state, "scheduler", None)
    if scheduler is None:
        raise ConflictError("this process runs no scheduler; use `socialcrm collect --source ID`")
    if not source.enabled:
        raise ConflictError(f"source {source_id} is paused or disabled; enable it first")
    from scheduler.registry import collect_now as trigger

    trigger(scheduler, source_id)
    return {"status": "scheduled"}
