"""Fixtures for API tests: the full app over the rolled-back test session, and a bearer key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api import auth
from api.app import create_app
from core.settings import Settings


@pytest.fixture
def client(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The whole application, as `socialcrm run` builds it."""
    with TestClient(create_app(settings, session_factory)) as c:
        yield c


@pytest.fixture
def key_name() -> str:
    """The API key's name, which the API records as the actor (override per module)."""
    return "tests"


@pytest.fixture
def headers(session: Session, key_name: str) -> dict[str, str]:
    """A valid bearer header for a fresh key."""
    _, secret = auth.create_key(session, key_name)
    session.commit()
    return {"Authorization": f"Bearer {secret}"}
