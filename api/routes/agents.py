"""Agents: who answers tasks, and who round-robin may hand the next one to."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import status as http

from api.deps import SessionDep
from engagement import agents
from engagement.schemas import AgentCreate, AgentRead, AgentUpdate

router = APIRouter(prefix="/agents", tags=["agents"])


@router.get("", response_model=list[AgentRead])
def list_agents(
    session: SessionDep, include_inactive: Annotated[bool, Query()] = False
) -> list[AgentRead]:
    """List agents by name (deactivated ones only with include_inactive=true)."""
    rows = agents.list_agents(session, include_inactive=include_inactive)
    return [AgentRead.model_validate(a) for a in rows]


@router.post("", response_model=AgentRead, status_code=http.HTTP_201_CREATED)
def create_agent(session: SessionDep, body: AgentCreate) -> AgentRead:
    """Add an agent (409 if the name is taken)."""
    return AgentRead.model_validate(agents.create_agent(session, body))


@router.patch("/{agent_id}", response_model=AgentRead)
def update_agent(session: SessionDep, agent_id: int, body: AgentUpdate) -> AgentRead:
    """Toggle availability, change the email, or deactivate (active=false) an agent."""
    return AgentRead.model_validate(agents.update_agent(session, agent_id, body))
