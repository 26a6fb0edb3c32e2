"""Reply templates (canned replies) with {first_name}, {name}, {handle} and {agent}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi import status as http

from api.deps import SessionDep
from collectors.models import Platform
from engagement import templates
from engagement.schemas import ReplyTemplateCreate, ReplyTemplateRead, ReplyTemplateUpdate

router = APIRouter(prefix="/reply-templates", tags=["reply templates"])


@router.get("", response_model=list[ReplyTemplateRead])
def list_templates(
    session: SessionDep, platform: Annotated[Platform | None, Query()] = None
) -> list[ReplyTemplateRead]:
    """List templates by name (with platform: its own and the ones for every platform)."""
    rows = templates.list_templates(session, platform.value if platform else None)
    return [ReplyTemplateRead.model_validate(t) for t in rows]


@router.post("", response_model=ReplyTemplateRead, status_code=http.HTTP_201_CREATED)
def create_template(session: SessionDep, body: ReplyTemplateCreate) -> ReplyTemplateRead:
    """Add a template; an unknown placeholder is a 422 problem."""
    return ReplyTemplateRead.model_validate(templates.create_template(session, body))


@router.get("/{template_id}", response_model=ReplyTemplateRead)
def get_template(session: SessionDep, template_id: int) -> ReplyTemplateRead:
    """One template."""
    return ReplyTemplateRead.model_validate(templates.get_template(session, template_id))


@router.patch("/{template_id}", response_model=ReplyTemplateRead)
def update_template(
    session: SessionDep, template_id: int, body: ReplyTemplateUpdate
) -> ReplyTemplateRead:
    """Change a template's name, body or platform."""
    return ReplyTemplateRead.model_validate(templates.update_template(session, template_id, body))


@router.delete("/{template_id}", status_code=http.HTTP_204_NO_CONTENT)
def delete_template(session: SessionDep, template_id: int) -> Response:
    """Remove a template."""
    templates.delete_template(session, template_id)
    return Response(status_code=http.HTTP_204_NO_CONTENT)
