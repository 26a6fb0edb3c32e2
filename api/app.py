"""FastAPI application factory: routes, problem-details errors, web views."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import web
from api.deps import require_api_key
from api.routes import (
    agents,
    categories,
    complaints,
    customers,
    health,
    mentions,
    replies,
    reports,
    rules,
    sources,
    tasks,
    templates,
    trends,
    webhooks,
)
from core.db import make_engine, make_session_factory
from core.errors import ConflictError, InvalidError, NotFoundError
from core.settings import Settings, get_settings

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str | None = None, **extra: object) -> JSONResponse:
    """An RFC 9457 problem-details response."""
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotFoundError)
    async def not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return problem(404, "Not Found", str(exc))

    @app.exception_handler(ConflictError)
    async def conflict(_: Request, exc: ConflictError) -> JSONResponse:
        return problem(409, "Conflict", str(exc))

    @app.exception_handler(InvalidError)
    async def invalid_input(_: Request, exc: InvalidError) -> JSONResponse:
        return problem(422, "Unprocessable Content", str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        return problem(422, "Unprocessable Content", "request validation failed", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = problem(exc.status_code, _title(exc.status_code), str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        return response


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def create_app(
    settings: Settings | None = None, session_factory: sessionmaker[Session] | None = None
) -> FastAPI:
    """Build the app; the session factory defaults to one over settings.database_url."""
    settings = settings or get_settings()
    if session_factory is None:
        session_factory = make_session_factory(make_engine(settings.database_url))
    app = FastAPI(
        title="social-crm",
        version="0.1.0",
        description="Social listening and customer-care API. Every /api/v1 route needs a "
        "bearer API key (`socialcrm apikeys create`).",
    )
    app.state.settings = settings
    app.state.session_factory = session_factory
    # Set by `socialcrm run` when the scheduler shares this process (embedded mode).
    app.state.scheduler = None
    _install_error_handlers(app)

    app.include_router(health.router)
    protected = [Depends(require_api_key)]
    app.include_router(tasks.router, prefix="/api/v1", dependencies=protected)
    app.include_router(mentions.router, prefix="/api/v1", dependencies=protected)
    app.include_router(sources.router, prefix="/api/v1", dependencies=protected)
    app.include_router(customers.router, prefix="/api/v1", dependencies=protected)
    app.include_router(agents.router, prefix="/api/v1", dependencies=protected)
    app.include_router(rules.router, prefix="/api/v1", dependencies=protected)
    app.include_router(templates.router, prefix="/api/v1", dependencies=protected)
    app.include_router(replies.router, prefix="/api/v1", dependencies=protected)
    app.include_router(webhooks.router, prefix="/api/v1", dependencies=protected)
    app.include_router(complaints.router, prefix="/api/v1", dependencies=protected)
    app.include_router(reports.router, prefix="/api/v1", dependencies=protected)
    app.include_router(trends.router, prefix="/api/v1", dependencies=protected)
    app.include_router(categories.router, prefix="/api/v1", dependencies=protected)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    return app
