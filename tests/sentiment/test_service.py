from __future__ import annotations

from sqlalchemy import select, text

from collectors import service as collect
from sentiment import service
from sentiment.fake import FakeModel
from sentiment.models import SentimentResult
from tests.conftest import mention


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
