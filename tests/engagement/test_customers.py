from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from collectors import service as collect
from collectors.files import iter_jsonl
from collectors.models import Author
from core.errors import ConflictError, InvalidError, NotFoundError
from engagement import service as engagement
from engagement.customers import csvimport, service
from engagement.customers.schemas import CustomerUpsert
from engagement.models import (
    Compensation,
    Customer,
    CustomerEvent,
    CustomerIdentity,
    LinkSuggestion,
    Reply,
    ResponseTask,
    WebhookEvent,
)
from sentiment import service as scoring
from sentiment.fake import FakeModel
from tests.conftest import mention

DEMO = Path(__file__).resolve().parents[2] / "core" / "demo"
T0 = datetime(2026, 11, 20, 10, 0, 0)
SLA = {1: 30, 2: 60, 3: 240, 4: 1440}


def add_author(session, uid, handle=None, name=None, *, platform="twitter", text="hello", ext=None):
    """Ingest one mention by an author and return the author row."""
    collect.ingest(
        session,
        [
            mention(
                ext or f"{platform}-{uid}-{handle}",
                text,
                platform=platform,
                author={"id": uid, "handle": handle, "name": name},
            )
        ],
    )
    session.expire_all()
    key = uid if uid is not None else f"@{handle.lower()}"
    return session.scalar(
        select(Author).where(Author.platform == platform, Author.author_key == key)
    )


def upsert(session, crm_id, actor="crm", **fields):
    return service.upsert_customer(session, crm_id, CustomerUpsert.model_validate(fields), actor)[0]


def events(session, customer_id, type_=None):
    stmt = select(CustomerEvent).where(CustomerEvent.customer_id == customer_id)
    if type_:
        stmt = stmt.where(CustomerEvent.type == type_)
    return session.scalars(stmt.order_by(CustomerEvent.id)).all()


def webhooks(session, type_):
    stmt = select(WebhookEvent).where(WebhookEvent.type == type_).order_by(WebhookEvent.id)
    return session.scalars(stmt).all()


def identity_of(session, author_id):
    return session.scalar(select(CustomerIdentity).where(CustomerIdentity.author_id == author_id))


def suggestions(session, author_id=None):
    stmt = select(LinkSuggestion).order_by(LinkSuggestion.id)
    if author_id is not None:
        stmt = stmt.where(LinkSuggestion.author_id == author_id)
    return session.scalars(stmt).all()


def open_task(session, author, thread="t"):
    task = ResponseTask(
        thread_key=f"twitter:{thread}",
        author_id=author.id,
        status="new",
        priority=2,
        reason="negative",
        last_mention_at=T0,
        created_at=T0,
        updated_at=T0,
    )
    session.add(task)
    session.flush()
    return task


# ---- upserts and CSV --------------------------------------------------------------------------


def test_demo_csv_imports_cleanly_and_reimport_changes_nothing(session):
    report = csvimport.import_csv(session, DEMO / "customers.csv", "tests")
    assert report.summary() == "33 rows: 33 created, 0 updated, 0 unchanged; 0 errors"
    assert report.warnings == []
    greg = session.scalar(select(Customer).where(Customer.crm_id == "CRM-10031"))
    assert (greg.name, greg.email, greg.phone, greg.tier, greg.lifetime_value) == (
        "Greg Halvorsen",
        "greg.halvorsen@example.org",
        "+1-206-555-0173",
        "plus",
        Decimal("2353.80"),
    )
    kevin = session.scalar(select(Customer).where(Customer.crm_id == "CRM-10002"))
    declared = {
        (i.platform, i.handle, i.method)
        for i in session.scalars(
            select(CustomerIdentity).where(CustomerIdentity.customer_id == kevin.id)
        )
    }
    assert declared == {("twitter", "kliu_dev", "crm"), ("reddit", "kliu_dev", "crm")}
    assert session.scalar(select(func.count(CustomerIdentity.id))) == 19
    stamps = dict(session.execute(select(Customer.id, Customer.updated_at)).all())
    n_events = session.scalar(select(func.count(CustomerEvent.id)))
    assert n_events == 33

    again = csvimport.import_csv(session, DEMO / "customers.csv", "tests")
    assert again.summary() == "33 rows: 0 created, 0 updated, 33 unchanged; 0 errors"
    session.expire_all()
    assert dict(session.execute(select(Customer.id, Customer.updated_at)).all()) == stamps
    assert session.scalar(select(func.count(CustomerEvent.id))) == n_events
    assert session.scalar(select(func.count(CustomerIdentity.id))) == 19


def test_changed_fields_are_updated_and_audited_with_old_and_new(session):
    customer = upsert(session, "C-1", name="Ann Lee", email="Ann@Example.com", lifetime_value="10")
    row = session.get(Customer, customer.id)
    row.updated_at = T0
    session.flush()
    read, status = service.upsert_customer(
        session,
        "C-1",
        CustomerUpsert(name="Ann Lee", email="ann@example.com", lifetime_value=Decimal("12.50")),
        "crm-sync",
    )
    assert status == "updated"
    assert read.updated_at > T0
    (event,) = events(session, customer.id, "updated")
    assert event.actor == "crm-sync"
    assert event.data == {"changes": {"lifetime_value": ["10.00", "12.50"]}}


def test_absent_fields_keep_their_value_and_null_clears(session):
    upsert(session, "C-1", name="Ann", phone="+1 555 0100", tier="VIP", notes="likes cats")
    read = upsert(session, "C-1", notes=None)
    assert (read.name, read.phone, read.tier, read.notes) == ("Ann", "+1 555 0100", "vip", None)
    (event,) = events(session, read.id, "updated")
    assert event.data == {"changes": {"notes": ["likes cats", None]}}


def test_identities_the_crm_drops_are_kept(session):
    customer = upsert(session, "C-1", identities=[{"platform": "twitter", "handle": "ann"}])
    again = upsert(session, "C-1", identities=[])
    assert again.updated_at == customer.updated_at
    handles = session.scalars(
        select(CustomerIdentity.handle).where(CustomerIdentity.customer_id == customer.id)
    ).all()
    assert handles == ["ann"]


def test_known_handle_is_completed_with_the_declared_user_id(session):
    customer = upsert(session, "C-1", identities=[{"platform": "twitter", "handle": "@Ann"}])
    upsert(
        session, "C-1", identities=[{"platform": "twitter", "handle": "ann", "platform_user_id": 5}]
    )
    (identity,) = session.scalars(
        select(CustomerIdentity).where(CustomerIdentity.customer_id == customer.id)
    ).all()
    assert (identity.handle, identity.platform_user_id) == ("Ann", "5")
    (event,) = events(session, customer.id, "updated")
    assert event.data["identities_completed"] == [
        {"id": identity.id, "platform": "twitter", "platform_user_id": "5", "handle": "Ann"}
    ]


def test_batch_rejects_a_crm_id_twice(session):
    with pytest.raises(InvalidError, match="appears twice"):
        service.upsert_customers(
            session, [("C-1", CustomerUpsert()), (" C-1 ", CustomerUpsert())], "crm"
        )


def test_csv_row_errors_name_file_line_and_field(session, tmp_path):
    path = tmp_path / "crm.csv"
    path.write_text(
        "crm_id,name,email,lifetime_value,twitter_handle,favourite_colour,consent_email\n"
        "C-1,Ann Lee,ann@example.com,10.50,annlee,blue,yes\n"
        "C-2,Bob,not-an-email,5,,red,\n"
        ",Nobody,n@example.com,1,,,\n"
        "C-3,Cy,cy@example.com,lots,,,\n"
        '"C-4","Dee\nDoe",dee@example.com,2,,,maybe\n'
        "C-1,Ann again,ann@example.com,1,,,\n"
        "C-5,Eve,eve@example.com,-3,,,\n"
        "\n"
        "C-6,Fay,fay@example.com,,@Fay_x,,no\n",
        encoding="utf-8",
    )
    report = csvimport.import_csv(session, path, "tests")
    assert [str(e) for e in report.errors] == [
        f"{path}:3: email: Value error, not an e-mail address",
        f"{path}:4: crm_id: missing",
        f"{path}:5: lifetime_value: Input should be a valid decimal",
        f"{path}:7: consent_email: expected yes/no, true/false or 1/0",
        f"{path}:8: crm_id: C-1 already on line 2",
        f"{path}:9: lifetime_value: Input should be greater than or equal to 0",
    ]
    assert report.warnings == [f"{path}:1: column 'favourite_colour' ignored (unknown)"]
    assert report.summary() == "8 rows: 2 created, 0 updated, 0 unchanged; 6 errors"
    ann = session.scalar(select(Customer).where(Customer.crm_id == "C-1"))
    assert (ann.lifetime_value, ann.consent) == (Decimal("10.50"), {"email": True})
    fay = session.scalar(select(Customer).where(Customer.crm_id == "C-6"))
    assert fay.consent == {"email": False} and fay.lifetime_value is None
    handles = session.scalars(select(CustomerIdentity.handle).order_by(CustomerIdentity.id)).all()
    assert handles == ["annlee", "Fay_x"]


def test_csv_without_crm_id_column_imports_nothing(session, tmp_path):
    path = tmp_path / "crm.csv"
    path.write_text("name,email\nAnn,ann@example.com\n", encoding="utf-8")
    report = csvimport.import_csv(session, path, "tests")
    assert [str(e) for e in report.errors] == [
        f"{path}:1: (header): CSV header must name a crm_id column"
    ]
    assert session.scalar(select(func.count(Customer.id))) == 0


# ---- exact links ------------------------------------------------------------------------------


def test_declared_user_id_links_a_known_author_at_upsert(session):
    author = add_author(session, "77", "ann_l", "Ann")
    customer = upsert(
        session, "C-1", name="Ann Lee", identities=[{"platform": "twitter", "platform_user_id": 77}]
    )
    identity = identity_of(session, author.id)
    assert (identity.customer_id, identity.method, identity.confidence, identity.linked_by) == (
        customer.id,
        "exact_id",
        1.0,
        "system",
    )
    (linked,) = events(session, customer.id, "linked")
    assert linked.data["author_id"] == author.id and linked.data["method"] == "exact_id"
    (hook,) = webhooks(session, "customer.linked")
    assert hook.payload["crm_id"] == "C-1" and hook.payload["author_id"] == author.id


def test_resolve_links_by_exact_platform_user_id(session):
    customer = upsert(
        session, "C-1", identities=[{"platform": "twitter", "platform_user_id": "77"}]
    )
    author = add_author(session, "77", "someone")
    report = service.resolve_authors(session, [author.id])
    assert (report.examined, report.linked_exact_id, report.linked_handle) == (1, 1, 0)
    assert report.linked_author_ids == [author.id]
    assert identity_of(session, author.id).customer_id == customer.id
    again = service.resolve_authors(session, [author.id])
    assert (again.already_linked, again.linked_exact_id) == (1, 0)


def test_handle_link_ignores_case_and_fills_the_user_id(session):
    customer = upsert(session, "C-1", identities=[{"platform": "twitter", "handle": "@GregH"}])
    author = add_author(session, "55", "gregh")
    report = service.resolve_authors(session, [author.id])
    assert report.linked_handle == 1
    identity = identity_of(session, author.id)
    assert (identity.customer_id, identity.method, identity.confidence) == (
        customer.id,
        "handle",
        0.95,
    )
    assert identity.platform_user_id == "55"
    (linked,) = events(session, customer.id, "linked")
    assert linked.data["filled_platform_user_id"] == "55"


def test_handle_change_on_the_platform_still_resolves_by_id(session):
    customer = upsert(
        session,
        "C-1",
        identities=[{"platform": "twitter", "platform_user_id": "77", "handle": "old_name"}],
    )
    squatter = add_author(session, "88", "old_name")
    renamed = add_author(session, "77", "new_name")
    report = service.resolve_authors(session, [squatter.id, renamed.id])
    assert (report.linked_exact_id, report.linked_handle) == (1, 0)
    assert identity_of(session, renamed.id).customer_id == customer.id
    assert identity_of(session, squatter.id) is None


def test_a_linked_author_who_renames_stays_linked(session):
    upsert(session, "C-1", identities=[{"platform": "twitter", "handle": "greg"}])
    author = add_author(session, "55", "greg", ext="1")
    service.resolve_authors(session, [author.id])
    renamed = add_author(session, "55", "greg_h", ext="2")
    assert renamed.id == author.id and renamed.handle == "greg_h"
    report = service.resolve_authors(session, [renamed.id])
    assert report.already_linked == 1
    assert identity_of(session, author.id).handle == "greg"


def test_two_customers_declaring_one_handle_become_suggestions(session):
    a = upsert(session, "C-1", identities=[{"platform": "twitter", "handle": "shared"}])
    b = upsert(session, "C-2", identities=[{"platform": "twitter", "handle": "shared"}])
    author = add_author(session, "9", "shared")
    report = service.resolve_authors(session, [author.id])
    assert (report.linked_handle, report.ambiguous, report.suggestions_created) == (0, 1, 2)
    assert identity_of(session, author.id) is None
    assert [(s.customer_id, s.confidence, s.status) for s in suggestions(session)] == [
        (a.id, 0.85, "pending"),
        (b.id, 0.85, "pending"),
    ]
    assert suggestions(session)[0].reason == (
        "handle @shared on twitter is declared by the CRM for 2 customers"
    )


def test_tasks_opened_after_resolution_carry_the_customer(session):
    customer = upsert(session, "C-1", identities=[{"platform": "twitter", "handle": "ann"}])
    collect.ingest(session, [mention("1", "terrible service", author={"id": "9", "handle": "ann"})])
    scoring.score_all_pending(session, FakeModel())
    author = session.scalar(select(Author))
    service.resolve_authors(session, [author.id])
    engagement.engage_pending(session, sla_minutes=SLA)
    task = session.scalar(select(ResponseTask))
    assert task.customer_id == customer.id


def test_demo_mentions_link_to_demo_customers_by_handle(session):
    csvimport.import_csv(session, DEMO / "customers.csv", "tests")
    items = [p.mention for p in iter_jsonl(DEMO / "mentions.jsonl") if not isinstance(p, list)]
    collect.ingest(session, items)
    author_ids = session.scalars(select(Author.id)).all()
    report = service.resolve_authors(session, author_ids)
    assert (report.linked_exact_id, report.linked_handle) == (0, 13)
    linked = session.execute(
        select(Customer.crm_id, CustomerIdentity.platform, CustomerIdentity.platform_user_id)
        .join(Customer, Customer.id == CustomerIdentity.customer_id)
        .where(CustomerIdentity.author_id.is_not(None))
    ).all()
    assert len(linked) == 13
    assert ("CRM-10031", "twitter", "736241303") in linked
    assert ("CRM-10002", "reddit", "t2_qfh5at2a") in linked
    # Three CRM records lack the handle their customer posts under (on purpose, see
    # core/demo/generate.py): those become suggestions; nobody else resembles a customer.
    assert report.suggestions_created == 3
    pending = session.execute(
        select(Customer.crm_id).join(LinkSuggestion, LinkSuggestion.customer_id == Customer.id)
    ).scalars()
    assert sorted(pending) == ["CRM-10008", "CRM-10018", "CRM-10019"]


# ---- fuzzy suggestions ------------------------------------------------------------------------


def test_fuzzy_match_is_suggested_with_a_reason_and_not_linked(session):
    customer = upsert(session, "CRM-10031", name="Greg Halvorsen", email="greg.h@example.org")
    upsert(session, "CRM-2", name="Ann Lee")
    author = add_author(session, "736", "greghalvorsen", "Greg Halvorsen")
    task = open_task(session, author)
    report = service.resolve_authors(session, [author.id])
    assert (report.linked_exact_id, report.linked_handle, report.suggestions_created) == (0, 0, 1)
    (s,) = suggestions(session)
    assert (s.author_id, s.customer_id, s.status) == (author.id, customer.id, "pending")
    assert s.confidence == 0.97
    assert s.reason == (
        "display name 'Greg Halvorsen' ≈ customer name 'Greg Halvorsen' (1.00); "
        "handle @greghalvorsen ≈ customer name 'Greg Halvorsen' (1.00)"
    )
    assert identity_of(session, author.id) is None
    assert session.get(ResponseTask, task.id).customer_id is None
    assert webhooks(session, "customer.linked") == []


def test_even_a_near_certain_fuzzy_match_never_links_itself(session):
    upsert(
        session, "C-1", name="Lena Ibarra", email="lena.ibarra@example.com", phone="+1-312-555-0131"
    )
    author = add_author(
        session,
        "1",
        "lenaibarra",
        "Lena Ibarra",
        text="Call me at (312) 555-0131 or write to Lena.Ibarra@example.com, this is terrible",
    )
    service.resolve_authors(session, [author.id])
    (s,) = suggestions(session)
    assert s.confidence == 0.99
    assert "their posts contain the customer's e-mail 'lena.ibarra@example.com'" in s.reason
    assert "their posts contain the customer's phone number '+1-312-555-0131'" in s.reason
    assert identity_of(session, author.id) is None


def test_weak_matches_stay_below_the_floor(session):
    upsert(session, "C-1", name="Emily Carter")
    author = add_author(session, "1", "em_c", "Emily Cole")
    report = service.resolve_authors(session, [author.id])
    assert report.candidates_compared == 1
    assert report.suggestions_created == 0


def test_an_author_with_a_pending_suggestion_is_not_rescored(session):
    upsert(session, "C-1", name="Greg Halvorsen")
    author = add_author(session, "736", "greghalvorsen", "Greg Halvorsen")
    service.resolve_authors(session, [author.id])
    upsert(session, "C-2", name="Greg Halvorson")
    report = service.resolve_authors(session, [author.id])
    assert (report.candidates_compared, report.suggestions_created) == (0, 0)


def test_accepting_a_suggestion_links_and_is_audited(session):
    customer = upsert(session, "C-1", name="Greg Halvorsen")
    author = add_author(session, "736", "greghalvorsen", "Greg Halvorsen")
    task = open_task(session, author)
    service.resolve_authors(session, [author.id])
    (s,) = suggestions(session)
    identity = service.accept_suggestion(session, s.id, "agent-ann")
    assert (identity.customer_id, identity.author_id, identity.method, identity.linked_by) == (
        customer.id,
        author.id,
        "suggestion",
        "agent-ann",
    )
    assert identity.confidence == 0.97
    assert (s.status, s.decided_by) == ("accepted", "agent-ann")
    assert session.get(ResponseTask, task.id).customer_id == customer.id
    (linked,) = events(session, customer.id, "linked")
    assert linked.actor == "agent-ann"
    assert linked.data["suggestion_id"] == s.id and linked.data["task_ids"] == [task.id]
    (hook,) = webhooks(session, "customer.linked")
    assert hook.payload["method"] == "suggestion"
    with pytest.raises(ConflictError, match="already accepted"):
        service.accept_suggestion(session, s.id, "agent-ann")


def test_rejecting_a_suggestion_keeps_it_from_coming_back(session):
    customer = upsert(session, "C-1", name="Greg Halvorsen")
    author = add_author(session, "736", "greghalvorsen", "Greg Halvorsen")
    service.resolve_authors(session, [author.id])
    (s,) = suggestions(session)
    read = service.reject_suggestion(session, s.id, "agent-bo")
    assert (read.status, read.decided_by, read.customer_crm_id) == ("rejected", "agent-bo", "C-1")
    (event,) = events(session, customer.id, "suggestion_rejected")
    assert event.data["author_id"] == author.id
    report = service.resolve_authors(session, [author.id])
    assert report.suggestions_created == 0
    assert len(suggestions(session)) == 1
    with pytest.raises(ConflictError):
        service.reject_suggestion(session, s.id, "agent-bo")
    with pytest.raises(NotFoundError):
        service.reject_suggestion(session, 999_999, "agent-bo")


def test_pending_list_leaves_out_authors_linked_meanwhile(session):
    upsert(session, "C-1", name="Greg Halvorsen")
    other = upsert(session, "C-2", name="Gregory Halvorsen-Smith")
    author = add_author(session, "736", "greghalvorsen", "Greg Halvorsen")
    service.resolve_authors(session, [author.id])
    items, total = service.list_suggestions(session)
    assert total == 1 and items[0].author.handle == "greghalvorsen"
    service.link(session, author.id, other.id, "agent")
    assert service.list_suggestions(session) == ([], 0)


# ---- manual links, unlink ---------------------------------------------------------------------


def test_manual_link_uses_a_matching_declared_identity_and_is_idempotent(session):
    customer = upsert(session, "C-1", identities=[{"platform": "reddit", "handle": "kliu_dev"}])
    author = add_author(session, "t2_x", "kliu_dev", platform="reddit")
    identity = service.link(session, author.id, customer.id, "agent")
    # The CRM declared this row: it keeps a CRM method, so unlink resets rather than deletes it.
    assert (identity.method, identity.linked_by, identity.platform_user_id) == (
        "handle",
        "agent",
        "t2_x",
    )
    assert session.scalar(select(func.count(CustomerIdentity.id))) == 1
    assert service.link(session, author.id, customer.id, "agent").id == identity.id
    (linked,) = events(session, customer.id, "linked")
    assert linked.data["decision"] == "manual"
    service.unlink(session, identity.id, "agent")
    row = session.get(CustomerIdentity, identity.id)
    assert (row.author_id, row.method, row.platform_user_id) == (None, "crm", None)


def test_unlink_is_audited_reversible_and_not_undone_by_resolution(session):
    customer = upsert(session, "C-1", identities=[{"platform": "twitter", "handle": "ann"}])
    author = add_author(session, "9", "ann")
    task = open_task(session, author)
    service.resolve_authors(session, [author.id])
    identity = identity_of(session, author.id)
    assert session.get(ResponseTask, task.id).customer_id == customer.id

    event = service.unlink(session, identity.id, "agent")
    assert event.type == "unlinked"
    assert event.data["task_ids"] == [task.id] and event.data["method"] == "handle"
    session.expire_all()
    row = session.get(CustomerIdentity, identity.id)
    assert (row.author_id, row.method, row.handle, row.platform_user_id) == (
        None,
        "crm",
        "ann",
        None,
    )
    assert session.get(ResponseTask, task.id).customer_id is None
    (hook,) = webhooks(session, "customer.unlinked")
    assert hook.payload["author_id"] == author.id

    report = service.resolve_authors(session, [author.id])
    assert report.linked_handle == 0 and identity_of(session, author.id) is None

    relinked = service.link(session, author.id, customer.id, "agent")
    assert relinked.id == identity.id
    assert session.get(ResponseTask, task.id).customer_id == customer.id
    service.unlink(session, identity.id, "agent", customer_id=customer.id)
    with pytest.raises(ConflictError, match="not linked"):
        service.unlink(session, identity.id, "agent")


def test_unlinking_a_manual_link_deletes_its_row(session):
    customer = upsert(session, "C-1", name="Ann")
    author = add_author(session, "9", "ann")
    identity = service.link(session, author.id, customer.id, "agent")
    service.unlink(session, identity.id, "agent", customer_id=customer.id)
    assert session.get(CustomerIdentity, identity.id) is None
    with pytest.raises(NotFoundError):
        service.unlink(session, identity.id, "agent")


def test_link_conflicts(session):
    a = upsert(session, "C-1", name="Ann")
    b = upsert(session, "C-2", name="Bo")
    author = add_author(session, "9", "ann")
    service.link(session, author.id, a.id, "agent")
    with pytest.raises(ConflictError, match="already linked to customer"):
        service.link(session, author.id, b.id, "agent")
    with pytest.raises(NotFoundError):
        service.link(session, 999_999, a.id, "agent")
    with pytest.raises(NotFoundError):
        service.link(session, author.id, 999_999, "agent")
    with pytest.raises(NotFoundError):
        service.unlink(session, identity_of(session, author.id).id, "agent", customer_id=b.id)


# ---- merges -----------------------------------------------------------------------------------


def test_merge_and_unmerge_round_trip(session):
    source = upsert(
        session,
        "C-1",
        name="Greg H",
        identities=[
            {"platform": "twitter", "handle": "greg"},
            {"platform": "reddit", "handle": "greg_r"},
        ],
    )
    target = upsert(
        session, "C-2", name="Greg Halvorsen", identities=[{"platform": "twitter", "handle": "gh"}]
    )
    author = add_author(session, "1", "greg")
    service.resolve_authors(session, [author.id])
    task = open_task(session, author)
    assert task.customer_id is None
    task.customer_id = source.id
    closed = open_task(session, author, thread="old")
    closed.status, closed.customer_id = "closed", source.id
    session.flush()

    def snapshot():
        session.expire_all()
        ids = session.execute(
            select(CustomerIdentity.id, CustomerIdentity.customer_id).order_by(CustomerIdentity.id)
        ).all()
        tasks = session.execute(
            select(ResponseTask.id, ResponseTask.customer_id).order_by(ResponseTask.id)
        ).all()
        return ids, tasks

    before = snapshot()
    source_identities = [i for i, c in before[0] if c == source.id]
    result = service.merge(session, source.id, target.id, "agent")
    assert (result.identity_ids, result.task_ids) == (source_identities, [task.id, closed.id])
    ids, tasks = snapshot()
    assert {c for _, c in ids} == {target.id}
    assert {c for _, c in tasks} == {target.id}
    assert session.get(Customer, source.id).merged_into_id == target.id
    assert service.resolve_authors(session, [author.id]).already_linked == 1
    (hook,) = webhooks(session, "customer.merged")
    assert hook.payload["action"] == "merged" and hook.payload["task_ids"] == [task.id, closed.id]
    assert [e.type for e in events(session, target.id)][-1] == "merged"

    undone = service.unmerge(session, source.id, "agent")
    assert (undone.identity_ids, undone.task_ids) == (source_identities, [task.id, closed.id])
    assert snapshot() == before
    assert session.get(Customer, source.id).merged_into_id is None
    (event,) = events(session, source.id, "unmerged")
    assert event.data["merge_event_id"] == result.event_id
    assert [h.payload["action"] for h in webhooks(session, "customer.merged")] == [
        "merged",
        "unmerged",
    ]


def test_merge_conflicts(session):
    a = upsert(session, "C-1")
    b = upsert(session, "C-2")
    c = upsert(session, "C-3")
    with pytest.raises(ConflictError, match="into itself"):
        service.merge(session, a.id, a.id, "agent")
    with pytest.raises(ConflictError, match="is not merged"):
        service.unmerge(session, a.id, "agent")
    with pytest.raises(NotFoundError):
        service.merge(session, a.id, 999_999, "agent")
    service.merge(session, a.id, b.id, "agent")
    with pytest.raises(ConflictError, match="already merged"):
        service.merge(session, a.id, c.id, "agent")
    with pytest.raises(ConflictError, match="merge into that one"):
        service.merge(session, c.id, a.id, "agent")
    author = add_author(session, "9", "x")
    with pytest.raises(ConflictError, match="link to that one"):
        service.link(session, author.id, a.id, "agent")


def test_accepting_a_suggestion_for_a_merged_customer_links_the_survivor(session):
    dup = upsert(session, "C-1", name="Greg Halvorsen")
    keep = upsert(session, "C-2", name="Gregory Halvorsen")
    author = add_author(session, "736", "greghalvorsen", "Greg Halvorsen")
    service.resolve_authors(session, [author.id])
    best = max(suggestions(session), key=lambda s: s.confidence)
    assert best.customer_id == dup.id
    service.merge(session, dup.id, keep.id, "agent")
    identity = service.accept_suggestion(session, best.id, "agent")
    assert identity.customer_id == keep.id


# ---- the customer view ------------------------------------------------------------------------


def test_customer_view_gathers_everything_across_platforms(session):
    customer = upsert(
        session,
        "C-1",
        name="Kevin Liu",
        identities=[
            {"platform": "twitter", "handle": "kliu_dev"},
            {"platform": "reddit", "handle": "kliu_dev"},
        ],
    )
    collect.ingest(
        session,
        [
            mention(
                "1",
                "my bill is late again",
                author={"id": "7", "handle": "kliu_dev"},
                created_at=T0,
            ),
            mention(
                "2",
                "I love the new plan",
                author={"id": "7", "handle": "kliu_dev"},
                created_at=T0 + timedelta(hours=2),
            ),
            mention(
                "t3_a",
                "terrible coverage downtown",
                platform="reddit",
                author={"id": "t2_k", "handle": "kliu_dev"},
                created_at=T0 + timedelta(days=1),
            ),
            mention("3", "awful, someone else", author={"id": "8", "handle": "other"}),
        ],
    )
    scoring.score_all_pending(session, FakeModel())
    author_ids = session.scalars(select(Author.id)).all()
    service.resolve_authors(session, author_ids)
    linked = session.scalars(
        select(CustomerIdentity.author_id)
        .where(CustomerIdentity.customer_id == customer.id)
        .order_by(CustomerIdentity.id)
    ).all()
    tasks = [open_task(session, session.get(Author, a), thread=str(a)) for a in linked]
    # The second lacks customer_id (as if opened before the link): found through its author.
    tasks[0].customer_id = customer.id
    session.flush()
    m1 = service.customer_view(session, customer.id).mentions[-1]
    session.add(
        Reply(
            task_id=tasks[0].id,
            mention_id=m1.id,
            platform="twitter",
            body="Sorry Kevin, DM us",
            author="agent-ann",
            status="sent",
            idempotency_key="k1",
            created_at=T0 + timedelta(hours=1),
        )
    )
    session.add(
        Compensation(
            task_id=tasks[0].id,
            kind="voucher",
            amount=Decimal("20.00"),
            currency="USD",
            created_by="agent-ann",
            created_at=T0 + timedelta(hours=1),
        )
    )
    session.flush()

    view = service.customer_view(session, customer.id)
    assert view.customer.crm_id == "C-1"
    assert [(i.platform, i.method, i.author.handle) for i in view.identities] == [
        ("twitter", "handle", "kliu_dev"),
        ("reddit", "handle", "kliu_dev"),
    ]
    assert view.mentions_total == 3
    assert [m.external_id for m in view.mentions] == ["t3_a", "2", "1"]
    assert [m.sentiment.label for m in view.mentions] == ["negative", "positive", "negative"]
    assert [
        (d.day.isoformat(), d.negative, d.neutral, d.positive) for d in view.sentiment_timeline
    ] == [
        ("2026-11-20", 1, 0, 1),
        ("2026-11-21", 1, 0, 0),
    ]
    assert view.sentiment_timeline[0].mean_p_negative == pytest.approx(0.46)
    assert view.sentiment_timeline[1].mean_p_negative == pytest.approx(0.9)
    assert [t.id for t in view.tasks] == [tasks[1].id, tasks[0].id]
    assert [(r.body, r.author) for r in view.replies] == [("Sorry Kevin, DM us", "agent-ann")]
    assert [(c.kind, c.amount) for c in view.compensations] == [("voucher", Decimal("20.00"))]
    assert len(service.customer_view(session, customer.id, mentions_limit=1).mentions) == 1
    with pytest.raises(NotFoundError):
        service.customer_view(session, 999_999)


def test_search_by_name_email_and_handle(session):
    upsert(session, "C-1", name="Greg Halvorsen", email="greg@example.org", tier="plus")
    upsert(
        session, "C-2", name="Ann Lee", identities=[{"platform": "twitter", "handle": "annie_100%"}]
    )
    upsert(session, "C-3", name="Bo", email="bo@example.com")

    def names(**kw):
        return [c.name for c in service.list_customers(session, **kw)[0]]

    assert names(q="halv") == ["Greg Halvorsen"]
    assert names(q="EXAMPLE") == ["Bo", "Greg Halvorsen"]
    assert names(q="@annie_100%") == ["Ann Lee"]
    assert names(q="100%") == ["Ann Lee"]
    assert names(q="C-3") == ["Bo"]
    assert names(tier="PLUS") == ["Greg Halvorsen"]
    assert service.list_customers(session, limit=1, offset=1)[1] == 3


def test_reimporting_a_merged_record_does_not_redeclare_its_identities(session):
    declared = [{"platform": "twitter", "handle": "dup"}]
    source = upsert(session, "C-1", name="Dup", identities=declared)
    target = upsert(session, "C-2", name="Keep")
    service.merge(session, source.id, target.id, "agent")
    again = upsert(session, "C-1", name="Dup", identities=declared)
    assert again.merged_into_id == target.id
    assert len(events(session, source.id, "updated")) == 0
    owners = session.scalars(select(CustomerIdentity.customer_id)).all()
    assert owners == [target.id]


def test_an_ambiguous_author_posting_again_adds_no_suggestions(session):
    upsert(session, "C-1", identities=[{"platform": "twitter", "handle": "shared"}])
    upsert(session, "C-2", identities=[{"platform": "twitter", "handle": "shared"}])
    author = add_author(session, "9", "shared")
    service.resolve_authors(session, [author.id])
    again = service.resolve_authors(session, [author.id])
    assert (again.ambiguous, again.suggestions_created) == (1, 0)
    assert len(suggestions(session)) == 2
