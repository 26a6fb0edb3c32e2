"""Customers from the CRM, their identities, link suggestions and merges.

`router` carries both /customers and /link-suggestions, so one include mounts everything.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Response, status

from api.deps import SessionDep, require_api_key
from api.models import ApiKey
from core.pagination import Page
from engagement.customers import service
from engagement.customers.schemas import (
    BATCH_MAX,
    CRM_ID_MAX,
    CustomerBatchItem,
    CustomerEventRead,
    CustomerRead,
    CustomerUpsert,
    CustomerView,
    IdentityLink,
    IdentityRead,
    MergeRequest,
    MergeResult,
    SuggestionRead,
    UpsertResult,
)

KeyDep = Annotated[ApiKey, Depends(require_api_key)]
CrmId = Annotated[str, Path(min_length=1, max_length=CRM_ID_MAX)]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0)]

customers = APIRouter(prefix="/customers", tags=["customers"])
suggestions = APIRouter(prefix="/link-suggestions", tags=["customers"])


@customers.put("/{crm_id}", response_model=CustomerRead)
def upsert_customer(
    session: SessionDep, key: KeyDep, crm_id: CrmId, body: CustomerUpsert, response: Response
) -> CustomerRead:
    """Create or update a customer by CRM id (201 when created; an unchanged one is not written)."""
    customer, outcome = service.upsert_customer(session, crm_id, body, key.name)
    if outcome == "created":
        response.status_code = status.HTTP_201_CREATED
    return customer


@customers.put("", response_model=UpsertResult)
def upsert_customers(
    session: SessionDep,
    key: KeyDep,
    body: Annotated[list[CustomerBatchItem], Body(max_length=BATCH_MAX)],
) -> UpsertResult:
    """Create or update up to 1000 customers by CRM id in one transaction."""
    items = [(item.crm_id, _without_crm_id(item)) for item in body]
    return service.upsert_customers(session, items, key.name)


def _without_crm_id(item: CustomerBatchItem) -> CustomerUpsert:
    # Keep "fields absent from the payload stay unchanged" for batch items too.
    fields = item.model_fields_set - {"crm_id"}
    return CustomerUpsert.model_validate(item.model_dump(include=fields))


@customers.get("", response_model=Page[CustomerRead])
def list_customers(
    session: SessionDep,
    q: Annotated[
        str | None, Query(max_length=255, description="name, e-mail, CRM id, handle")
    ] = None,
    tier: Annotated[str | None, Query(max_length=64)] = None,
    include_merged: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[CustomerRead]:
    """Search customers by name, e-mail, CRM id or handle."""
    items, total = service.list_customers(
        session, q=q, tier=tier, include_merged=include_merged, limit=limit, offset=offset
    )
    return Page(items=items, total=total, limit=limit, offset=offset)


@customers.get("/{customer_id}", response_model=CustomerView)
def get_customer(
    session: SessionDep,
    customer_id: int,
    mentions_limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> CustomerView:
    """A customer with identities, mentions, sentiment over time, tasks, replies, compensations."""
    return service.customer_view(session, customer_id, mentions_limit=mentions_limit)


@customers.get("/{customer_id}/events", response_model=Page[CustomerEventRead])
def customer_events(
    session: SessionDep, customer_id: int, limit: Limit = 50, offset: Offset = 0
) -> Page[CustomerEventRead]:
    """A customer's audit trail, newest first."""
    items, total = service.customer_events(session, customer_id, limit=limit, offset=offset)
    return Page(items=items, total=total, limit=limit, offset=offset)


@customers.post(
    "/{customer_id}/identities", response_model=IdentityRead, status_code=status.HTTP_201_CREATED
)
def link_author(
    session: SessionDep, key: KeyDep, customer_id: int, body: IdentityLink
) -> IdentityRead:
    """Link an author (a social identity seen in mentions) to this customer."""
    return service.link(session, body.author_id, customer_id, key.name)


@customers.delete("/{customer_id}/identities/{identity_id}", status_code=status.HTTP_204_NO_CONTENT)
def unlink_identity(session: SessionDep, key: KeyDep, customer_id: int, identity_id: int) -> None:
    """Detach the author of one of this customer's identities."""
    service.unlink(session, identity_id, key.name, customer_id=customer_id)


@customers.post("/{customer_id}/merge", response_model=MergeResult)
def merge_customer(
    session: SessionDep, key: KeyDep, customer_id: int, body: MergeRequest
) -> MergeResult:
    """Merge this (duplicate) customer into another; reversible with unmerge."""
    return service.merge(session, customer_id, body.into_customer_id, key.name)


@customers.post("/{customer_id}/unmerge", response_model=MergeResult)
def unmerge_customer(session: SessionDep, key: KeyDep, customer_id: int) -> MergeResult:
    """Undo this customer's merge: what moved goes back."""
    return service.unmerge(session, customer_id, key.name)


@suggestions.get("", response_model=Page[SuggestionRead])
def list_suggestions(
    session: SessionDep,
    status: Literal["pending", "accepted", "rejected", "all"] = "pending",
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[SuggestionRead]:
    """Possible author→customer links for an agent to decide, most confident first."""
    items, total = service.list_suggestions(
        session, status=None if status == "all" else status, limit=limit, offset=offset
    )
    return Page(items=items, total=total, limit=limit, offset=offset)


@suggestions.post("/{suggestion_id}/accept", response_model=IdentityRead)
def accept_suggestion(session: SessionDep, key: KeyDep, suggestion_id: int) -> IdentityRead:
    """Confirm a suggestion: the author is linked to the customer."""
    return service.accept_suggestion(session, suggestion_id, key.name)


@suggestions.post("/{suggestion_id}/reject", response_model=SuggestionRead)
def reject_suggestion(session: SessionDep, key: KeyDep, suggestion_id: int) -> SuggestionRead:
    """Reject a suggestion: it will not be suggested again."""
    return service.reject_suggestion(session, suggestion_id, key.name)


router = APIRouter()
router.include_router(customers)
router.include_router(suggestions)
