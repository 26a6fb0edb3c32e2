from __future__ import annotations

from sqlalchemy import func, select

from collectors import service as collect
from engagement.models import ResponseTask
from scheduler import jobs
from sentiment import service as sentiment
from sentiment.categories import Categoriser, HashingEmbedder, fingerprint, specs
from sentiment.fake import FakeModel
from sentiment.models import SentimentResult
from sentiment.schemas import CategoryCreate
from tests.conftest import mention


def test_score_then_engage_jobs_commit_their_work(session_factory, settings, session):
    collect.ingest(
        session, [mention(str(i), "this is terrible", thread_id=str(i)) for i in range(5)]
    )
    session.commit()
    settings.score_batch_size = 2
    score = jobs.score_pending(session_factory, settings, model=FakeModel())
    assert score.scored == 5
    engage = jobs.engage_pending(session_factory, settings)
    assert engage.opened == 5
    with session_factory() as check:
        assert check.scalar(select(func.count(SentimentResult.id))) == 5
        assert check.scalar(select(func.count(ResponseTask.id))) == 5


def test_score_job_stops_after_max_batches(session_factory, settings, session):
    collect.ingest(session, [mention(str(i), "ok") for i in range(10)])
    session.commit()
    settings.score_batch_size = 2
    report = jobs.score_pending(session_factory, settings, model=FakeModel(), max_batches=3)
    assert report.scored == 6


def test_process_pending_drains_both_stages(session_factory, settings, session):
    collect.ingest(session, [mention("1", "awful"), mention("2", "great")])
    session.commit()
    report = jobs.process_pending(session_factory, settings, model=FakeModel())
    assert report.score.scored == 2
    assert report.engage.examined == 2 and report.engage.opened == 1


def test_score_job_categorises_complaints_with_the_configured_categoriser(
    session_factory, settings, session
):
    collect.ingest(
        session,
        [
            mention("1", "terrible, you charged my card twice this month", language="en"),
            mention("2", "the app crashes every time, terrible and useless", language="en"),
            mention("3", "I hate this weather", language="en"),
            mention("4", "I love it, great service", language="en", author={"followers": 99}),
        ],
    )
    session.commit()
    settings.score_batch_size = 3
    report = jobs.score_pending(session_factory, settings)  # lexicon: VADER + bag of words
    assert report.scored == 4 and report.negative_wom == 3
    assert report.by_label == {"negative": 3, "positive": 1}
    assert report.by_category == {"billing": 1, "app_technical": 1}
    with session_factory() as check:
        rows = check.scalars(select(SentimentResult).order_by(SentimentResult.mention_id)).all()
        taxonomy = specs(sentiment.list_categories(check, enabled_only=True))
    version = fingerprint(taxonomy, HashingEmbedder.name)
    assert [(r.model_name, r.category, r.taxonomy_version) for r in rows] == [
        ("vader", "billing", version),
        ("vader", "app_technical", version),
        ("vader", None, version),
        ("vader", None, None),
    ]
    assert [r.wom_score is not None for r in rows] == [True, True, True, False]
    assert rows[0].wom_score == round(rows[0].p_negative, 4)


def test_score_job_uses_the_categoriser_it_is_given(session_factory, settings, session):
    collect.ingest(session, [mention("1", "terrible refund", language="en")])
    sentiment.create_category(
        session, CategoryCreate(key="refunds", name="Refunds", examples=["refund"])
    )
    session.commit()
    given = Categoriser(HashingEmbedder(), min_similarity=0.99)
    report = jobs.score_pending(session_factory, settings, model=FakeModel(), categoriser=given)
    assert report.scored == 1 and report.by_category == {}
    report_low = jobs.score_pending(
        session_factory, settings, model=_Version2(), categoriser=Categoriser(HashingEmbedder())
    )
    assert report_low.by_category == {"refunds": 1}


class _Version2(FakeModel):
    version = "2"


def test_score_job_holds_no_transaction_while_the_model_works(committing_factory, settings):
    with committing_factory.begin() as s:
        collect.ingest(s, [mention("1", "this is terrible"), mention("2", "great")])

    class Probe(FakeModel):
        """Writes from another session while predicting: on SQLite that blocks (then fails
        with 'database is locked') if the job still holds its transaction."""

        wrote = False

        def predict(self, texts):
            if not self.wrote:
                self.wrote = True
                with committing_factory.begin() as other:
                    collect.ingest(other, [mention("3", "written while scoring")])
            return super().predict(texts)

    report = jobs.score_pending(committing_factory, settings, model=Probe())
    assert report.scored == 3  # the two, then the one written meanwhile in the next batch
    with committing_factory() as check:
        assert check.scalar(select(func.count(SentimentResult.id))) == 3
