"""Complaint categories: the brand's taxonomy negative mentions are sorted into."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi import status as http

from api.deps import SessionDep
from sentiment import service
from sentiment.schemas import CategoryCreate, CategoryRead, CategoryUpdate

router = APIRouter(prefix="/categories", tags=["categories"])


@router.get("", response_model=list[CategoryRead])
def list_categories(session: SessionDep) -> list[CategoryRead]:
    """List the complaint categories in order (disabled ones included)."""
    return [CategoryRead.model_validate(c) for c in service.list_categories(session)]


@router.get("/{key}", response_model=CategoryRead)
def get_category(session: SessionDep, key: str) -> CategoryRead:
    """One category."""
    return CategoryRead.model_validate(service.get_category(session, key))


@router.post("", response_model=CategoryRead, status_code=http.HTTP_201_CREATED)
def create_category(session: SessionDep, body: CategoryCreate) -> CategoryRead:
    """Add a category; new complaints can fall into it at once (no retraining)."""
    return CategoryRead.model_validate(service.create_category(session, body))


@router.patch("/{key}", response_model=CategoryRead)
def update_category(session: SessionDep, key: str, body: CategoryUpdate) -> CategoryRead:
    """Change a category's name, description, examples, order or enabled flag."""
    return CategoryRead.model_validate(service.update_category(session, key, body))


@router.delete("/{key}", status_code=http.HTTP_204_NO_CONTENT)
def delete_category(session: SessionDep, key: str) -> Response:
    """Remove a category (results and tasks keep the key they were given)."""
    service.delete_category(session, key)
    return Response(status_code=http.HTTP_204_NO_CONTENT)
