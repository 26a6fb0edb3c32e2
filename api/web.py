"""Server-rendered web views: login and the social team's inbox (Jinja2, autoescaped)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy.orm import Session

from api.auth import verify_key
from api.deps import COOKIE_NAME, SessionDep, web_key
from api.models import ApiKey
from collectors.models import Platform
from core.errors import InvalidError, NotFoundError, SocialCrmError, validation_message
from core.timeutil import utcnow
from engagement import agents as agent_service
from engagement import service as engagement
from engagement import templates as template_service
from engagement.customers import service as customers
from engagement.recovery import service as recovery
from engagement.replies import service as replies
from sentiment import service as sentiment_service
from sentiment import trends as trend_service
from sentiment.models import ComplaintCategory
from sentiment.schemas import CATEGORY_HINTS, CategoryCreate, CategoryUpdate
from sentiment.trends_schemas import TrendBucket

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)

STATUS_TABS = ("open", "new", "assigned", "waiting", "resolved", "closed", "all")
PAGE_SIZE = 50


def _login_redirect() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


def csrf_token(request: Request) -> str:
    """A token only a page that could read the HttpOnly login cookie can know."""
    secret = request.cookies.get(COOKIE_NAME, "")
    return hashlib.sha256(f"csrf:{secret}".encode()).hexdigest()


def _csrf_ok(request: Request, token: str) -> bool:
    return bool(token) and hmac.compare_digest(token, csrf_token(request))


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


def _task_page(
    request: Request,
    session: Session,
    key: ApiKey,
    task_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    try:
        task = engagement.get_task(session, task_id)
    except NotFoundError:
        return templates.TemplateResponse(
            request, "not_found.html", {"what": f"task {task_id}"}, status_code=404
        )
    return templates.TemplateResponse(
        request,
        "task.html",
        {
            "task": task,
            "key_name": key.name,
            "agents": agent_service.list_agents(session),
            "reply_templates": template_service.list_templates(session),
            "replies": replies.list_replies(session, task_id),
            "compensations": replies.list_compensations(session, task_id),
            "csrf": csrf_token(request),
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/tasks/{task_id}", response_class=HTMLResponse)
def task_view(
    request: Request,
    session: SessionDep,
    key: Annotated[ApiKey | None, Depends(web_key)],
    task_id: int,
) -> Response:
    """One task: conversation, replies, compensations, history, and the agent's actions."""
    if key is None:
        return _login_redirect()
    return _task_page(request, session, key, task_id)


def _act(
    request: Request,
    session: Session,
    key: ApiKey | None,
    task_id: int,
    token: str,
    action: Callable[[str], Any],
) -> Response:
    """Run one agent action from a form: login and CSRF checked, errors shown on the page."""
    if key is None:
        return _login_redirect()
    if not _csrf_ok(request, token):
        return _task_page(
            request, session, key, task_id, error="The form expired; try again.", status_code=403
        )
    try:
        action(key.name)
    except NotFoundError:
        raise
    except SocialCrmError as exc:
        session.rollback()
        code = 422 if isinstance(exc, InvalidError) else 409
        return _task_page(request, session, key, task_id, error=str(exc), status_code=code)
    return RedirectResponse(f"/tasks/{task_id}", status_code=303)


KeyDep = Annotated[ApiKey | None, Depends(web_key)]
Token = Annotated[str, Form(alias="csrf", max_length=100)]


@router.post("/tasks/{task_id}/lock")
def web_lock(
    request: Request, session: SessionDep, key: KeyDep, task_id: int, csrf: Token
) -> Response:
    """Show the team that this agent is answering the task (a 5-minute lease)."""
    return _act(
        request, session, key, task_id, csrf, lambda me: engagement.lock(session, task_id, me)
    )


@router.post("/tasks/{task_id}/unlock")
def web_unlock(
    request: Request, session: SessionDep, key: KeyDep, task_id: int, csrf: Token
) -> Response:
    """Release this agent's lock."""
    return _act(
        request, session, key, task_id, csrf, lambda me: engagement.unlock(session, task_id, me)
    )


@router.post("/tasks/{task_id}/assign")
def web_assign(
    request: Request,
    session: SessionDep,
    key: KeyDep,
    task_id: int,
    csrf: Token,
    agent: Annotated[str, Form(max_length=255)] = "",
) -> Response:
    """Assign to a named agent, or round-robin when none is chosen."""

    def run(me: str) -> Any:
        if agent:
            return engagement.assign(session, task_id, agent, me)
        return engagement.assign_round_robin(session, task_id, me)

    return _act(request, session, key, task_id, csrf, run)


@router.post("/tasks/{task_id}/status")
def web_status(
    request: Request,
    session: SessionDep,
    key: KeyDep,
    task_id: int,
    csrf: Token,
    status: Annotated[str, Form(max_length=16)],
) -> Response:
    """Move the task through its lifecycle (illegal moves are explained, not applied)."""
    return _act(
        request,
        session,
        key,
        task_id,
        csrf,
        lambda me: engagement.change_status(session, task_id, status, me),
    )


@router.post("/tasks/{task_id}/notes")
def web_note(
    request: Request,
    session: SessionDep,
    key: KeyDep,
    task_id: int,
    csrf: Token,
    body: Annotated[str, Form(max_length=5000)],
) -> Response:
    """Add an internal note (never sent to the customer)."""
    return _act(
        request,
        session,
        key,
        task_id,
        csrf,
        lambda me: engagement.add_note(session, task_id, me, body),
    )


@router.post("/tasks/{task_id}/replies")
def web_reply(
    request: Request,
    session: SessionDep,
    key: KeyDep,
    task_id: int,
    csrf: Token,
    body: Annotated[str, Form(max_length=20_000)] = "",
    template_id: Annotated[str, Form(max_length=20)] = "",
    mention_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Queue a reply to the customer (sent by the outbox job; dry-run in the demo)."""
    settings = request.app.state.settings

    def run(me: str) -> Any:
        return replies.create_reply(
            session,
            task_id=task_id,
            mention_id=int(mention_id) if mention_id.isdigit() else None,
            body=body if body.strip() else None,
            template_id=int(template_id) if template_id.isdigit() else None,
            author=me,
            dry_run=settings.dry_run_replies,
        )

    return _act(request, session, key, task_id, csrf, run)


@router.post("/tasks/{task_id}/compensations")
def web_compensation(
    request: Request,
    session: SessionDep,
    key: KeyDep,
    task_id: int,
    csrf: Token,
    kind: Annotated[str, Form(max_length=32)],
    amount: Annotated[str, Form(max_length=20)] = "",
    currency: Annotated[str, Form(max_length=3)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Record what the brand gave to make up for the complaint."""

    def run(me: str) -> Any:
        try:
            value = Decimal(amount) if amount.strip() else None
        except InvalidOperation:
            raise InvalidError(f"amount {amount!r} is not a number") from None
        return replies.add_compensation(
            session,
            task_id,
            kind=kind,
            amount=value,
            currency=currency or None,
            note=note or None,
            actor=me,
        )

    return _act(request, session, key, task_id, csrf, run)


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer_page(request: Request, session: SessionDep, key: KeyDep, customer_id: int) -> Response:
    """One customer across platforms: identities, sentiment over time, mentions, tasks, money."""
    if key is None:
        return _login_redirect()
    try:
        view = customers.customer_view(session, customer_id)
    except NotFoundError:
        return templates.TemplateResponse(
            request, "not_found.html", {"what": f"customer {customer_id}"}, status_code=404
        )
    return templates.TemplateResponse(
        request, "customer.html", {"view": view, "key_name": key.name}
    )


@router.get("/suggestions", response_class=HTMLResponse)
def suggestions_page(
    request: Request, session: SessionDep, key: KeyDep, error: str | None = None
) -> Response:
    """Possible author→customer links waiting for an agent's decision."""
    if key is None:
        return _login_redirect()
    items, total = customers.list_suggestions(session, status="pending", limit=200)
    return templates.TemplateResponse(
        request,
        "suggestions.html",
        {"items": items, "total": total, "key_name": key.name, "csrf": csrf_token(request)},
    )


@router.post("/suggestions/{suggestion_id}/{decision}")
def decide_suggestion(
    request: Request,
    session: SessionDep,
    key: KeyDep,
    suggestion_id: int,
    decision: str,
    csrf: Token,
) -> Response:
    """Accept (link) or reject a suggested identity link."""
    if key is None:
        return _login_redirect()
    if not _csrf_ok(request, csrf) or decision not in ("accept", "reject"):
        return RedirectResponse("/suggestions", status_code=303)
    if decision == "accept":
        customers.accept_suggestion(session, suggestion_id, key.name)
    else:
        customers.reject_suggestion(session, suggestion_id, key.name)
    return RedirectResponse("/suggestions", status_code=303)


PLATFORMS = tuple(p.value for p in Platform)
REPORT_GROUPS = ("channel", "category", "agent", "compensation", "none")


@router.get("/reports", response_class=HTMLResponse)
def reports_page(
    request: Request, session: SessionDep, key: KeyDep, group_by: str = "channel", days: int = 30
) -> Response:
    """Service recovery by group and the retention-risk call list."""
    if key is None:
        return _login_redirect()
    group_by = group_by if group_by in REPORT_GROUPS else "channel"
    days = min(max(days, 1), 365)
    now = utcnow()
    report = recovery.recovery_report(
        session, since=now - timedelta(days=days), until=now, group_by=group_by
    )
    return templates.TemplateResponse(
        request,
        "reports.html",
        {
            "report": report,
            "groups": REPORT_GROUPS,
            "days": days,
            "risk": recovery.retention_risk(session, limit=25),
            "key_name": key.name,
        },
    )


TREND_DAYS = (7, 30, 90)
CHART_W, CHART_H, CHART_PAD, CHART_TOP = 720, 200, 44, 10


def _trend_chart(buckets: list[TrendBucket]) -> dict[str, Any]:
    """Geometry of the inline SVG: negative-WOM bars (left axis) and a negative-share line
    (right axis, 0-100 %); computed here so the template holds no arithmetic."""
    peak = max((b.wom_count for b in buckets), default=0) or 1
    slot = (CHART_W - 2 * CHART_PAD) / max(len(buckets), 1)
    # At most about eight date labels, or they overlap on a 90-day range.
    every = max(1, -(-len(buckets) // 8))
    bars, points = [], []
    for i, b in enumerate(buckets):
        x = CHART_PAD + i * slot
        height = CHART_H * b.wom_count / peak
        bars.append(
            {
                "x": round(x + slot * 0.1, 1),
                "y": round(CHART_TOP + CHART_H - height, 1),
                "w": round(slot * 0.8, 1),
                "h": round(height, 1),
                "cx": round(x + slot / 2, 1),
                "label": b.start.strftime("%d %b") if i % every == 0 else "",
                "bucket": b,
            }
        )
        if b.negative_share is not None:
            y = CHART_TOP + CHART_H * (1 - b.negative_share)
            points.append((round(x + slot / 2, 1), round(y, 1)))
    return {
        "width": CHART_W,
        "height": CHART_TOP + CHART_H + 30,
        "left": CHART_PAD,
        "right": CHART_W - CHART_PAD,
        "top": CHART_TOP,
        "base": CHART_TOP + CHART_H,
        "peak": peak,
        "bars": bars,
        # Dots as well as the line: a lone point draws no line.
        "points": points,
        "line": " ".join(f"{px},{py}" for px, py in points),
    }


@router.get("/trends", response_class=HTMLResponse)
def trends_page(
    request: Request,
    session: SessionDep,
    key: KeyDep,
    days: int = 30,
    bucket: str = "day",
    platform: str = "",
    end: str = "",
) -> Response:
    """Marketing's view of negative word of mouth: chart, categories, most harmful mentions."""
    if key is None:
        return _login_redirect()
    days = days if days in TREND_DAYS else 30
    bucket = bucket if bucket in ("day", "week") else "day"
    platform = platform if platform in PLATFORMS else ""
    # `end` (a UTC day, included) looks back at an older period; anything else means today.
    try:
        end_day: date | None = date.fromisoformat(end) if end else None
    except ValueError:
        end_day = None
    now = datetime.combine(end_day, time()) if end_day else None
    since, until = trend_service.default_range(days, now=now)
    report = trend_service.wom_trends(session, since, until, bucket, platform or None)
    newest = None
    if report.totals.scored == 0:
        # An empty window (say, the demo's data is older than 30 days): offer the newest data.
        newest = trend_service.newest_scored_at(session, platform or None)
    return templates.TemplateResponse(
        request,
        "trends.html",
        {
            "report": report,
            "chart": _trend_chart(report.buckets),
            "days": days,
            "end": end_day.isoformat() if end_day else "",
            "newest": newest.date().isoformat() if newest else "",
            "day_options": TREND_DAYS,
            "platforms": PLATFORMS,
            "key_name": key.name,
        },
    )


# ------------------------------------------------------------------ complaint taxonomy

MAX_POSITION = 1_000_000
# Form limits above the schema's, so an over-long field is explained on the page by the
# schema's own message instead of the API's JSON error.
NameField = Annotated[str, Form(max_length=1_000)]
DescriptionField = Annotated[str, Form(max_length=10_000)]
ExamplesField = Annotated[str, Form(max_length=100_000)]
PositionField = Annotated[str, Form(max_length=20)]


def _lines(text: str) -> list[str]:
    """A textarea's lines, stripped, without the empty ones."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _position(text: str) -> int | None:
    """A form's position field: blank is None, anything else a bounded whole number."""
    if not text.strip():
        return None
    try:
        value = int(text.strip())
    except ValueError:
        raise InvalidError(f"position {text!r} is not a whole number") from None
    if abs(value) > MAX_POSITION:
        raise InvalidError(f"position must be between -{MAX_POSITION} and {MAX_POSITION}")
    return value


def _category_form(category: ComplaintCategory) -> dict[str, Any]:
    """A stored category as its edit form's values."""
    return {
        "name": category.name,
        "description": category.description,
        "examples": "\n".join(category.examples or []),
        "enabled": category.enabled,
        "position": str(category.position),
    }


def _categories_page(
    request: Request,
    session: Session,
    key: ApiKey,
    *,
    error: str | None = None,
    status_code: int = 200,
    new: dict[str, str] | None = None,
    edit_key: str | None = None,
    edit: dict[str, Any] | None = None,
) -> Response:
    """The taxonomy page; after a failed form, that form keeps what the admin typed."""
    rows = [
        {
            "category": c,
            "form": edit if edit is not None and c.key == edit_key else _category_form(c),
            "open": c.key == edit_key,
        }
        for c in sentiment_service.list_categories(session)
    ]
    return templates.TemplateResponse(
        request,
        "categories.html",
        {
            "rows": rows,
            "new": new or {"key": "", "name": "", "description": "", "examples": ""},
            "min_similarity": request.app.state.settings.category_min_similarity,
            "key_name": key.name,
            "csrf": csrf_token(request),
            "error": error,
        },
        status_code=status_code,
    )


def _category_act(
    request: Request,
    session: Session,
    key: ApiKey | None,
    token: str,
    action: Callable[[], Any],
    *,
    new: dict[str, str] | None = None,
    edit_key: str | None = None,
    edit: dict[str, Any] | None = None,
) -> Response:
    """Run one taxonomy change from a form: login and CSRF checked, errors shown on the page
    with the admin's input kept (403 expired form, 404 gone, 409 conflict, 422 invalid)."""
    if key is None:
        return _login_redirect()
    admin = key

    def page(error: str, status_code: int) -> Response:
        return _categories_page(
            request,
            session,
            admin,
            error=error,
            status_code=status_code,
            new=new,
            edit_key=edit_key,
            edit=edit,
        )

    if not _csrf_ok(request, token):
        return page("The form expired; try again.", 403)
    try:
        action()
    except ValidationError as exc:
        session.rollback()
        return page(validation_message(exc, hints=CATEGORY_HINTS), 422)
    except SocialCrmError as exc:
        session.rollback()
        if isinstance(exc, NotFoundError):
            return page(str(exc), 404)
        return page(str(exc), 422 if isinstance(exc, InvalidError) else 409)
    return RedirectResponse("/categories", status_code=303)


@router.get("/categories", response_class=HTMLResponse)
def categories_page(request: Request, session: SessionDep, key: KeyDep) -> Response:
    """The brand's complaint taxonomy: what each category means, and forms to change it."""
    if key is None:
        return _login_redirect()
    return _categories_page(request, session, key)


@router.post("/categories")
def web_create_category(
    request: Request,
    session: SessionDep,
    key: KeyDep,
    csrf: Token = "",
    new_key: Annotated[str, Form(alias="key", max_length=200)] = "",
    name: NameField = "",
    description: DescriptionField = "",
    examples: ExamplesField = "",
) -> Response:
    """Add a category; new negative mentions can fall into it at once."""

    def run() -> Any:
        data = CategoryCreate.model_validate(
            {
                "key": new_key.strip(),
                "name": name,
                "description": description,
                "examples": _lines(examples),
            }
        )
        return sentiment_service.create_category(session, data)

    form = {"key": new_key, "name": name, "description": description, "examples": examples}
    return _category_act(request, session, key, csrf, run, new=form)


@router.post("/categories/{category_key}")
def web_update_category(
    request: Request,
    session: SessionDep,
    key: KeyDep,
    category_key: str,
    csrf: Token = "",
    name: NameField = "",
    description: DescriptionField = "",
    examples: ExamplesField = "",
    enabled: Annotated[str, Form(max_length=10)] = "",
    position: PositionField = "",
) -> Response:
    """Reword, reorder, enable or disable a category (an unticked box disables it)."""

    def run() -> Any:
        changes: dict[str, Any] = {
            "name": name,
            "description": description,
            "examples": _lines(examples),
            "enabled": bool(enabled),
        }
        value = _position(position)
        if value is not None:
            changes["position"] = value
        data = CategoryUpdate.model_validate(changes)
        return sentiment_service.update_category(session, category_key, data)

    form = {
        "name": name,
        "description": description,
        "examples": examples,
        "enabled": bool(enabled),
        "position": position,
    }
    return _category_act(request, session, key, csrf, run, edit_key=category_key, edit=form)


@router.post("/categories/{category_key}/delete")
def web_delete_category(
    request: Request, session: SessionDep, key: KeyDep, category_key: str, csrf: Token = ""
) -> Response:
    """Remove a category; results and tasks keep the key they were given."""
    return _category_act(
        request,
        session,
        key,
        csrf,
        lambda: sentiment_service.delete_category(session, category_key),
    )


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
