"""Canned replies: templates with placeholders filled from the customer and the author."""

from __future__ import annotations

import string

from sqlalchemy.orm import Session

from collectors.models import Author
from core.errors import ConflictError, InvalidError, NotFoundError
from core.timeutil import utcnow
from engagement import repository
from engagement.models import Customer, ReplyTemplate
from engagement.schemas import ReplyTemplateCreate, ReplyTemplateUpdate

PLACEHOLDERS = ("first_name", "name", "handle", "agent")
NO_NAME = "there"  # "Hi {first_name}" → "Hi there"
NO_AGENT = "our team"


def placeholders(body: str) -> list[str]:
    """The placeholders of a template body; InvalidError if one is unknown or malformed."""
    try:
        parts = list(string.Formatter().parse(body))
    except ValueError as exc:
        raise InvalidError(f"template has a malformed placeholder: {exc}") from None
    found = []
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise InvalidError(
                f"unknown placeholder {{{field}}}: use {known} (write {{{{ and }}}} for braces)"
            )
        if spec or conversion:
            raise InvalidError(f"placeholder {{{field}}} takes no format or conversion")
        found.append(field)
    return found


def render(
    template: ReplyTemplate | str,
    customer: Customer | None,
    author: Author | None,
    agent: str | None = None,
) -> str:
    """Fill a template: customer name first, else the author's display name, else "there"."""
    body = template if isinstance(template, str) else template.body
    placeholders(body)
    values = fill_values(customer, author, agent)
    out = []
    for literal, field, _, _ in string.Formatter().parse(body):
        out.append(literal)
        if field is not None:
            out.append(values[field])
    return "".join(out)


def fill_values(
    customer: Customer | None, author: Author | None, agent: str | None = None
) -> dict[str, str]:
    """What each placeholder becomes for this customer, author and agent."""
    full = _clean(customer.name if customer is not None else None) or _clean(
        author.display_name if author is not None else None
    )
    handle = _clean(author.handle if author is not None else None)
    return {
        "name": full or (f"@{handle}" if handle else NO_NAME),
        "first_name": full.split()[0] if full else NO_NAME,
        "handle": f"@{handle}" if handle else (full or NO_NAME),
        "agent": _clean(agent) or NO_AGENT,
    }


def create_template(session: Session, data: ReplyTemplateCreate) -> ReplyTemplate:
    """Add a template; unknown placeholders are refused."""
    placeholders(data.body)
    if repository.template_by_name(session, data.name) is not None:
        raise ConflictError(f"reply template {data.name!r} already exists")
    now = utcnow()
    return repository.add_template(
        session,
        ReplyTemplate(
            name=data.name,
            body=data.body,
            platform=data.platform.value if data.platform else None,
            created_at=now,
            updated_at=now,
        ),
    )


def list_templates(session: Session, platform: str | None = None) -> list[ReplyTemplate]:
    """Templates by name (with a platform: its own and the platform-independent ones)."""
    return repository.list_templates(session, platform)


def get_template(session: Session, template_id: int) -> ReplyTemplate:
    """One template."""
    template = repository.get_template(session, template_id)
    if template is None:
        raise NotFoundError(f"reply template {template_id} not found")
    return template


def update_template(session: Session, template_id: int, data: ReplyTemplateUpdate) -> ReplyTemplate:
    """Change a template's name, body or platform."""
    template = get_template(session, template_id)
    changes = data.model_dump(mode="json", exclude_unset=True)
    if changes.get("body") is not None:
        placeholders(changes["body"])
        template.body = changes["body"]
    name = changes.get("name")
    if name is not None and name != template.name:
        if repository.template_by_name(session, name) is not None:
            raise ConflictError(f"reply template {name!r} already exists")
        template.name = name
    if "platform" in changes:
        template.platform = changes["platform"]
    template.updated_at = utcnow()
    session.flush()
    return template


def delete_template(session: Session, template_id: int) -> None:
    """Remove a template."""
    repository.delete_template(session, get_template(session, template_id))


def render_for_task(
    session: Session, task_id: int, template_id: int, agent: str | None = None
) -> str:
    """A template filled in for the customer (or author) of one task."""
    task = repository.get_task(session, task_id)
    if task is None:
        raise NotFoundError(f"task {task_id} not found")
    template = get_template(session, template_id)
    customer = repository.get_customer(session, task.customer_id) if task.customer_id else None
    author = repository.get_author(session, task.author_id) if task.author_id else None
    return render(template, customer, author, agent)


def _clean(value: str | None) -> str:
    return " ".join(value.split()) if value else ""
