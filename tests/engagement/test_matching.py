from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select

from collectors import service as collect
from collectors.models import Author
from engagement.customers import matching, service
from engagement.customers.matching import Candidate, Profile
from engagement.models import Customer, LinkSuggestion
from tests.conftest import mention


def test_fold_and_tokens_ignore_case_accents_and_punctuation():
    assert matching.fold("José RAMÍREZ") == "jose ramirez"
    assert matching.tokens("  Ann-Marie  O'Neil ") == ["ann", "marie", "o", "neil"]
    assert matching.letters("Tasha_Monroe_7") == "tashamonroe"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("Greg Halvorsen", "greg halvorsen", 1.0),
        ("Halvorsen Greg", "Greg Halvorsen", 1.0),
        ("José Ramírez", "Jose Ramirez", 1.0),
        ("Jon Smith", "John Smith", 0.947),
        ("Greg Halvorsen", "Gregory Halvorsen", 0.903),
        # Same surname, different person: held under every threshold.
        ("Mei Brooks", "Leo Brooks", 0.5),
        ("Maria K.", "Maria Xu", 0.5),
        ("Emily", "Emily Carter", 0.588),
        ("", "Ann", 0.0),
    ],
)
def test_name_similarity(a, b, expected):
    assert matching.name_similarity(a, b) == pytest.approx(expected, abs=0.001)


@pytest.mark.parametrize(
    ("handle", "name", "expected"),
    [
        ("greghalvorsen", "Greg Halvorsen", 1.0),
        ("tashamonroe_", "Tasha Monroe", 1.0),
        ("halvorsen_greg", "Greg Halvorsen", 1.0),
        ("ghalvorsen", "Greg Halvorsen", 1.0),
        ("kellerc", "Caleb Keller", 1.0),
        ("greghalvorsn", "Greg Halvorsen", 0.96),
        # One differing initial is the whole evidence: no fuzzy credit.
        ("fatimat96", "Fatima Moreno", 0.0),
        # A first name alone does not name a person.
        ("Casey967", "Casey Xu", 0.0),
        ("leo", "Leo Brooks", 0.0),
    ],
)
def test_handle_name_similarity(handle, name, expected):
    assert matching.handle_name_similarity(handle, name) == pytest.approx(expected, abs=0.001)


def test_handle_email_similarity():
    assert matching.handle_email_similarity("greg_halvorsen", "Greg.Halvorsen@example.org") == 1.0
    assert matching.handle_email_similarity("casey874", "casey.xu@example.com") == 0.0


def test_emails_and_phones_are_found_in_text():
    text = "Write to Lena.Ibarra@Example.com. Or call (312) 555-0131 / +44 20 7946 0958, ref 12"
    assert matching.extract_emails(text) == {"lena.ibarra@example.com"}
    assert matching.extract_phones(text) == {"3125550131", "2079460958"}
    assert matching.phone_suffix("+1-312-555-0131") == "3125550131"
    assert matching.phone_suffix("555-01") is None


def test_score_combines_signals_and_explains_them():
    profile = matching.profile_from("greghalvorsen", "Greg Halvorsen", ["hi"])
    match = matching.score(profile, Candidate(7, "Greg Halvorsen", "greg@example.org", None))
    assert match is not None
    assert (match.customer_id, match.confidence) == (7, 0.97)
    assert match.reason == (
        "display name 'Greg Halvorsen' ≈ customer name 'Greg Halvorsen' (1.00); "
        "handle @greghalvorsen ≈ customer name 'Greg Halvorsen' (1.00)"
    )
    assert matching.score(profile, Candidate(8, "Ann Lee", "ann@example.org", None)) is None


def test_contact_details_in_posts_are_the_strongest_signal():
    profile = matching.profile_from(
        "xyz", None, ["my number is 312 555 0131", "mail me: lena.ibarra@example.com"]
    )
    match = matching.score(
        profile, Candidate(1, "Lena Ibarra", "lena.ibarra@example.com", "+1-312-555-0131")
    )
    assert match is not None
    assert match.confidence == 0.985
    assert match.reason == (
        "their posts contain the customer's e-mail 'lena.ibarra@example.com'; "
        "their posts contain the customer's phone number '+1-312-555-0131'"
    )


def test_confidence_never_reaches_one():
    profile = Profile(
        "lenaibarra", "Lena Ibarra", frozenset({"l@x.com"}), frozenset({"3125550131"})
    )
    match = matching.score(profile, Candidate(1, "Lena Ibarra", "l@x.com", "312-555-0131"))
    assert match is not None and match.confidence == matching.MAX_CONFIDENCE


def test_prefilter_keys():
    profile = matching.profile_from(
        "greg_h_1984", "José Greg", ["reach me at g@example.org or 206-555-0173"]
    )
    keys = matching.prefilter_keys(profile)
    assert keys.full_name == ["josé", "greg"]
    assert keys.name_prefixes == ["jose", "greg", "josé"]
    assert keys.email_prefixes == ["greg"]
    assert keys.emails == ["g@example.org"]
    assert keys.phone_suffixes == ["2065550173"]
    assert matching.prefilter_keys(Profile(None, None)).empty()


def test_suggestions_only_score_prefiltered_candidates(session):
    """Thousands of customers, but only the few sharing a name word or contact are scored."""
    rows = [
        {"crm_id": f"F-{i}", "name": f"Filler{i:04d} Person{i:04d}", "email": f"f{i}@example.com"}
        for i in range(2000)
    ]
    rows += [
        {"crm_id": "G-1", "name": "Greg Halvorsen", "email": "greg.halvorsen@example.org"},
        {"crm_id": "G-2", "name": "Gregory Peck", "email": "gpeck@example.org"},
        {"crm_id": "H-1", "name": "Anna Halvorsen", "email": "anna@example.org"},
        {
            "crm_id": "P-1",
            "name": "Pat Doe",
            "email": "pat@example.org",
            "phone": "+1 206 555 0173",
        },
    ]
    # One executemany takes its columns from the first row: every row names the same keys.
    session.execute(insert(Customer), [{"phone": None, **r} for r in rows])
    collect.ingest(
        session,
        [
            mention(
                "1",
                "still no refund, call me on 206-555-0173",
                author={"id": "736", "handle": "greghalvorsen", "name": "Greg Halvorsen"},
            )
        ],
    )
    author = session.scalar(select(Author))
    report = service.resolve_authors(session, [author.id])
    # Greg Halvorsen and Gregory Peck (names starting 'greg') and Pat Doe (phone) only.
    assert report.candidates_compared == 3
    found = session.execute(
        select(Customer.crm_id, LinkSuggestion.confidence)
        .join(LinkSuggestion, LinkSuggestion.customer_id == Customer.id)
        .order_by(LinkSuggestion.confidence.desc())
    ).all()
    assert found == [("G-1", 0.97), ("P-1", 0.85)]
    assert session.scalar(select(func.count(Customer.id))) == 2004


def test_candidates_per_author_are_capped_and_the_specific_ones_come_first(session):
    many = [{"crm_id": f"S-{i}", "name": f"Sam Other{i}"} for i in range(300)]
    many += [{"crm_id": f"P-{i}", "name": f"Pat Smith{i}"} for i in range(300)]
    session.execute(insert(Customer), [*many, {"crm_id": "T-1", "name": "Sam Smith"}])
    collect.ingest(session, [mention("1", "hi", author={"id": "1", "name": "Sam Smith"})])
    author = session.scalar(select(Author))
    report = service.resolve_authors(session, [author.id])
    assert report.candidates_compared == service.MAX_CANDIDATES
    found = session.execute(
        select(Customer.crm_id, LinkSuggestion.confidence, LinkSuggestion.reason).join(
            LinkSuggestion, LinkSuggestion.customer_id == Customer.id
        )
    ).all()
    assert found == [("T-1", 0.85, "display name 'Sam Smith' ≈ customer name 'Sam Smith' (1.00)")]
