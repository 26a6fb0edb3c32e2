"""Agents of the social-care team, and the round-robin that hands them tasks."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.errors import ConflictError, NotFoundError
from core.timeutil import utcnow
from engagement import repository
from engagement.models import Agent
from engagement.schemas import AgentCreate, AgentUpdate


def create_agent(session: Session, data: AgentCreate) -> Agent:
    """Add an agent; names are unique."""
    name = data.name.strip()
    if repository.agent_by_name(session, name) is not None:
        raise ConflictError(f"agent {name!r} already exists")
    now = utcnow()
    return repository.add_agent(
        session,
        Agent(name=name, email=data.email, available=data.available, active=True, created_at=now),
    )


def list_agents(session: Session, *, include_inactive: bool = False) -> list[Agent]:
    """Agents by name (active ones unless `include_inactive`)."""
    return repository.list_agents(session, include_inactive=include_inactive)


def get_agent(session: Session, agent_id: int) -> Agent:
    """One agent by id."""
    agent = repository.get_agent(session, agent_id)
    if agent is None:
        raise NotFoundError(f"agent {agent_id} not found")
    return agent


def get_agent_by_name(session: Session, name: str) -> Agent:
    """One agent by name."""
    agent = repository.agent_by_name(session, name)
    if agent is None:
        raise NotFoundError(f"agent {name!r} not found")
    return agent


def update_agent(session: Session, agent_id: int, data: AgentUpdate) -> Agent:
    """Change an agent's email, availability (round-robin) or activity."""
    agent = get_agent(session, agent_id)
    changes = data.model_dump(exclude_unset=True)
    if "email" in changes:
        agent.email = changes["email"]
    if changes.get("available") is not None:
        agent.available = changes["available"]
    if changes.get("active") is not None:
        agent.active = changes["active"]
        # A deactivated agent takes no more work; reactivating does not make them available.
        if not agent.active:
            agent.available = False
    session.flush()
    return agent


def deactivate_agent(session: Session, agent_id: int) -> Agent:
    """Deactivate an agent (kept for the audit trail; takes no more tasks)."""
    return update_agent(session, agent_id, AgentUpdate(active=False))


def next_agent(session: Session) -> Agent:
    """The agent round-robin picks next: available, active, assigned longest ago."""
    agent = repository.next_round_robin_agent(session)
    if agent is None:
        raise ConflictError("no available agent to assign the task to")
    return agent
