from __future__ import annotations

from sqlalchemy import func, select

from collectors import service
from collectors.models import Author, Mention
from tests.conftest import mention


def test_ingest_stores_mentions_and_authors(session):
    result = service.ingest(
        session,
        [
            mention("1", "first", author={"id": "42", "handle": "@Ann", "followers": 10}),
            mention("2", "second", author={"id": "43", "handle": "bob"}),
        ],
    )
    assert (result.received, result.inserted, result.duplicates) == (2, 2, 0)
    rows = session.scalars(select(Mention).order_by(Mention.external_id)).all()
    assert [m.text for m in rows] == ["first", "second"]
    assert rows[0].author is not None and rows[0].author.handle == "Ann"
    assert rows[0].author.platform_user_id == "42"
    assert rows[0].kind == "post"


def test_reingest_adds_nothing(session):
    batch = [mention(str(i), f"text {i}") for i in range(5)]
    first = service.ingest(session, batch)
    again = service.ingest(session, batch)
    assert first.inserted == 5
    assert (again.inserted, again.duplicates) == (0, 5)
    assert session.scalar(select(func.count(Mention.id))) == 5


def test_duplicates_inside_one_batch_store_once(session):
    result = service.ingest(session, [mention("7", "a"), mention("7", "b")])
    assert result.inserted == 1
    assert session.scalar(select(func.count(Mention.id))) == 1


def test_same_external_id_on_two_platforms_is_two_mentions(session):
    service.ingest(session, [mention("1"), mention("1", platform="reddit")])
    assert session.scalar(select(func.count(Mention.id))) == 2


def test_author_profile_refreshes_without_losing_fields(session):
    service.ingest(session, [mention("1", author={"id": "42", "handle": "ann", "followers": 500})])
    service.ingest(session, [mention("2", author={"id": "42", "handle": "ann_new"})])
    author = session.scalar(select(Author))
    assert author.handle == "ann_new"
    assert author.followers == 500
    assert session.scalar(select(func.count(Author.id))) == 1


def test_later_sighting_in_same_batch_keeps_earlier_fields(session):
    service.ingest(
        session,
        [
            mention("1", author={"id": "42", "followers": 12000, "name": "Ann"}),
            mention("2", author={"id": "42", "handle": "ann"}),
        ],
    )
    author = session.scalar(select(Author))
    assert (author.followers, author.display_name, author.handle) == (12000, "Ann", "ann")


def test_handle_only_authors_match_case_insensitively(session):
    service.ingest(session, [mention("1", platform="rss", author={"handle": "Blogger"})])
    service.ingest(session, [mention("2", platform="rss", author={"handle": "blogger"})])
    assert session.scalar(select(func.count(Author.id))) == 1


def test_long_text_is_bounded_and_marked(session):
    service.ingest(session, [mention("1", "x" * 50_000)], max_text_chars=1000)
    stored = session.scalar(select(Mention))
    assert len(stored.text) == 1000
    assert stored.text.endswith(service.TRUNCATION_MARK)
    assert stored.text_truncated is True


def test_nul_characters_are_dropped_and_text_kept(session):
    service.ingest(session, [mention("1", "bad\x00byte <b>html</b> 😡", raw={"t": "a\x00b"})])
    stored = session.scalar(select(Mention))
    assert stored.text == "badbyte <b>html</b> 😡"
    assert stored.raw == {"t": "ab"}


def test_oversized_raw_payload_is_replaced_by_a_note(session):
    service.ingest(session, [mention("1", raw={"blob": "y" * 100_000})], max_raw_bytes=1024)
    stored = session.scalar(select(Mention))
    assert set(stored.raw) == {"_omitted"}


def test_kind_defaults_from_reply_and_rating(session):
    service.ingest(
        session,
        [
            mention("1", in_reply_to_id="0"),
            mention("2", platform="appstore", rating=2, title="Bad"),
        ],
    )
    kinds = dict(session.execute(select(Mention.external_id, Mention.kind)).all())
    assert kinds == {"1": "reply", "2": "review"}
