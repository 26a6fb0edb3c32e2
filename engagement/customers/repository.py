"""All SQL for customers, their identities, audit events, link suggestions and the customer view."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from collectors.models import Author, Mention
from core.sql import dialect_insert
from engagement.models import (
    OPEN_STATUSES,
    Compensation,
    Customer,
    CustomerEvent,
    CustomerIdentity,
    LinkSuggestion,
    Reply,
    ResponseTask,
)
from sentiment.models import SentimentResult

# ---- customers --------------------------------------------------------------------------------


def get_customer(session: Session, customer_id: int) -> Customer | None:
    """One customer by internal id."""
    return session.get(Customer, customer_id)


def customers_by_crm_ids(session: Session, crm_ids: Sequence[str]) -> dict[str, Customer]:
    """Existing customers keyed by CRM id."""
    if not crm_ids:
        return {}
    stmt = select(Customer).where(Customer.crm_id.in_(crm_ids))
    return {c.crm_id: c for c in session.scalars(stmt) if c.crm_id is not None}


def add_customer(session: Session, customer: Customer) -> Customer:
    """Insert a customer and get its id."""
    session.add(customer)
    session.flush()
    return customer


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_customers(
    session: Session,
    *,
    q: str | None,
    tier: str | None,
    include_merged: bool,
    limit: int,
    offset: int,
) -> tuple[list[Customer], int]:
    """Customers whose name, e-mail, CRM id or an identity's handle contains `q`, by name."""
    stmt = select(Customer)
    if not include_merged:
        stmt = stmt.where(Customer.merged_into_id.is_(None))
    if tier:
        stmt = stmt.where(func.lower(Customer.tier) == tier.lower())
    if q:
        pattern = f"%{_like(q.lower())}%"
        handle = f"%{_like(q.lower().lstrip('@'))}%"
        has_handle = (
            select(CustomerIdentity.id)
            .where(
                CustomerIdentity.customer_id == Customer.id,
                func.lower(CustomerIdentity.handle).like(handle, escape="\\"),
            )
            .exists()
        )
        stmt = stmt.where(
            or_(
                func.lower(Customer.name).like(pattern, escape="\\"),
                func.lower(Customer.email).like(pattern, escape="\\"),
                Customer.crm_id == q,
                has_handle,
            )
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = stmt.order_by(Customer.name, Customer.id).limit(limit).offset(offset)
    return list(session.scalars(page)), total


def any_customers(session: Session) -> bool:
    """Whether there is at least one customer to match against."""
    return session.scalar(select(Customer.id).limit(1)) is not None


def candidate_customers(
    session: Session,
    *,
    full_name: Sequence[str] = (),
    name_prefixes: Sequence[str],
    email_prefixes: Sequence[str],
    emails: Sequence[str],
    phone_suffixes: Sequence[str],
    limit: int,
) -> list[Customer]:
    """Unmerged customers sharing with an author an e-mail, a phone suffix, first and last name
    (either order), a name's first word or an e-mail's start; most specific first, at most
    `limit`.

    Name and e-mail look-ups are anchored prefixes (LIKE 'greg%'), which an index on lower(name)
    / email with text_pattern_ops serves on PostgreSQL; phones are only searched when an author
    wrote one.
    """
    active = Customer.merged_into_id.is_(None)
    name = func.lower(Customer.name)

    def starts(column: ColumnElement[Any], prefix: str) -> ColumnElement[bool]:
        return column.like(f"{_like(prefix)}%", escape="\\")

    def has_word(word: str) -> ColumnElement[bool]:
        return name.like(f"% {_like(word)}%", escape="\\")

    conditions: list[ColumnElement[bool]] = []
    if emails:
        # Upserts store e-mails lower-cased, so the plain e-mail index applies.
        conditions.append(Customer.email.in_(list(emails)))
    if phone_suffixes:
        bare: ColumnElement[Any] = Customer.phone.expression
        for char in ("+", "-", " ", "(", ")", ".", "/"):
            bare = func.replace(bare, char, "")
        conditions.extend(bare.like(f"%{_like(s)}", escape="\\") for s in phone_suffixes)
    if len(full_name) >= 2:
        first, last = full_name[0], full_name[-1]
        conditions.append(and_(starts(name, first), has_word(last)))
        conditions.append(and_(starts(name, last), has_word(first)))
    conditions.extend(starts(name, prefix) for prefix in name_prefixes)
    conditions.extend(starts(Customer.email.expression, p) for p in email_prefixes)
    found: dict[int, Customer] = {}
    # One small bounded query per key keeps each one simple for the planner; stop at the cap.
    for condition in conditions:
        if len(found) >= limit:
            break
        stmt = (
            select(Customer)
            .where(active, condition)
            .order_by(Customer.id)
            .limit(limit - len(found))
        )
        for customer in session.scalars(stmt):
            found.setdefault(customer.id, customer)
    return list(found.values())


# ---- identities -------------------------------------------------------------------------------


def identities_of(
    session: Session, customer_ids: Sequence[int]
) -> dict[int, list[CustomerIdentity]]:
    """Identities of each customer, oldest first."""
    out: dict[int, list[CustomerIdentity]] = {cid: [] for cid in customer_ids}
    if not customer_ids:
        return out
    stmt = (
        select(CustomerIdentity)
        .where(CustomerIdentity.customer_id.in_(customer_ids))
        .order_by(CustomerIdentity.id)
    )
    for identity in session.scalars(stmt).unique():
        out[identity.customer_id].append(identity)
    return out


def get_identity(session: Session, identity_id: int) -> CustomerIdentity | None:
    """One identity."""
    return session.get(CustomerIdentity, identity_id)


def identities_by_ids(session: Session, identity_ids: Sequence[int]) -> list[CustomerIdentity]:
    """Identities by id (missing ones are left out)."""
    if not identity_ids:
        return []
    stmt = select(CustomerIdentity).where(CustomerIdentity.id.in_(identity_ids))
    return list(session.scalars(stmt).unique())


def identity_of_author(session: Session, author_id: int) -> CustomerIdentity | None:
    """The identity an author is linked through, if any."""
    stmt = select(CustomerIdentity).where(CustomerIdentity.author_id == author_id)
    return session.scalars(stmt).unique().first()


def linked_author_ids(session: Session, author_ids: Sequence[int]) -> set[int]:
    """Which of these authors are linked to a customer."""
    if not author_ids:
        return set()
    stmt = select(CustomerIdentity.author_id).where(CustomerIdentity.author_id.in_(author_ids))
    return {a for a in session.scalars(stmt) if a is not None}


def unresolved_by_user_ids(
    session: Session, platform: str, user_ids: Sequence[str]
) -> list[CustomerIdentity]:
    """Declared identities without an author that name one of these platform user ids."""
    if not user_ids:
        return []
    stmt = (
        select(CustomerIdentity)
        .join(Customer, Customer.id == CustomerIdentity.customer_id)
        .where(
            CustomerIdentity.platform == platform,
            CustomerIdentity.platform_user_id.in_(list(user_ids)),
            CustomerIdentity.author_id.is_(None),
            Customer.merged_into_id.is_(None),
        )
        .order_by(CustomerIdentity.id)
    )
    return list(session.scalars(stmt).unique())


def unresolved_by_handles(
    session: Session, platform: str, handles: Sequence[str]
) -> list[CustomerIdentity]:
    """Declared identities without an author whose handle is one of these (lower-cased)."""
    if not handles:
        return []
    stmt = (
        select(CustomerIdentity)
        .join(Customer, Customer.id == CustomerIdentity.customer_id)
        .where(
            CustomerIdentity.platform == platform,
            func.lower(CustomerIdentity.handle).in_(list(handles)),
            CustomerIdentity.author_id.is_(None),
            Customer.merged_into_id.is_(None),
        )
        .order_by(CustomerIdentity.id)
    )
    return list(session.scalars(stmt).unique())


def add_identity(session: Session, identity: CustomerIdentity) -> CustomerIdentity:
    """Insert an identity and get its id."""
    session.add(identity)
    session.flush()
    return identity


def delete_identity(session: Session, identity: CustomerIdentity) -> None:
    """Remove an identity row."""
    session.delete(identity)
    session.flush()


def move_identities(session: Session, identity_ids: Sequence[int], customer_id: int) -> None:
    """Give these identities to another customer."""
    for identity in identities_by_ids(session, identity_ids):
        identity.customer_id = customer_id
    session.flush()


# ---- authors ----------------------------------------------------------------------------------


def get_author(session: Session, author_id: int) -> Author | None:
    """One author."""
    return session.get(Author, author_id)


def authors_by_ids(session: Session, author_ids: Sequence[int]) -> list[Author]:
    """Authors by id, in id order."""
    if not author_ids:
        return []
    stmt = select(Author).where(Author.id.in_(author_ids)).order_by(Author.id)
    return list(session.scalars(stmt))


def author_by_user_id(session: Session, platform: str, user_id: str) -> Author | None:
    """The author with this platform user id."""
    stmt = select(Author).where(
        Author.platform == platform,
        or_(Author.platform_user_id == user_id, Author.author_key == user_id),
    )
    return session.scalars(stmt.order_by(Author.id).limit(1)).first()


def authors_by_handle(session: Session, platform: str, handle: str) -> list[Author]:
    """Authors who use (or used) this handle, case-insensitively, latest sighting first."""
    stmt = (
        select(Author)
        .where(Author.platform == platform, func.lower(Author.handle) == handle.lower())
        .order_by(Author.updated_at.desc(), Author.id.desc())
    )
    return list(session.scalars(stmt))


def recent_texts(session: Session, author_id: int, limit: int) -> list[str]:
    """Text of an author's newest mentions, for e-mails and phone numbers they wrote."""
    stmt = (
        select(Mention.text)
        .where(Mention.author_id == author_id)
        .order_by(Mention.created_at.desc(), Mention.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


# ---- tasks ------------------------------------------------------------------------------------


def open_task_ids_of_author(
    session: Session,
    author_id: int,
    *,
    customer_id: int | None = None,
    other_than: int | None = None,
) -> list[int]:
    """Open tasks of an author, optionally only those carrying (or not carrying) a customer."""
    stmt = select(ResponseTask.id).where(
        ResponseTask.author_id == author_id, ResponseTask.status.in_(OPEN_STATUSES)
    )
    if customer_id is not None:
        stmt = stmt.where(ResponseTask.customer_id == customer_id)
    if other_than is not None:
        stmt = stmt.where(
            or_(ResponseTask.customer_id.is_(None), ResponseTask.customer_id != other_than)
        )
    return list(session.scalars(stmt.order_by(ResponseTask.id)))


def task_ids_of_customer(session: Session, customer_id: int) -> list[int]:
    """Every task (any status) carrying this customer."""
    stmt = select(ResponseTask.id).where(ResponseTask.customer_id == customer_id)
    return list(session.scalars(stmt.order_by(ResponseTask.id)))


def tasks_by_ids(session: Session, task_ids: Sequence[int]) -> list[ResponseTask]:
    """Tasks by id."""
    if not task_ids:
        return []
    stmt = select(ResponseTask).where(ResponseTask.id.in_(task_ids)).order_by(ResponseTask.id)
    return list(session.scalars(stmt))


def set_tasks_customer(session: Session, task_ids: Sequence[int], customer_id: int | None) -> None:
    """Point these tasks at a customer (or at none)."""
    # Row by row through the ORM: a handful of rows, and loaded objects stay in step.
    for task in tasks_by_ids(session, task_ids):
        task.customer_id = customer_id
    session.flush()


# ---- suggestions ------------------------------------------------------------------------------


def get_suggestion(session: Session, suggestion_id: int) -> LinkSuggestion | None:
    """One link suggestion."""
    return session.get(LinkSuggestion, suggestion_id)


def suggestion_for(session: Session, author_id: int, customer_id: int) -> LinkSuggestion | None:
    """The suggestion (any status) for one author and customer."""
    stmt = select(LinkSuggestion).where(
        LinkSuggestion.author_id == author_id, LinkSuggestion.customer_id == customer_id
    )
    return session.scalar(stmt)


def rejected_pairs(session: Session, author_ids: Sequence[int]) -> set[tuple[int, int]]:
    """(author, customer) pairs an agent said are not the same person."""
    if not author_ids:
        return set()
    stmt = select(LinkSuggestion.author_id, LinkSuggestion.customer_id).where(
        LinkSuggestion.author_id.in_(author_ids), LinkSuggestion.status == "rejected"
    )
    return {(a, c) for a, c in session.execute(stmt)}


def suggested_customer_ids(session: Session, author_id: int) -> tuple[set[int], bool]:
    """Customers already suggested for an author (any status), and whether one is pending."""
    stmt = select(LinkSuggestion.customer_id, LinkSuggestion.status).where(
        LinkSuggestion.author_id == author_id
    )
    rows = list(session.execute(stmt))
    return {c for c, _ in rows}, any(s == "pending" for _, s in rows)


def add_suggestions(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Store suggestions; a pair already suggested (by a concurrent pass too) is left alone."""
    if rows:
        stmt = dialect_insert(session, LinkSuggestion).on_conflict_do_nothing(
            index_elements=[LinkSuggestion.author_id, LinkSuggestion.customer_id]
        )
        session.execute(stmt, list(rows))


def add_suggestion(session: Session, suggestion: LinkSuggestion) -> LinkSuggestion:
    """Insert one suggestion row (used to record a decision without a prior suggestion)."""
    session.add(suggestion)
    session.flush()
    return suggestion


def list_suggestions(
    session: Session, *, status: str | None, limit: int, offset: int
) -> tuple[list[tuple[LinkSuggestion, Author, Customer]], int]:
    """Suggestions with their author and customer, most confident first; pending ones whose
    author has been linked meanwhile are left out (nothing to decide any more)."""
    stmt = (
        select(LinkSuggestion, Author, Customer)
        .join(Author, Author.id == LinkSuggestion.author_id)
        .join(Customer, Customer.id == LinkSuggestion.customer_id)
    )
    if status:
        stmt = stmt.where(LinkSuggestion.status == status)
    if status == "pending":
        linked = select(CustomerIdentity.id).where(
            CustomerIdentity.author_id == LinkSuggestion.author_id
        )
        stmt = stmt.where(~linked.exists())
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = stmt.order_by(LinkSuggestion.confidence.desc(), LinkSuggestion.id).limit(limit)
    rows = session.execute(page.offset(offset)).all()
    return [(s, a, c) for s, a, c in rows], total


# ---- events -----------------------------------------------------------------------------------


def add_event(session: Session, event: CustomerEvent) -> CustomerEvent:
    """Append to a customer's audit trail and get the event id."""
    session.add(event)
    session.flush()
    return event


def customer_events(
    session: Session, customer_id: int, *, limit: int, offset: int
) -> tuple[list[CustomerEvent], int]:
    """A customer's audit trail, newest first."""
    stmt = select(CustomerEvent).where(CustomerEvent.customer_id == customer_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = stmt.order_by(CustomerEvent.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(page)), total


def events_of_type(session: Session, customer_id: int, event_type: str) -> list[CustomerEvent]:
    """A customer's events of one type, newest first."""
    stmt = (
        select(CustomerEvent)
        .where(CustomerEvent.customer_id == customer_id, CustomerEvent.type == event_type)
        .order_by(CustomerEvent.id.desc())
    )
    return list(session.scalars(stmt))


# ---- the customer view ------------------------------------------------------------------------


def mentions_of_authors(
    session: Session, author_ids: Sequence[int], limit: int
) -> tuple[list[Mention], int]:
    """The newest mentions of these authors and how many there are in all."""
    if not author_ids:
        return [], 0
    where = Mention.author_id.in_(author_ids)
    total = session.scalar(select(func.count(Mention.id)).where(where)) or 0
    stmt = select(Mention).where(where).order_by(Mention.created_at.desc(), Mention.id.desc())
    return list(session.scalars(stmt.limit(limit))), total


def sentiment_by_day(
    session: Session, author_ids: Sequence[int]
) -> list[tuple[date, str, int, float | None, int]]:
    """(day, label, mentions, sum of p_negative, mentions with a p_negative) per day and label,
    counting each mention's newest result once."""
    if not author_ids:
        return []
    newer = aliased(SentimentResult)
    is_latest = ~(
        select(newer.id)
        .where(
            newer.mention_id == SentimentResult.mention_id,
            or_(
                newer.scored_at > SentimentResult.scored_at,
                and_(newer.scored_at == SentimentResult.scored_at, newer.id > SentimentResult.id),
            ),
        )
        .exists()
    )
    day = func.date(Mention.created_at)
    stmt = (
        select(
            day,
            SentimentResult.label,
            func.count(SentimentResult.id),
            func.sum(SentimentResult.p_negative),
            func.count(SentimentResult.p_negative),
        )
        .join(SentimentResult, SentimentResult.mention_id == Mention.id)
        .where(Mention.author_id.in_(author_ids), SentimentResult.label.is_not(None), is_latest)
        .group_by(day, SentimentResult.label)
        .order_by(day)
    )
    out = []
    for d, label, n, p_sum, p_n in session.execute(stmt):
        when = d if isinstance(d, date) else datetime.strptime(str(d), "%Y-%m-%d").date()
        out.append((when, str(label), int(n), float(p_sum) if p_sum is not None else None, p_n))
    return out


def tasks_of_customer(
    session: Session, customer_id: int, author_ids: Sequence[int], limit: int
) -> list[ResponseTask]:
    """The customer's tasks (by customer or by one of its authors), newest first."""
    cond = ResponseTask.customer_id == customer_id
    if author_ids:
        cond = or_(cond, ResponseTask.author_id.in_(author_ids))
    stmt = (
        select(ResponseTask)
        .where(cond)
        .order_by(ResponseTask.created_at.desc(), ResponseTask.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def replies_of_tasks(session: Session, task_ids: Sequence[int]) -> list[Reply]:
    """Replies written in these tasks, newest first."""
    if not task_ids:
        return []
    stmt = (
        select(Reply)
        .where(Reply.task_id.in_(task_ids))
        .order_by(Reply.created_at.desc(), Reply.id.desc())
    )
    return list(session.scalars(stmt))


def compensations_of_tasks(session: Session, task_ids: Sequence[int]) -> list[Compensation]:
    """Compensations given in these tasks, newest first."""
    if not task_ids:
        return []
    stmt = (
        select(Compensation)
        .where(Compensation.task_id.in_(task_ids))
        .order_by(Compensation.created_at.desc(), Compensation.id.desc())
    )
    return list(session.scalars(stmt))
