"""Server-rendered web views: login and the social team's inbox (Jinja2, autoescaped)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.auth import verify_key
from api.deps import COOKIE_NAME, SessionDep, web_key
from api.models import ApiKey
from core.errors import NotFoundError
from engagement import service as engagement

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)

STATUS_TABS = ("open", "new", "assigned", "waiting", "resolved", "closed", "all")
PAGE_SIZE = 50


def _login_redirect() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


@router.get("/", response_class=HTMLResponse)
def inbox(
    request: Request,
    session: SessionDep,
    key: Annotated[ApiKey | None, Depends(web_key)],
    status: str = "open",
    page: int = 1,
) -> Response:
    """The inbox: tasks in priority order with their latest mention."""
    if key is None:
        return _login_redirect()
    status = status if status in STATUS_TABS else "open"
    page = max(1, page)
    tasks, total = engagement.list_tasks(
        session,
        status=None if status == "all" else status,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return templates.TemplateResponse(
        request,
        "inbox.html",
        {
            "tasks": tasks,
            "total": total,
            "status": status,
            "tabs": STATUS_TABS,
            "counts": engagement.status_counts(session),
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "key_name": key.name,
        },
    )


@router.get("/tasks/{task_id}", response_class=HTMLResponse)
def task_view(
    request: Request,
    session: SessionDep,
    key: Annotated[ApiKey | None, Depends(web_key)],
    task_id: int,
) -> Response:
    """One task: the whole conversation and its audit trail."""
    if key is None:
        return _login_redirect()
    try:
        task = engagement.get_task(session, task_id)
    except NotFoundError:
        return templates.TemplateResponse(
            request, "not_found.html", {"what": f"task {task_id}"}, status_code=404
        )
    return templates.TemplateResponse(request, "task.html", {"task": task, "key_name": key.name})


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    """Ask for an API key."""
    return templates.TemplateResponse(request, "login.html", {"error": None})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request, session: SessionDep, api_key: Annotated[str, Form(max_length=200)]
) -> Response:
    """Check the key and keep it in an HttpOnly cookie."""
    secret = api_key.strip()
    if verify_key(session, secret) is None:
        return templates.TemplateResponse(
            request, "login.html", {"error": "That key is not valid."}, status_code=401
        )
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        secret,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=12 * 3600,
    )
    return response


@router.post("/logout")
def logout() -> Response:
    """Forget the login cookie."""
    response = _login_redirect()
    response.delete_cookie(COOKIE_NAME)
    return response
