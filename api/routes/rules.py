"""Engagement rules: which mentions open a response task, editable per brand."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi import status as http

from api.deps import SessionDep
from engagement import rules
from engagement.schemas import RuleCreate, RuleRead, RuleUpdate

router = APIRouter(prefix="/rules", tags=["rules"])


@router.get("", response_model=list[RuleRead])
def list_rules(session: SessionDep) -> list[RuleRead]:
    """List rules in evaluation order."""
    return [RuleRead.model_validate(r) for r in rules.list_rules(session)]


@router.post("", response_model=RuleRead, status_code=http.HTTP_201_CREATED)
def create_rule(session: SessionDep, body: RuleCreate) -> RuleRead:
    """Add a rule; params that do not fit its kind are a 422 problem."""
    return RuleRead.model_validate(rules.create_rule(session, body))


@router.patch("/{rule_id}", response_model=RuleRead)
def update_rule(session: SessionDep, rule_id: int, body: RuleUpdate) -> RuleRead:
    """Change a rule; enabled=false switches it off."""
    return RuleRead.model_validate(rules.update_rule(session, rule_id, body))


@router.delete("/{rule_id}", status_code=http.HTTP_204_NO_CONTENT)
def delete_rule(session: SessionDep, rule_id: int) -> Response:
    """Remove a rule."""
    rules.delete_rule(session, rule_id)
    return Response(status_code=http.HTTP_204_NO_CONTENT)
