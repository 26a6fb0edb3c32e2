from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, text

from collectors import service as collect
from collectors.models import Mention
from core.errors import ConflictError, InvalidError, NotFoundError
from sentiment import repository, service
from sentiment.categories import (
    Categoriser,
    CategorySpec,
    HashingEmbedder,
    fingerprint,
    load_taxonomy_file,
    specs,
)
from sentiment.fake import FakeModel
from sentiment.models import ComplaintCategory, SentimentResult
from sentiment.repository import PendingMention
from sentiment.schemas import CategoryCreate, CategoryUpdate, ScoreReport
from tests.conftest import DEFAULT_CATEGORY_KEYS, mention


def test_scores_each_mention_once_per_model_version(session):
    collect.ingest(session, [mention("1", "this is terrible"), mention("2", "I love it")])
    model = FakeModel()
    first = service.score_pending(session, model)
    again = service.score_pending(session, model)
    assert first.scored == 2 and first.by_label == {"negative": 1, "positive": 1}
    assert again.scored == 0
    rows = session.scalars(select(SentimentResult).order_by(SentimentResult.mention_id)).all()
    assert [(r.label, r.model_name, r.status) for r in rows] == [
        ("negative", "fake", "scored"),
        ("positive", "fake", "scored"),
    ]
    assert abs(rows[0].p_negative + rows[0].p_neutral + rows[0].p_positive - 1) < 1e-6


def test_a_new_model_version_rescores(session):
    collect.ingest(session, [mention("1", "terrible")])
    service.score_pending(session, FakeModel())
    newer = FakeModel()
    newer.version = "2"
    assert service.score_pending(session, newer).scored == 1


def test_unsupported_language_is_marked_not_guessed(session):
    collect.ingest(
        session,
        [
            mention("1", "esto es terrible", language="es"),
            mention("2", "this is terrible", language="en-GB"),
            mention("3", "terrible", language="und"),
        ],
    )
    report = service.score_pending(session, FakeModel())
    assert (report.scored, report.unsupported_language) == (2, 1)
    es = session.scalar(select(SentimentResult).where(SentimentResult.status != "scored"))
    assert es.status == "unsupported_language" and es.label is None


def test_language_is_detected_when_the_platform_gave_none(session):
    collect.ingest(
        session,
        [
            mention("1", "Das ist ein furchtbar schlechter Service und ich bin wütend"),
            mention("2", "@united thanks"),  # too short to tell: "und", scored
            mention("3", "my flight was delayed three hours and nobody told us why"),
        ],
    )
    report = service.score_pending(session, FakeModel())
    assert (report.scored, report.unsupported_language) == (2, 1)
    de = session.scalar(select(SentimentResult).where(SentimentResult.status != "scored"))
    assert de.mention_id is not None and de.label is None


def test_batches_respect_the_limit(session):
    collect.ingest(session, [mention(str(i), "ok") for i in range(7)])
    model = FakeModel()
    report = service.score_all_pending(session, model, batch_size=3)
    assert report.scored == 7
    assert model.calls == [3, 3, 1]


def test_review_title_is_scored_with_the_body(session):
    collect.ingest(
        session, [mention("1", "see title", platform="appstore", rating=3, title="Terrible")]
    )
    report = service.score_pending(session, FakeModel())
    assert report.by_label == {"negative": 1}


def test_planner_statistics_are_refreshed_after_many_changes(committing_factory):
    with committing_factory() as session:
        if session.get_bind().dialect.name != "postgresql":
            assert service.refresh_statistics(session) is False
            return
        collect.ingest(session, [mention(str(i), "ok") for i in range(1200)])
        session.commit()
        # Make this backend's table counters visible to pg_stat_user_tables now.
        session.execute(text("SELECT pg_stat_force_next_flush()"))
        session.commit()
    with committing_factory() as session:
        assert service.refresh_statistics(session) is True
        session.commit()
    with committing_factory() as session:
        assert service.refresh_statistics(session) is False


# ------------------------------------------------- WOM, complaint categories, taxonomy CRUD

DEFAULT_KEYS = DEFAULT_CATEGORY_KEYS
OWN_TAXONOMY = [
    CategoryCreate(
        key="billing",
        name="Billing",
        description="charged twice, wrong invoice, money back",
        examples=["you charged my card twice"],
    ),
    CategoryCreate(
        key="delivery",
        name="Delivery",
        description="parcel or order never arrived, courier",
        examples=["my parcel never arrived"],
    ),
    CategoryCreate(
        key="app", name="App", description="the app crashes", examples=["app crashes on login"]
    ),
]
COMPLAINTS = [
    mention("1", "terrible, you charged my card twice", language="en"),
    mention("2", "awful, my parcel never arrived", language="en"),
    mention("3", "the app crashes constantly, terrible", language="en"),
    mention("4", "terrible weather", language="en"),
    mention("5", "I love the new app", language="en"),
]


def categoriser() -> Categoriser:
    return Categoriser(HashingEmbedder())


def use_taxonomy(session, categories=OWN_TAXONOMY):
    """Replace the seeded taxonomy with `categories`."""
    for row in service.list_categories(session):
        service.delete_category(session, row.key)
    for data in categories:
        service.create_category(session, data)
    session.flush()


def results(session):
    """Results by mention external id (newest model version last)."""
    stmt = (
        select(Mention.external_id, SentimentResult)
        .join(Mention, Mention.id == SentimentResult.mention_id)
        .order_by(SentimentResult.id)
    )
    return {ext: r for ext, r in session.execute(stmt)}


def test_migration_seeds_the_default_taxonomy(session):
    rows = service.list_categories(session)
    assert [r.key for r in rows] == DEFAULT_KEYS
    assert [r.position for r in rows] == [10, 20, 30, 40, 50, 60]
    assert all(r.enabled and len(r.examples) == 4 for r in rows)
    assert specs(rows) == [
        CategorySpec(c.key, c.name, c.description, c.examples)
        for c in load_taxonomy_file("default")
    ]


def test_wom_is_stored_for_negative_mentions_only(session):
    collect.ingest(
        session,
        [
            mention(
                "1",
                "terrible service",
                language="en",
                author={"id": "a", "followers": 99},
                metrics={"likes": 6, "reposts": 3, "views": 10_000},
            ),
            mention("2", "see title", platform="appstore", rating=1, title="Awful", language="en"),
            mention("3", "hate it", language="en", author={"id": "b"}),
            mention("4", "I love it", language="en", author={"id": "c", "followers": 10**6}),
            mention("5", "the store opens at 9", language="en", metrics={"likes": 50}),
            mention("6", "terrible", language="en", platform="appstore", rating=2),
            mention("7", "esto es terrible", language="es"),
        ],
    )
    report = service.score_pending(session, FakeModel())
    assert (report.scored, report.unsupported_language, report.negative_wom) == (6, 1, 4)
    assert report.by_label == {"negative": 4, "positive": 1, "neutral": 1}
    wom = {ext: r.wom_score for ext, r in results(session).items()}
    assert wom == {
        "1": pytest.approx(5.4),  # 0.9 x (1 + log10 100) x (1 + log10 10)
        "2": pytest.approx(1.35),  # 0.9 x 1.5 for one star
        "3": pytest.approx(0.9),  # no follower count, no engagement
        "4": None,
        "5": None,
        "6": pytest.approx(1.125),  # 0.9 x 1.25 for two stars
        "7": None,  # not scored
    }


def test_without_a_categoriser_negatives_get_no_category(session):
    collect.ingest(session, COMPLAINTS)
    report = service.score_pending(session, FakeModel())
    assert report.by_category == {}
    rows = results(session).values()
    assert {(r.category, r.category_score, r.taxonomy_version) for r in rows} == {
        (None, None, None)
    }


def test_negatives_are_categorised_from_the_database_taxonomy(session):
    use_taxonomy(session)
    collect.ingest(session, COMPLAINTS)
    cat = categoriser()
    report = service.score_pending(session, FakeModel(), categoriser=cat)
    assert report.scored == 5 and report.negative_wom == 4
    assert report.by_category == {"billing": 1, "delivery": 1, "app": 1}
    rows = results(session)
    assert {ext: r.category for ext, r in rows.items()} == {
        "1": "billing",
        "2": "delivery",
        "3": "app",
        "4": None,  # below the similarity floor
        "5": None,  # positive: never categorised
    }
    version = fingerprint(specs(service.list_categories(session)), "hashed-bag-of-words")
    assert [rows[e].taxonomy_version for e in "12345"] == [version] * 4 + [None]
    assert rows["4"].category_score == 0.0 and rows["5"].category_score is None
    expected = cat.categorise(
        specs(service.list_categories(session)), [c.text for c in COMPLAINTS[:3]]
    )
    assert [rows[e].category_score for e in "123"] == [pytest.approx(m.score) for m in expected]
    assert all(0.15 <= rows[e].category_score <= 1 for e in "123")


def test_a_model_with_sentence_vectors_scores_and_categorises_in_one_pass(session):
    from sentiment.categories import SharedEncoder
    from tests.sentiment.test_categories import VectorFake

    use_taxonomy(session)
    collect.ingest(session, COMPLAINTS)
    model = VectorFake()
    report = service.score_pending(session, model, categoriser=Categoriser(SharedEncoder(model)))
    assert model.vector_calls == [5] and model.calls == []  # no second pass over negatives
    assert len(model.embed_calls) == 1  # the taxonomy's prototypes, once
    assert report.by_category == {"billing": 1, "delivery": 1, "app": 1}
    taxonomy = specs(service.list_categories(session))
    rows = results(session)
    assert rows["1"].taxonomy_version == fingerprint(taxonomy, "fake@1")
    expected = categoriser().categorise(taxonomy, [c.text for c in COMPLAINTS[:3]])
    assert [rows[e].category_score for e in "123"] == [pytest.approx(m.score) for m in expected]


def test_a_shared_model_without_a_taxonomy_only_predicts(session):
    from sentiment.categories import SharedEncoder
    from tests.sentiment.test_categories import VectorFake

    use_taxonomy(session, [])
    collect.ingest(session, COMPLAINTS)
    model = VectorFake()
    service.score_pending(session, model, categoriser=Categoriser(SharedEncoder(model)))
    assert model.vector_calls == [] and model.calls == [5]


def test_the_seeded_default_taxonomy_categorises(session):
    collect.ingest(
        session,
        [
            mention("1", "terrible, you charged my card twice this month", language="en"),
            mention("2", "terrible: my account got locked, password reset broken", language="en"),
            mention("3", "awful, my order still hasn't arrived", language="en"),
        ],
    )
    report = service.score_pending(session, FakeModel(), categoriser=categoriser())
    assert report.by_category == {"billing": 1, "account": 1, "delivery": 1}


def test_review_titles_are_categorised_with_the_body(session):
    use_taxonomy(session)
    collect.ingest(
        session,
        [
            mention(
                "1",
                "charged my card twice",
                platform="appstore",
                rating=1,
                title="Terrible",
                language="en",
            )
        ],
    )
    service.score_pending(session, FakeModel(), categoriser=categoriser())
    assert results(session)["1"].category == "billing"


def test_disabled_categories_are_ignored(session):
    use_taxonomy(session)
    service.update_category(session, "billing", CategoryUpdate(enabled=False))
    collect.ingest(session, COMPLAINTS[:3])
    report = service.score_pending(session, FakeModel(), categoriser=categoriser())
    assert report.by_category == {"delivery": 1, "app": 1}
    rows = results(session)
    assert rows["1"].category is None
    enabled = specs(service.list_categories(session, enabled_only=True))
    assert [c.key for c in enabled] == ["delivery", "app"]
    assert rows["1"].taxonomy_version == fingerprint(enabled, "hashed-bag-of-words")


def test_empty_taxonomy_means_no_category(session):
    use_taxonomy(session, [])
    collect.ingest(session, COMPLAINTS)
    report = service.score_pending(session, FakeModel(), categoriser=categoriser())
    assert report.by_category == {} and report.negative_wom == 4
    assert {
        (r.category, r.category_score, r.taxonomy_version) for r in results(session).values()
    } == {(None, None, None)}
    assert service.read_pending(session, FakeModel()).mentions == []


def test_read_score_store_split_matches_one_session_scoring(session):
    collect.ingest(session, COMPLAINTS)
    work = service.read_pending(session, FakeModel(), limit=2)
    assert [m.id for m in work.mentions] == sorted(m.id for m in work.mentions)
    assert len(work.mentions) == 2 and [c.key for c in work.taxonomy] == DEFAULT_KEYS
    rows, report = service.score_work(work, FakeModel(), categoriser())
    assert report.scored == 2 and len(rows) == 2
    assert results(session) == {}  # scoring alone writes nothing
    service.store_results(session, rows)
    service.store_results(session, rows)  # a second writer of the same batch adds nothing
    assert len(results(session)) == 2
    rest = service.score_pending(session, FakeModel(), categoriser=categoriser())
    assert rest.scored == len(COMPLAINTS) - 2


def test_all_categories_disabled_is_an_empty_taxonomy(session):
    for row in service.list_categories(session):
        service.update_category(session, row.key, CategoryUpdate(enabled=False))
    collect.ingest(session, COMPLAINTS[:1])
    report = service.score_pending(session, FakeModel(), categoriser=categoriser())
    assert report.by_category == {}
    assert results(session)["1"].taxonomy_version is None


def test_since_limits_scoring_to_newer_mentions(session):
    collect.ingest(
        session,
        [
            mention("old", "terrible", language="en", created_at=datetime(2026, 11, 1, 9)),
            mention("edge", "terrible", language="en", created_at=datetime(2026, 11, 10)),
            mention("new", "awful", language="en", created_at=datetime(2026, 11, 20)),
        ],
    )
    model = FakeModel()
    since = datetime(2026, 11, 10)
    assert service.pending_count(session, model) == 3
    assert service.pending_count(session, model, since=since) == 2
    report = service.score_pending(session, model, since=since)
    assert report.scored == 2
    assert sorted(results(session)) == ["edge", "new"]
    assert service.pending_count(session, model, since=since) == 0
    assert service.pending_count(session, model) == 1
    assert service.score_pending(session, model).scored == 1


def test_pending_count_is_per_model_version(session):
    collect.ingest(session, COMPLAINTS)
    model = FakeModel()
    service.score_pending(session, model, limit=2)
    assert service.pending_count(session, model) == 3
    newer = FakeModel()
    newer.version = "2"
    assert service.pending_count(session, newer) == 5


def test_score_all_pending_sums_categories_over_batches(session):
    use_taxonomy(session)
    collect.ingest(session, COMPLAINTS)
    report = service.score_all_pending(
        session, FakeModel(), batch_size=2, categoriser=categoriser()
    )
    assert report.scored == 5 and report.negative_wom == 4
    assert report.by_category == {"billing": 1, "delivery": 1, "app": 1}


def test_score_report_add_merges_categories():
    a = ScoreReport(scored=2, negative_wom=1, by_label={"negative": 1}, by_category={"x": 1})
    a.add(ScoreReport(scored=1, negative_wom=1, by_category={"x": 2, "y": 1}))
    assert (a.scored, a.negative_wom, a.by_category) == (3, 2, {"x": 3, "y": 1})
    assert ScoreReport().by_category == {} and ScoreReport().by_category is not a.by_category


def test_recategorise_after_editing_a_category(session):
    use_taxonomy(session)
    collect.ingest(session, COMPLAINTS)
    cat = categoriser()
    service.score_pending(session, FakeModel(), categoriser=cat)
    session.flush()
    # Nothing is stale under the taxonomy the results were categorised with.
    assert service.recategorise(session, cat) == (0, 0)
    old_version = results(session)["4"].taxonomy_version
    service.update_category(
        session, "app", CategoryUpdate(examples=["app crashes on login", "terrible weather"])
    )
    session.flush()
    version = fingerprint(specs(service.list_categories(session)), cat.embedder.name)
    assert version != old_version
    rows = results(session)
    negative_ids = sorted(rows[e].id for e in "1234")
    assert service.recategorise(session, cat) == (4, negative_ids[-1])
    session.expire_all()
    rows = results(session)
    assert {e: rows[e].category for e in "12345"} == {
        "1": "billing",
        "2": "delivery",
        "3": "app",
        "4": "app",  # now matches the new example
        "5": None,
    }
    assert [rows[e].taxonomy_version for e in "12345"] == [version] * 4 + [None]
    assert rows["4"].category_score > 0.3
    assert service.recategorise(session, cat, after_id=0) == (0, 0)


def test_recategorise_is_resumable_in_id_order(session):
    use_taxonomy(session)
    collect.ingest(session, COMPLAINTS)
    service.score_pending(session, FakeModel())  # no categoriser: all negatives are stale
    ids = sorted(r.id for r in results(session).values() if r.label == "negative")
    cat = categoriser()
    after = 0
    seen = []
    while True:
        changed, after = service.recategorise(session, cat, after_id=after, limit=3)
        if not changed:
            break
        seen.append((changed, after))
    assert seen == [(3, ids[2]), (1, ids[3])]
    assert after == ids[3]
    session.expire_all()
    assert [r.category for r in results(session).values()] == [
        "billing",
        "delivery",
        "app",
        None,
        None,
    ]


def test_recategorise_only_touches_each_mentions_newest_result(session):
    use_taxonomy(session)
    collect.ingest(session, COMPLAINTS[:2])
    service.score_pending(session, FakeModel())
    newer = FakeModel()
    newer.version = "2"
    service.score_pending(session, newer)
    session.flush()
    changed, _ = service.recategorise(session, categoriser())
    assert changed == 2
    session.expire_all()
    rows = session.scalars(select(SentimentResult).order_by(SentimentResult.id)).all()
    assert [(r.model_version, r.category) for r in rows] == [
        ("1", None),
        ("1", None),
        ("2", "billing"),
        ("2", "delivery"),
    ]


def test_recategorise_with_an_emptied_taxonomy_clears_categories_once(session):
    use_taxonomy(session)
    collect.ingest(session, COMPLAINTS)
    cat = categoriser()
    service.score_pending(session, FakeModel(), categoriser=cat)
    use_taxonomy(session, [])
    changed, _ = service.recategorise(session, cat)
    assert changed == 4
    session.expire_all()
    assert {
        (r.category, r.category_score, r.taxonomy_version) for r in results(session).values()
    } == {(None, None, None)}
    # Nothing is left to do until the taxonomy changes again.
    assert service.recategorise(session, cat) == (0, 0)
    service.create_category(session, OWN_TAXONOMY[0])
    changed, _ = service.recategorise(session, cat)
    assert changed == 4
    session.expire_all()
    assert [r.category for r in results(session).values()] == ["billing", None, None, None, None]


def test_stale_category_results_and_set_categories(session):
    collect.ingest(session, COMPLAINTS[:2])
    service.score_pending(session, FakeModel())
    session.flush()
    stale = repository.stale_category_results(session, "v1", 0, 10)
    assert [(s.text, s.title) for s in stale] == [(c.text, None) for c in COMPLAINTS[:2]]
    repository.set_categories(
        session,
        [
            {
                "id": stale[0].result_id,
                "category": "x",
                "category_score": 0.5,
                "taxonomy_version": "v1",
            }
        ],
    )
    assert [s.result_id for s in repository.stale_category_results(session, "v1", 0, 10)] == [
        stale[1].result_id
    ]
    assert len(repository.stale_category_results(session, "v2", 0, 10)) == 2
    assert repository.stale_category_results(session, "v2", stale[0].result_id, 10) == stale[1:]


def test_unscored_mentions_carry_what_wom_needs(session):
    collect.ingest(
        session,
        [
            mention(
                "1",
                "body",
                platform="appstore",
                title="Bad",
                rating=2,
                language="en",
                author={"id": "a", "followers": 12},
                metrics={"likes": 3},
            ),
            mention("2", "plain"),
        ],
    )
    pending = repository.unscored_mentions(session, "fake", "1", 10)
    assert [p._replace(id=0) for p in pending] == [
        PendingMention(0, "body", "Bad", "en", 12, {"likes": 3}, 2),
        PendingMention(0, "plain", None, None, None, {}, None),
    ]
    assert pending[0].id < pending[1].id
    assert repository.count_unscored(session, "fake", "1") == 2
    assert repository.unscored_mentions(session, "fake", "1", 1) == pending[:1]


# ---------------------------------------------------------------------- taxonomy CRUD


def test_create_category_appends_and_strips(session):
    row = service.create_category(
        session,
        CategoryCreate(
            key="refunds", name="  Refunds ", description="  money back  ", examples=[" x "]
        ),
    )
    assert (row.key, row.name, row.description, row.examples) == (
        "refunds",
        "Refunds",
        "money back",
        ["x"],
    )
    assert (row.enabled, row.position) == (True, 70)
    assert row.created_at == row.updated_at
    assert service.get_category(session, "refunds") is row
    assert [c.key for c in service.list_categories(session)][-1] == "refunds"
    placed = service.create_category(
        session, CategoryCreate(key="first", name="First", examples=["a"], position=1)
    )
    assert service.list_categories(session)[0] is placed


def test_create_duplicate_category_conflicts(session):
    with pytest.raises(ConflictError, match="'billing' already exists"):
        service.create_category(session, CategoryCreate(key="billing", name="B", examples=["x"]))


def test_missing_category_is_not_found(session):
    with pytest.raises(NotFoundError, match="complaint category 'nope' not found"):
        service.get_category(session, "nope")
    with pytest.raises(NotFoundError):
        service.update_category(session, "nope", CategoryUpdate(name="x"))
    with pytest.raises(NotFoundError):
        service.delete_category(session, "nope")


def test_update_category_changes_only_what_is_set(session):
    before = service.get_category(session, "billing")
    examples = list(before.examples)
    row = service.update_category(
        session, "billing", CategoryUpdate(name="Money", description=" fees ", position=5)
    )
    assert (row.name, row.description, row.examples, row.position) == (
        "Money",
        "fees",
        examples,
        5,
    )
    assert row.enabled is True
    assert service.list_categories(session)[0].key == "billing"
    row = service.update_category(session, "billing", CategoryUpdate(enabled=False))
    assert row.enabled is False and row.name == "Money"
    assert "billing" not in [c.key for c in service.list_categories(session, enabled_only=True)]
    assert len(service.list_categories(session)) == 6


def test_update_category_treats_null_as_unset(session):
    row = service.update_category(
        session,
        "billing",
        CategoryUpdate(name=None, description=None, examples=None, enabled=None, position=None),
    )
    assert row.name == "Billing and refunds" and row.description.startswith("Complaints about")
    assert len(row.examples) == 4 and row.enabled is True and row.position == 20


def test_update_category_needs_words_left(session):
    with pytest.raises(InvalidError, match="needs a description or at least one example"):
        service.update_category(session, "billing", CategoryUpdate(description="  ", examples=[]))
    row = service.update_category(session, "billing", CategoryUpdate(description=""))
    assert row.description == "" and len(row.examples) == 4
    with pytest.raises(InvalidError):
        service.update_category(session, "billing", CategoryUpdate(examples=[]))
    row = service.update_category(session, "billing", CategoryUpdate(examples=["only"]))
    assert row.examples == ["only"]


def test_delete_category(session):
    service.delete_category(session, "billing")
    assert [c.key for c in service.list_categories(session)] == [
        k for k in DEFAULT_KEYS if k != "billing"
    ]
    with pytest.raises(NotFoundError):
        service.get_category(session, "billing")


def test_import_taxonomy_creates_updates_and_replaces(session):
    service.update_category(session, "billing", CategoryUpdate(enabled=False, name="Old"))
    file = [
        CategorySpec("late", "Late", "late trains", ("late again",)),
        CategorySpec("billing", "Billing", "charges", ()),
    ]
    assert service.import_taxonomy(session, file) == (1, 1, 0)
    billing = service.get_category(session, "billing")
    assert (billing.name, billing.description, billing.examples) == ("Billing", "charges", [])
    assert (billing.enabled, billing.position) == (True, 20)
    assert service.get_category(session, "late").position == 10
    assert len(service.list_categories(session)) == 7
    assert service.import_taxonomy(session, file, replace=True) == (0, 2, 5)
    assert [c.key for c in service.list_categories(session)] == ["late", "billing"]


def test_import_the_bundled_airline_taxonomy(session):
    created, updated, removed = service.import_taxonomy(
        session, load_taxonomy_file("airline"), replace=True
    )
    assert (created, updated, removed) == (8, 1, 5)  # customer_service is in both
    rows = service.list_categories(session)
    assert [r.position for r in rows] == [10 * (i + 1) for i in range(9)]
    assert rows[0].key == "customer_service" and rows[0].name == "Customer Service Issue"


def test_import_a_category_without_words_is_rejected(session):
    with pytest.raises(ValueError, match="needs a description or at least one example"):
        service.import_taxonomy(session, [CategorySpec("empty", "Empty")])
    with pytest.raises(InvalidError):
        service.import_taxonomy(session, [CategorySpec("billing", "Billing")])


def test_a_key_taken_meanwhile_is_a_conflict_and_the_session_goes_on(session):
    # As if a concurrent request inserted the key after create_category's look-up.
    now = datetime(2026, 11, 27)
    duplicate = ComplaintCategory(
        key="billing", name="B", description="d", examples=[], created_at=now, updated_at=now
    )
    with pytest.raises(ConflictError, match="'billing' already exists"):
        repository.add_category(session, duplicate)
    assert len(service.list_categories(session)) == 6
    service.create_category(session, CategoryCreate(key="later", name="L", examples=["x"]))
    assert len(service.list_categories(session)) == 7
