"""Customers: CRM upserts, identity resolution, links, link suggestions, merges, the customer view.

Every change here is audited in `customer_events` and, for links and merges, published with
`engagement.webhooks.outbox.emit` in the caller's transaction. Nothing commits.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from collectors.models import Author
from collectors.schemas import AuthorRead, MentionRead
from core.errors import ConflictError, InvalidError, NotFoundError
from core.timeutil import utcnow
from engagement.customers import matching
from engagement.customers import repository as repo
from engagement.customers.schemas import (
    CRM_ID_MAX,
    CustomerCompensationRead,
    CustomerEventRead,
    CustomerMentionRead,
    CustomerRead,
    CustomerReplyRead,
    CustomerTaskRead,
    CustomerUpsert,
    CustomerView,
    IdentityDeclared,
    IdentityRead,
    MergeResult,
    ResolveReport,
    SentimentDay,
    SuggestionRead,
    UpsertResult,
)
from engagement.models import Customer, CustomerEvent, CustomerIdentity, LinkSuggestion
from engagement.webhooks.outbox import emit
from sentiment import repository as sentiment_repo
from sentiment.schemas import SentimentRead

log = logging.getLogger(__name__)

SYSTEM = "system"
FIELDS = ("name", "email", "phone", "tier", "lifetime_value", "consent", "notes")
# Rows an agent created (no CRM declaration behind them): unlinking deletes them. CRM-declared
# rows (crm, exact_id, handle) stay, because the CRM still declares them; they lose their author.
AGENT_METHODS = ("manual", "suggestion")
CONFIDENCE_EXACT_ID = 1.0
CONFIDENCE_HANDLE = 0.95
# Several customers declare the same id/handle: an agent must choose, so these are suggestions.
CONFIDENCE_AMBIGUOUS_ID = 0.9
CONFIDENCE_AMBIGUOUS_HANDLE = 0.85
SUGGESTION_FLOOR = 0.6
MAX_CANDIDATES = 50
MAX_SUGGESTIONS_PER_AUTHOR = 5
RECENT_TEXTS = 20
REASON_MAX = 500
MAX_MERGE_CHAIN = 50


# ---- reads ------------------------------------------------------------------------------------


def _customer(session: Session, customer_id: int) -> Customer:
    customer = repo.get_customer(session, customer_id)
    if customer is None:
        raise NotFoundError(f"customer {customer_id} not found")
    return customer


def get_customer(session: Session, customer_id: int) -> CustomerRead:
    """One customer record."""
    return CustomerRead.model_validate(_customer(session, customer_id))


def list_customers(
    session: Session,
    *,
    q: str | None = None,
    tier: str | None = None,
    include_merged: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[CustomerRead], int]:
    """A page of customers matching a name, e-mail, CRM id or handle, by name."""
    rows, total = repo.search_customers(
        session,
        q=q.strip() if q and q.strip() else None,
        tier=tier,
        include_merged=include_merged,
        limit=limit,
        offset=offset,
    )
    return [CustomerRead.model_validate(c) for c in rows], total


def customer_events(
    session: Session, customer_id: int, *, limit: int = 50, offset: int = 0
) -> tuple[list[CustomerEventRead], int]:
    """A customer's audit trail, newest first."""
    _customer(session, customer_id)
    rows, total = repo.customer_events(session, customer_id, limit=limit, offset=offset)
    return [CustomerEventRead.model_validate(e) for e in rows], total


def customer_view(
    session: Session, customer_id: int, *, mentions_limit: int = 50, tasks_limit: int = 100
) -> CustomerView:
    """A customer with identities, newest mentions, daily sentiment, tasks, replies and
    compensations."""
    customer = _customer(session, customer_id)
    identities = repo.identities_of(session, [customer.id])[customer.id]
    author_ids = sorted({i.author_id for i in identities if i.author_id is not None})
    mentions, mentions_total = repo.mentions_of_authors(session, author_ids, mentions_limit)
    results = sentiment_repo.latest_results(session, [m.id for m in mentions])
    mention_reads = []
    for mention in mentions:
        item = CustomerMentionRead.model_validate(MentionRead.model_validate(mention).model_dump())
        result = results.get(mention.id)
        item.sentiment = SentimentRead.model_validate(result) if result else None
        mention_reads.append(item)
    tasks = repo.tasks_of_customer(session, customer.id, author_ids, tasks_limit)
    task_ids = [t.id for t in tasks]
    return CustomerView(
        customer=CustomerRead.model_validate(customer),
        identities=[IdentityRead.model_validate(i) for i in identities],
        mentions=mention_reads,
        mentions_total=mentions_total,
        sentiment_timeline=_timeline(session, author_ids),
        tasks=[CustomerTaskRead.model_validate(t) for t in tasks],
        replies=[
            CustomerReplyRead.model_validate(r) for r in repo.replies_of_tasks(session, task_ids)
        ],
        compensations=[
            CustomerCompensationRead.model_validate(c)
            for c in repo.compensations_of_tasks(session, task_ids)
        ],
    )


def _timeline(session: Session, author_ids: list[int]) -> list[SentimentDay]:
    days: dict[Any, SentimentDay] = {}
    sums: dict[Any, tuple[float, int]] = defaultdict(lambda: (0.0, 0))
    for day, label, count, p_sum, p_count in repo.sentiment_by_day(session, author_ids):
        entry = days.setdefault(day, SentimentDay(day=day))
        if label in ("negative", "neutral", "positive"):
            setattr(entry, label, getattr(entry, label) + count)
        if p_sum is not None and p_count:
            total, n = sums[day]
            sums[day] = (total + p_sum, n + p_count)
    for day, entry in days.items():
        total, n = sums[day]
        entry.mean_p_negative = round(total / n, 4) if n else None
    return [days[d] for d in sorted(days)]


# ---- CRM upserts ------------------------------------------------------------------------------


def _json(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        if old is None or new is None:
            return old is new
        return Decimal(old) == Decimal(new)
    if isinstance(old, dict) or isinstance(new, dict):
        return dict(old or {}) == dict(new or {})
    return bool(old == new)


def _identity_dict(identity: CustomerIdentity) -> dict[str, Any]:
    return {
        "id": identity.id,
        "platform": identity.platform,
        "platform_user_id": identity.platform_user_id,
        "handle": identity.handle,
    }


def _find_declared(
    rows: Sequence[CustomerIdentity], declared: IdentityDeclared
) -> CustomerIdentity | None:
    platform = declared.platform.value
    for row in rows:
        if row.platform != platform:
            continue
        if declared.platform_user_id:
            if row.platform_user_id == declared.platform_user_id:
                return row
            if row.platform_user_id is not None:
                continue
        if (
            declared.handle
            and row.handle
            and row.handle.lower() == declared.handle.lower()
            and (row.platform_user_id is None or declared.platform_user_id is None)
        ):
            return row
    return None


def _add_declared(
    session: Session,
    customer: Customer,
    existing: list[CustomerIdentity],
    declared: Sequence[IdentityDeclared],
) -> tuple[list[CustomerIdentity], list[CustomerIdentity]]:
    """Add the declared identities the customer lacks; complete a known handle with its id."""
    added: list[CustomerIdentity] = []
    completed: list[CustomerIdentity] = []
    rows = list(existing)
    for item in declared:
        match = _find_declared(rows, item)
        if match is None:
            identity = repo.add_identity(
                session,
                CustomerIdentity(
                    customer_id=customer.id,
                    platform=item.platform.value,
                    platform_user_id=item.platform_user_id,
                    handle=item.handle,
                    author_id=None,
                    method="crm",
                    confidence=1.0,
                    linked_by=None,
                    created_at=utcnow(),
                ),
            )
            rows.append(identity)
            added.append(identity)
        elif (
            item.platform_user_id
            and match.platform_user_id is None
            and match.author_id is None
            and match not in added
        ):
            match.platform_user_id = item.platform_user_id
            completed.append(match)
    return added, completed


def _clean_crm_id(crm_id: str) -> str:
    value = crm_id.strip()
    if not value or len(value) > CRM_ID_MAX:
        raise InvalidError(f"crm_id must be 1 to {CRM_ID_MAX} characters")
    return value


def upsert_customers(
    session: Session, items: Sequence[tuple[str, CustomerUpsert]], actor: str
) -> UpsertResult:
    """Create or update customers by CRM id; a record equal to the stored one is not written.

    Fields absent from a payload keep their value. Declared identities are added when missing
    and resolved against known authors at once; identities the CRM no longer declares are kept
    (dropping a link silently would lose an agent's work; unlink is an explicit, audited act).
    """
    cleaned = [(_clean_crm_id(crm_id), data) for crm_id, data in items]
    seen: set[str] = set()
    for crm_id, _ in cleaned:
        if crm_id in seen:
            raise InvalidError(f"crm_id {crm_id!r} appears twice in one batch")
        seen.add(crm_id)
    existing = repo.customers_by_crm_ids(session, [c for c, _ in cleaned])
    identities = repo.identities_of(session, [c.id for c in existing.values()])
    result = UpsertResult()
    new_identities: list[CustomerIdentity] = []
    for crm_id, data in cleaned:
        customer = existing.get(crm_id)
        if customer is None:
            customer, added = _create(session, crm_id, data, actor)
            result.created += 1
        else:
            status, added = _update(session, customer, identities[customer.id], data, actor)
            if status == "updated":
                result.updated += 1
            else:
                result.unchanged += 1
        new_identities.extend(added)
        result.customer_ids.append(customer.id)
    _resolve_declared(session, new_identities)
    return result


def upsert_customer(
    session: Session, crm_id: str, data: CustomerUpsert, actor: str
) -> tuple[CustomerRead, str]:
    """Create or update one customer by CRM id; also says whether it was created, updated or
    unchanged."""
    result = upsert_customers(session, [(crm_id, data)], actor)
    status = "created" if result.created else "updated" if result.updated else "unchanged"
    return CustomerRead.model_validate(_customer(session, result.customer_ids[0])), status


def _create(
    session: Session, crm_id: str, data: CustomerUpsert, actor: str
) -> tuple[Customer, list[CustomerIdentity]]:
    now = utcnow()
    values = {f: getattr(data, f) for f in FIELDS}
    customer = repo.add_customer(
        session, Customer(crm_id=crm_id, created_at=now, updated_at=now, **values)
    )
    added, _ = _add_declared(session, customer, [], data.identities)
    event: dict[str, Any] = {
        "fields": {f: _json(v) for f, v in values.items() if v not in (None, {})},
    }
    if added:
        event["identities_added"] = [_identity_dict(i) for i in added]
    repo.add_event(
        session, CustomerEvent(customer_id=customer.id, actor=actor, type="created", data=event)
    )
    return customer, added


def _update(
    session: Session,
    customer: Customer,
    identities: list[CustomerIdentity],
    data: CustomerUpsert,
    actor: str,
) -> tuple[str, list[CustomerIdentity]]:
    changes: dict[str, list[Any]] = {}
    for field in FIELDS:
        if field not in data.model_fields_set:
            continue
        old, new = getattr(customer, field), getattr(data, field)
        if not _same(old, new):
            changes[field] = [_json(old), _json(new)]
            setattr(customer, field, new)
    added: list[CustomerIdentity] = []
    completed: list[CustomerIdentity] = []
    # A merged record's identities live on the surviving customer (unmerge brings them back);
    # re-declaring them here would create duplicates.
    if customer.merged_into_id is None and "identities" in data.model_fields_set:
        added, completed = _add_declared(session, customer, identities, data.identities)
    if not (changes or added or completed):
        return "unchanged", []
    customer.updated_at = utcnow()
    event: dict[str, Any] = {"changes": changes}
    if added:
        event["identities_added"] = [_identity_dict(i) for i in added]
    if completed:
        event["identities_completed"] = [_identity_dict(i) for i in completed]
    repo.add_event(
        session, CustomerEvent(customer_id=customer.id, actor=actor, type="updated", data=event)
    )
    return "updated", added + completed


def _resolve_declared(session: Session, identities: list[CustomerIdentity]) -> None:
    """Link newly declared identities to authors already seen (exact id first, then handle)."""
    author_ids: set[int] = set()
    for identity in identities:
        if identity.author_id is not None:
            continue
        author = None
        if identity.platform_user_id:
            author = repo.author_by_user_id(session, identity.platform, identity.platform_user_id)
        if author is None and identity.handle:
            for candidate in repo.authors_by_handle(session, identity.platform, identity.handle):
                if _ids_conflict(identity.platform_user_id, candidate.platform_user_id):
                    continue
                author = candidate
                break
        if author is not None:
            author_ids.add(author.id)
    if author_ids:
        resolve_authors(session, sorted(author_ids), suggest=False)


def _ids_conflict(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a != b


# ---- identity resolution ----------------------------------------------------------------------


def resolve_authors(
    session: Session, author_ids: Sequence[int], *, suggest: bool = True
) -> ResolveReport:
    """Link each unlinked author to a customer by a CRM-declared platform user id, else by
    handle; otherwise store fuzzy suggestions for an agent (never linked automatically)."""
    ids = sorted(set(author_ids))
    report = ResolveReport(examined=len(ids))
    if not ids:
        return report
    linked = repo.linked_author_ids(session, ids)
    report.already_linked = len(linked)
    authors = [a for a in repo.authors_by_ids(session, ids) if a.id not in linked]
    if not authors or not repo.any_customers(session):
        return report
    rejected = repo.rejected_pairs(session, [a.id for a in authors])
    by_id, by_handle = _declared_for(session, authors)
    used: set[int] = set()
    for author in authors:
        if _resolve_exact(session, author, by_id, by_handle, rejected, used, report):
            continue
        if suggest:
            _suggest(session, author, rejected, report)
    return report


Declared = dict[tuple[str, str], list[CustomerIdentity]]


def _declared_for(session: Session, authors: list[Author]) -> tuple[Declared, Declared]:
    """Unresolved declared identities naming these authors' ids or handles, in two batches per
    platform."""
    uids: dict[str, set[str]] = defaultdict(set)
    handles: dict[str, set[str]] = defaultdict(set)
    for author in authors:
        if author.platform_user_id:
            uids[author.platform].add(author.platform_user_id)
        if author.handle:
            handles[author.platform].add(author.handle.lower())
    by_id: Declared = defaultdict(list)
    by_handle: Declared = defaultdict(list)
    for platform, values in uids.items():
        for identity in repo.unresolved_by_user_ids(session, platform, sorted(values)):
            by_id[(platform, identity.platform_user_id or "")].append(identity)
    for platform, values in handles.items():
        for identity in repo.unresolved_by_handles(session, platform, sorted(values)):
            by_handle[(platform, (identity.handle or "").lower())].append(identity)
    return by_id, by_handle


def _resolve_exact(
    session: Session,
    author: Author,
    by_id: Declared,
    by_handle: Declared,
    rejected: set[tuple[int, int]],
    used: set[int],
    report: ResolveReport,
) -> bool:
    """Link by id, then by handle; True when the author was linked or left to an agent."""
    steps: list[tuple[str, list[CustomerIdentity], float, float, str]] = []
    if author.platform_user_id:
        steps.append(
            (
                "exact_id",
                by_id.get((author.platform, author.platform_user_id), []),
                CONFIDENCE_EXACT_ID,
                CONFIDENCE_AMBIGUOUS_ID,
                f"platform user id {author.platform_user_id}",
            )
        )
    if author.handle:
        steps.append(
            (
                "handle",
                [
                    i
                    for i in by_handle.get((author.platform, author.handle.lower()), [])
                    # Handles change hands; an id that disagrees means another person.
                    if not _ids_conflict(i.platform_user_id, author.platform_user_id)
                ],
                CONFIDENCE_HANDLE,
                CONFIDENCE_AMBIGUOUS_HANDLE,
                f"handle @{author.handle}",
            )
        )
    for method, found, confidence, ambiguous_confidence, what in steps:
        candidates = [
            i for i in found if i.id not in used and (author.id, i.customer_id) not in rejected
        ]
        customers = sorted({i.customer_id for i in candidates})
        if len(customers) == 1:
            identity = candidates[0]
            used.add(identity.id)
            _attach(
                session,
                _customer(session, identity.customer_id),
                author,
                identity,
                method=method,
                confidence=confidence,
                actor=SYSTEM,
            )
            report.linked_author_ids.append(author.id)
            if method == "exact_id":
                report.linked_exact_id += 1
            else:
                report.linked_handle += 1
            return True
        if len(customers) > 1:
            reason = (
                f"{what} on {author.platform} is declared by the CRM for {len(customers)} customers"
            )
            _store_suggestions(
                session,
                author.id,
                [matching.Match(c, ambiguous_confidence, reason) for c in customers],
                report,
            )
            log.info(
                "author %s: %s declared for customers %s; left to an agent",
                author.id,
                what,
                customers,
            )
            report.ambiguous += 1
            return True
    return False


def _suggest(
    session: Session, author: Author, rejected: set[tuple[int, int]], report: ResolveReport
) -> None:
    already, pending = repo.suggested_customer_ids(session, author.id)
    if pending:
        # An agent already has a decision to make about this author; don't redo it per post.
        return
    profile = matching.profile_from(
        author.handle, author.display_name, repo.recent_texts(session, author.id, RECENT_TEXTS)
    )
    keys = matching.prefilter_keys(profile)
    if keys.empty():
        return
    candidates = repo.candidate_customers(
        session,
        full_name=keys.full_name,
        name_prefixes=keys.name_prefixes,
        email_prefixes=keys.email_prefixes,
        emails=keys.emails,
        phone_suffixes=keys.phone_suffixes,
        limit=MAX_CANDIDATES,
    )
    report.candidates_compared += len(candidates)
    matches = []
    for customer in candidates:
        if customer.id in already or (author.id, customer.id) in rejected:
            continue
        match = matching.score(
            profile,
            matching.Candidate(customer.id, customer.name, customer.email, customer.phone),
        )
        if match is not None and match.confidence >= SUGGESTION_FLOOR:
            matches.append(match)
    matches.sort(key=lambda m: (-m.confidence, m.customer_id))
    _store_suggestions(session, author.id, matches[:MAX_SUGGESTIONS_PER_AUTHOR], report)


def _store_suggestions(
    session: Session, author_id: int, matches: list[matching.Match], report: ResolveReport
) -> None:
    if not matches:
        return
    already, _ = repo.suggested_customer_ids(session, author_id)
    now = utcnow()
    rows = [
        {
            "author_id": author_id,
            "customer_id": m.customer_id,
            "confidence": m.confidence,
            "reason": m.reason[:REASON_MAX],
            "status": "pending",
            "created_at": now,
        }
        for m in matches
        if m.customer_id not in already
    ]
    repo.add_suggestions(session, rows)
    report.suggestions_created += len(rows)


# ---- links ------------------------------------------------------------------------------------


def _attach(
    session: Session,
    customer: Customer,
    author: Author,
    identity: CustomerIdentity | None,
    *,
    method: str,
    confidence: float,
    actor: str,
    extra: dict[str, Any] | None = None,
) -> CustomerIdentity:
    """Link an author through a declared identity (or a new row), point the author's open
    tasks at the customer, audit it and publish customer.linked."""
    filled = False
    if identity is None:
        identity = repo.add_identity(
            session,
            CustomerIdentity(
                customer_id=customer.id,
                platform=author.platform,
                platform_user_id=author.platform_user_id,
                handle=author.handle,
                author_id=author.id,
                method=method,
                confidence=confidence,
                linked_by=actor,
                created_at=utcnow(),
            ),
        )
    else:
        filled = identity.platform_user_id is None and author.platform_user_id is not None
        if filled:
            identity.platform_user_id = author.platform_user_id
        identity.author_id = author.id
        identity.method = method
        identity.confidence = confidence
        identity.linked_by = actor
        session.flush()
    task_ids = repo.open_task_ids_of_author(session, author.id, other_than=customer.id)
    repo.set_tasks_customer(session, task_ids, customer.id)
    decided = repo.suggestion_for(session, author.id, customer.id)
    if decided is not None and decided.status != "accepted":
        decided.status = "accepted"
        decided.decided_by = actor
        decided.decided_at = utcnow()
    data: dict[str, Any] = {
        "identity_id": identity.id,
        "author_id": author.id,
        "platform": author.platform,
        "platform_user_id": author.platform_user_id,
        "handle": author.handle,
        "method": method,
        "confidence": confidence,
        "task_ids": task_ids,
    }
    if filled:
        data["filled_platform_user_id"] = author.platform_user_id
    data.update(extra or {})
    repo.add_event(
        session, CustomerEvent(customer_id=customer.id, actor=actor, type="linked", data=data)
    )
    emit(
        session,
        "customer.linked",
        {
            "customer_id": customer.id,
            "crm_id": customer.crm_id,
            "identity_id": identity.id,
            "author_id": author.id,
            "platform": author.platform,
            "platform_user_id": author.platform_user_id,
            "handle": author.handle,
            "method": method,
            "confidence": confidence,
            "actor": actor,
        },
    )
    return identity


def _declared_match(
    session: Session, customer: Customer, author: Author
) -> tuple[CustomerIdentity, str] | None:
    """The customer's unresolved CRM-declared identity naming this author, and how it matches."""
    for identity in repo.identities_of(session, [customer.id])[customer.id]:
        if identity.author_id is not None or identity.platform != author.platform:
            continue
        if identity.platform_user_id and identity.platform_user_id == author.platform_user_id:
            return identity, "exact_id"
        if (
            identity.handle
            and author.handle
            and identity.handle.lower() == author.handle.lower()
            and not _ids_conflict(identity.platform_user_id, author.platform_user_id)
        ):
            return identity, "handle"
    return None


def link(
    session: Session,
    author_id: int,
    customer_id: int,
    actor: str,
    method: str = "manual",
    *,
    confidence: float = 1.0,
    extra: dict[str, Any] | None = None,
) -> IdentityRead:
    """Link an author to a customer by hand (idempotent for the same customer).

    When the customer's CRM record declares this author's id or handle, that identity row is
    linked and keeps a CRM method (exact_id/handle; the agent shows in linked_by and the event),
    so an unlink later resets it instead of deleting what the CRM declared.
    """
    author = repo.get_author(session, author_id)
    if author is None:
        raise NotFoundError(f"author {author_id} not found")
    customer = _customer(session, customer_id)
    if customer.merged_into_id is not None:
        raise ConflictError(
            f"customer {customer.id} was merged into customer {customer.merged_into_id}; "
            "link to that one"
        )
    current = repo.identity_of_author(session, author.id)
    if current is not None:
        if current.customer_id == customer.id:
            return IdentityRead.model_validate(current)
        raise ConflictError(
            f"author {author.id} is already linked to customer {current.customer_id}; "
            "unlink it first"
        )
    declared = _declared_match(session, customer, author)
    identity, row_method = declared if declared else (None, method)
    identity = _attach(
        session,
        customer,
        author,
        identity,
        method=row_method,
        confidence=confidence,
        actor=actor,
        extra={"decision": method, **(extra or {})},
    )
    return IdentityRead.model_validate(identity)


def unlink(
    session: Session, identity_id: int, actor: str, *, customer_id: int | None = None
) -> CustomerEventRead:
    """Detach an identity's author from the customer; the pair is remembered as rejected so
    automatic resolution does not link it again (a manual link still can)."""
    identity = repo.get_identity(session, identity_id)
    if identity is None or (customer_id is not None and identity.customer_id != customer_id):
        raise NotFoundError(f"identity {identity_id} not found")
    if identity.author_id is None:
        raise ConflictError(f"identity {identity_id} is not linked to an author")
    author = repo.get_author(session, identity.author_id)
    customer = _customer(session, identity.customer_id)
    task_ids = repo.open_task_ids_of_author(session, identity.author_id, customer_id=customer.id)
    repo.set_tasks_customer(session, task_ids, None)
    data: dict[str, Any] = {
        "identity_id": identity.id,
        "author_id": identity.author_id,
        "platform": identity.platform,
        "platform_user_id": identity.platform_user_id,
        "handle": identity.handle,
        "method": identity.method,
        "confidence": identity.confidence,
        "linked_by": identity.linked_by,
        "task_ids": task_ids,
        "identity_deleted": identity.method in AGENT_METHODS,
    }
    author_id = identity.author_id
    if identity.method in AGENT_METHODS:
        repo.delete_identity(session, identity)
    else:
        if (
            identity.method == "handle"
            and author is not None
            and identity.platform_user_id == author.platform_user_id
        ):
            # The id came from the author when the handle matched: it was never the CRM's.
            identity.platform_user_id = None
        identity.author_id = None
        identity.method = "crm"
        identity.confidence = 1.0
        identity.linked_by = None
        session.flush()
    _remember_rejection(session, author_id, customer.id, actor, f"unlinked by {actor}")
    event = repo.add_event(
        session, CustomerEvent(customer_id=customer.id, actor=actor, type="unlinked", data=data)
    )
    emit(
        session,
        "customer.unlinked",
        {
            "customer_id": customer.id,
            "crm_id": customer.crm_id,
            "identity_id": data["identity_id"],
            "author_id": author_id,
            "platform": data["platform"],
            "platform_user_id": data["platform_user_id"],
            "handle": data["handle"],
            "actor": actor,
        },
    )
    return CustomerEventRead.model_validate(event)


def _remember_rejection(
    session: Session, author_id: int, customer_id: int, actor: str, reason: str
) -> None:
    now = utcnow()
    suggestion = repo.suggestion_for(session, author_id, customer_id)
    if suggestion is None:
        repo.add_suggestion(
            session,
            LinkSuggestion(
                author_id=author_id,
                customer_id=customer_id,
                confidence=0.0,
                reason=reason[:REASON_MAX],
                status="rejected",
                decided_by=actor,
                decided_at=now,
                created_at=now,
            ),
        )
    else:
        suggestion.status = "rejected"
        suggestion.decided_by = actor
        suggestion.decided_at = now


# ---- suggestions ------------------------------------------------------------------------------


def _suggestion_read(s: LinkSuggestion, author: Author, customer: Customer) -> SuggestionRead:
    read = SuggestionRead.model_validate(s)
    read.author = AuthorRead.model_validate(author)
    read.customer_name = customer.name
    read.customer_crm_id = customer.crm_id
    return read


def list_suggestions(
    session: Session, *, status: str | None = "pending", limit: int = 50, offset: int = 0
) -> tuple[list[SuggestionRead], int]:
    """A page of link suggestions, most confident first."""
    rows, total = repo.list_suggestions(session, status=status, limit=limit, offset=offset)
    return [_suggestion_read(s, a, c) for s, a, c in rows], total


def _pending(session: Session, suggestion_id: int) -> LinkSuggestion:
    suggestion = repo.get_suggestion(session, suggestion_id)
    if suggestion is None:
        raise NotFoundError(f"link suggestion {suggestion_id} not found")
    if suggestion.status != "pending":
        raise ConflictError(f"link suggestion {suggestion_id} is already {suggestion.status}")
    return suggestion


def _surviving(session: Session, customer: Customer) -> Customer:
    for _ in range(MAX_MERGE_CHAIN):
        if customer.merged_into_id is None:
            return customer
        customer = _customer(session, customer.merged_into_id)
    raise ConflictError(f"customer {customer.id}: merge chain too long")


def accept_suggestion(session: Session, suggestion_id: int, actor: str) -> IdentityRead:
    """Confirm a suggestion: link its author to the customer (or to the customer it was merged
    into since)."""
    suggestion = _pending(session, suggestion_id)
    customer = _surviving(session, _customer(session, suggestion.customer_id))
    identity = link(
        session,
        suggestion.author_id,
        customer.id,
        actor,
        "suggestion",
        confidence=suggestion.confidence,
        extra={"suggestion_id": suggestion.id, "reason": suggestion.reason},
    )
    suggestion.status = "accepted"
    suggestion.decided_by = actor
    suggestion.decided_at = utcnow()
    return identity


def reject_suggestion(session: Session, suggestion_id: int, actor: str) -> SuggestionRead:
    """Say a suggestion is wrong: it is never suggested (or auto-linked) again."""
    suggestion = _pending(session, suggestion_id)
    suggestion.status = "rejected"
    suggestion.decided_by = actor
    suggestion.decided_at = utcnow()
    repo.add_event(
        session,
        CustomerEvent(
            customer_id=suggestion.customer_id,
            actor=actor,
            type="suggestion_rejected",
            data={
                "suggestion_id": suggestion.id,
                "author_id": suggestion.author_id,
                "confidence": suggestion.confidence,
                "reason": suggestion.reason,
            },
        ),
    )
    author = repo.get_author(session, suggestion.author_id)
    customer = _customer(session, suggestion.customer_id)
    if author is None:
        raise NotFoundError(f"author {suggestion.author_id} not found")
    return _suggestion_read(suggestion, author, customer)


# ---- merges -----------------------------------------------------------------------------------


def merge(session: Session, source_id: int, target_id: int, actor: str) -> MergeResult:
    """Merge a duplicate customer into another: its identities and tasks move, the record stays
    (merged_into_id) so that unmerge can move exactly those back."""
    if source_id == target_id:
        raise ConflictError("a customer cannot be merged into itself")
    source = _customer(session, source_id)
    target = _customer(session, target_id)
    if source.merged_into_id is not None:
        raise ConflictError(
            f"customer {source.id} is already merged into customer {source.merged_into_id}"
        )
    if target.merged_into_id is not None:
        raise ConflictError(
            f"customer {target.id} was merged into customer {target.merged_into_id}; "
            "merge into that one"
        )
    identity_ids = [i.id for i in repo.identities_of(session, [source.id])[source.id]]
    task_ids = repo.task_ids_of_customer(session, source.id)
    repo.move_identities(session, identity_ids, target.id)
    repo.set_tasks_customer(session, task_ids, target.id)
    source.merged_into_id = target.id
    source.updated_at = utcnow()
    data = {
        "source_customer_id": source.id,
        "target_customer_id": target.id,
        "identity_ids": identity_ids,
        "task_ids": task_ids,
    }
    event = repo.add_event(
        session, CustomerEvent(customer_id=source.id, actor=actor, type="merged", data=data)
    )
    repo.add_event(
        session, CustomerEvent(customer_id=target.id, actor=actor, type="merged", data=data)
    )
    _emit_merge(session, "merged", source, target, data, actor)
    return MergeResult(event_id=event.id, **data)


def unmerge(session: Session, source_id: int, actor: str) -> MergeResult:
    """Undo a merge from its audit record: the identities and tasks that moved go back (those
    that still sit with the surviving customer), with tasks opened since for those authors."""
    source = _customer(session, source_id)
    if source.merged_into_id is None:
        raise ConflictError(f"customer {source.id} is not merged")
    merge_event = next(
        (
            e
            for e in repo.events_of_type(session, source.id, "merged")
            if e.data.get("source_customer_id") == source.id
        ),
        None,
    )
    if merge_event is None:
        raise ConflictError(f"customer {source.id} has no merge record to undo")
    target_id = source.merged_into_id
    # Where the moved rows may sit now: the target, or whatever the target was merged into.
    chain = {target_id}
    cursor = _customer(session, target_id)
    for _ in range(MAX_MERGE_CHAIN):
        if cursor.merged_into_id is None:
            break
        chain.add(cursor.merged_into_id)
        cursor = _customer(session, cursor.merged_into_id)
    identities = [
        i
        for i in repo.identities_by_ids(session, merge_event.data.get("identity_ids", []))
        if i.customer_id in chain
    ]
    tasks = [
        t
        for t in repo.tasks_by_ids(session, merge_event.data.get("task_ids", []))
        if t.customer_id in chain
    ]
    identity_ids = [i.id for i in identities]
    task_ids = [t.id for t in tasks]
    repo.move_identities(session, identity_ids, source.id)
    repo.set_tasks_customer(session, task_ids, source.id)
    later = []
    for author_id in sorted({i.author_id for i in identities if i.author_id is not None}):
        for task_id in repo.open_task_ids_of_author(session, author_id):
            if task_id not in task_ids:
                later.append(task_id)
    later = [t.id for t in repo.tasks_by_ids(session, later) if t.customer_id in chain]
    repo.set_tasks_customer(session, later, source.id)
    source.merged_into_id = None
    source.updated_at = utcnow()
    data: dict[str, Any] = {
        "source_customer_id": source.id,
        "target_customer_id": target_id,
        "identity_ids": identity_ids,
        "task_ids": task_ids,
        "merge_event_id": merge_event.id,
    }
    if later:
        data["later_task_ids"] = later
    event = repo.add_event(
        session, CustomerEvent(customer_id=source.id, actor=actor, type="unmerged", data=data)
    )
    repo.add_event(
        session, CustomerEvent(customer_id=target_id, actor=actor, type="unmerged", data=data)
    )
    _emit_merge(session, "unmerged", source, _customer(session, target_id), data, actor)
    return MergeResult(
        source_customer_id=source.id,
        target_customer_id=target_id,
        identity_ids=identity_ids,
        task_ids=task_ids + later,
        event_id=event.id,
    )


def _emit_merge(
    session: Session,
    action: str,
    source: Customer,
    target: Customer,
    data: dict[str, Any],
    actor: str,
) -> None:
    # One webhook type for both directions: receivers read `action` ("merged" | "unmerged").
    emit(
        session,
        "customer.merged",
        {
            **data,
            "action": action,
            "source_crm_id": source.crm_id,
            "target_crm_id": target.crm_id,
            "actor": actor,
        },
    )
