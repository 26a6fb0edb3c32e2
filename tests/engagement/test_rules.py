"""Engagement rules: each default rule, priority, params validation, rules stored in the DB."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from collectors import service as collect
from collectors.models import Author, Mention
from core.errors import InvalidError, NotFoundError
from engagement import rules, service
from engagement.models import Customer, CustomerIdentity, EngagementRule, ResponseTask
from engagement.schemas import LowRatingParams, NegativeWomParams, RuleCreate, RuleUpdate
from sentiment import service as scoring
from sentiment.fake import FakeModel
from sentiment.models import SentimentResult
from tests.conftest import mention

T0 = datetime(2026, 11, 20, 10, 0, 0)


@pytest.fixture(autouse=True)
def default_rules(session):
    # Jobs tested with really-committing sessions empty every table, seeded rules included.
    if not rules.list_rules(session):
        rules.seed_default_rules(session)


def _m(text="hello", *, followers=None, metrics=None, rating=None, kind="post", brand=False):
    m = Mention(
        platform="twitter",
        external_id="x",
        kind=kind,
        text=text,
        rating=rating,
        metrics=metrics or {},
        is_brand=brand,
        created_at=T0,
    )
    m.author = Author(platform="twitter", author_key="1", handle="ann", followers=followers)
    return m


def _r(label="neutral", p_negative=0.1, category=None):
    return SentimentResult(label=label, p_negative=p_negative, category=category)


def _ctx(mention, result=None, customer=None, **kw):
    return rules.Context(mention, result, customer, **kw)


def _decide(*args, **kw):
    return rules.evaluate(rules.default_rules(), _ctx(*args, **kw))


# --- negative_wom ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "p_negative", "opens", "priority"),
    [
        ("negative", 0.95, True, 2),
        ("negative", 0.9, True, 2),
        ("negative", 0.6, True, 3),
        ("negative", 0.4, False, None),
        ("neutral", 0.45, False, None),
        ("positive", 0.01, False, None),
    ],
)
def test_negative_wom(label, p_negative, opens, priority):
    decision = _decide(_m("this is bad"), _r(label, p_negative))
    assert decision.opens is opens
    if opens:
        assert decision.reasons == ("negative",) and decision.priority == priority


def test_negative_wom_threshold_comes_from_params():
    strict = [rules.Rule("negative_wom", NegativeWomParams(min_negative=0.95))]
    ctx = _ctx(_m("bad"), _r("negative", 0.9))
    assert rules.evaluate(strict, ctx).opens is False
    assert rules.evaluate(rules.default_rules(), ctx).opens is True


# --- low_rating --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rating", "opens", "priority"),
    [(1, True, 2), (2, True, 3), (3, False, None), (5, False, None)],
)
def test_low_rating(rating, opens, priority):
    decision = _decide(_m("ok", rating=rating, kind="review"), _r())
    assert decision.opens is opens
    if opens:
        assert decision.reasons == ("low_rating",) and decision.priority == priority


def test_low_rating_threshold_comes_from_params():
    lenient = [rules.Rule("low_rating", LowRatingParams(max_rating=3))]
    assert rules.evaluate(lenient, _ctx(_m("ok", rating=3, kind="review"))).opens is True


def test_negative_low_star_review_has_both_reasons():
    decision = _decide(_m("awful", rating=1, kind="review"), _r("negative", 0.95))
    assert decision.reason == "negative+low_rating"
    assert decision.priority == 2


# --- question ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "How do I reset my password?",
        "@lumen can you check my order",
        "please help, my bill doubled",
        "Anyone know if there is a way to export contacts",
        "When will the update ship",
        "why does the app log me out every day",
        "is there a way to change my plan",
    ],
)
def test_question_phrases(text):
    assert rules.is_question(text) is True


@pytest.mark.parametrize("text", ["nice phone", "I switched plans today", "thanks, all good"])
def test_statements_are_not_questions(text):
    assert rules.is_question(text) is False


def test_question_to_a_brand_handle_opens_a_low_priority_task():
    mention = _m("@Lumen how do I turn on dark mode?")
    decision = _decide(mention, _r("neutral"), brand_handles=frozenset({"lumen"}))
    assert (decision.opens, decision.reasons, decision.priority) == (True, ("question",), 4)


def test_question_handles_come_from_rule_params():
    rule = rules.compile_rules(
        [EngagementRule(id=1, kind="question", params={"brand_handles": ["@Lumen"]}, position=0)]
    )
    assert rules.evaluate(rule, _ctx(_m("@lumen. can you help?"), _r())).opens is True
    assert rules.evaluate(rule, _ctx(_m("@other can you help?"), _r())).opens is False


def test_question_not_addressed_to_the_brand_opens_nothing():
    assert _decide(_m("how do I cook rice?"), _r()).opens is False
    assert _decide(_m("@lumen love the new phone"), _r(), brand_handles={"lumen"}).opens is False


def test_reply_to_a_brand_post_and_reviews_are_addressed_to_the_brand():
    assert _decide(_m("can you send me the link"), _r(), replies_to_brand=True).opens is True
    review = _decide(_m("why does it crash on start?", rating=4, kind="review"), _r())
    assert review.reasons == ("question",)


def test_positive_question_to_the_brand_still_opens():
    text = "love it! how do I add a widget?"
    assert _decide(_m(text), _r("positive", 0.01)).opens is False  # not addressed to the brand
    assert _decide(_m(text), _r("positive", 0.01), replies_to_brand=True).opens is True


# --- key_customer ------------------------------------------------------------------------------


def test_neutral_mention_of_a_vip_opens_a_task():
    decision = _decide(_m("switching to the new plan"), _r(), Customer(tier="VIP"))
    # base 4, rule shift -1, key tier -1
    assert (decision.opens, decision.reasons, decision.priority) == (True, ("key_customer",), 2)


def test_lifetime_value_makes_a_key_customer():
    rich = Customer(tier="standard", lifetime_value=Decimal("7500.00"))
    assert _decide(_m("hm"), _r(), rich).priority == 3
    poor = Customer(tier="standard", lifetime_value=Decimal("100"))
    assert _decide(_m("hm"), _r(), poor).opens is False


def test_positive_mention_of_a_vip_opens_nothing():
    assert _decide(_m("love it"), _r("positive", 0.01), Customer(tier="vip")).opens is False


def test_no_customer_is_no_key_customer():
    assert _decide(_m("hm"), _r(), None).opens is False


# --- priority ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p_negative", "followers", "metrics", "tier", "category", "expected"),
    [
        (0.6, None, None, None, None, 3),
        (0.95, None, None, None, None, 2),
        (0.6, 9_999, None, None, None, 3),
        (0.6, 10_000, None, None, None, 2),
        (0.6, 100_000, None, None, None, 1),
        (0.95, 500_000, None, None, None, 1),
        (0.6, None, {"likes": 60, "reposts": 30, "upvotes": 10}, None, None, 2),
        (0.6, None, {"likes": 99, "replies": 500}, None, None, 3),
        (0.6, None, None, "business", None, 2),
        (0.6, None, None, "standard", None, 3),
        (0.6, None, None, None, "outage", 2),
        (0.6, 20_000, {"likes": 200}, "vip", "safety", 1),
    ],
)
def test_priority_table(p_negative, followers, metrics, tier, category, expected):
    customer = Customer(tier=tier, lifetime_value=None) if tier else None
    result = _r("negative", p_negative, category)
    mention = _m("bad", followers=followers, metrics=metrics)
    negative_only = [rules.Rule("negative_wom", NegativeWomParams())]
    assert rules.evaluate(negative_only, _ctx(mention, result, customer)).priority == expected


def test_priority_shift_and_clamp():
    rule = [rules.Rule("negative_wom", NegativeWomParams(), priority_shift=3)]
    assert rules.evaluate(rule, _ctx(_m("bad"), _r("negative", 0.95))).priority == 4
    rule = [rules.Rule("negative_wom", NegativeWomParams(), priority_shift=-3)]
    assert rules.evaluate(rule, _ctx(_m("bad"), _r("negative", 0.6))).priority == 1


def test_brand_posts_never_match():
    assert _decide(_m("awful", brand=True), _r("negative", 0.99)).opens is False


# --- params validation and CRUD ----------------------------------------------------------------


def test_defaults_are_seeded_in_order(session):
    rows = rules.list_rules(session)
    assert [r.kind for r in rows] == ["negative_wom", "low_rating", "question", "key_customer"]
    assert rows[0].params == {"min_negative": 0.5}
    assert rows[3].params == {"tiers": ["vip", "business"], "min_lifetime_value": 5000}
    assert all(r.enabled for r in rows)


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("negative_wom", {"min_negative": 1.5}, "min_negative"),
        ("negative_wom", {"threshold": 0.5}, "threshold"),
        ("low_rating", {"max_rating": 0}, "max_rating"),
        ("question", {"brand_handles": ["two words"]}, "invalid handle"),
        ("question", {"brand_handles": "lumen"}, "brand_handles"),
        ("key_customer", {"min_lifetime_value": -1}, "min_lifetime_value"),
    ],
)
def test_bad_params_are_invalid(session, kind, params, message):
    with pytest.raises(InvalidError, match=message):
        rules.create_rule(session, RuleCreate(name="x", kind=kind, params=params))


def test_create_fills_defaults_and_normalises(session):
    rule = rules.create_rule(
        session,
        RuleCreate(
            name="Questions to @Lumen",
            kind="question",
            params={"brand_handles": ["@Lumen", "lumen_help"]},
            position=5,
        ),
    )
    assert rule.params == {"brand_handles": ["lumen", "lumen_help"]}
    assert rules.list_rules(session)[0].id == rule.id


def test_update_checks_params_and_unknown_ids(session):
    rule = rules.list_rules(session)[1]
    with pytest.raises(InvalidError, match="max_rating"):
        rules.update_rule(session, rule.id, RuleUpdate(params={"max_rating": 9}))
    updated = rules.update_rule(session, rule.id, RuleUpdate(params={"max_rating": 3}))
    assert updated.params == {"max_rating": 3}
    with pytest.raises(NotFoundError):
        rules.update_rule(session, 999_999, RuleUpdate(enabled=False))
    rules.delete_rule(session, rule.id)
    with pytest.raises(NotFoundError):
        rules.delete_rule(session, rule.id)


def test_broken_rows_are_skipped_when_compiling():
    rows = [
        EngagementRule(id=1, kind="negative_wom", params={"min_negative": "lots"}, position=1),
        EngagementRule(id=2, kind="mystery", params={}, position=2),
        EngagementRule(id=3, kind="low_rating", params={}, position=3),
    ]
    assert [r.kind for r in rules.compile_rules(rows)] == ["low_rating"]


# --- rules from the database drive engagement --------------------------------------------------


def _engage(session, items):
    collect.ingest(session, items)
    scoring.score_all_pending(session, FakeModel())
    return service.engage_pending(session)


def _tasks(session):
    return session.scalars(select(ResponseTask).order_by(ResponseTask.id)).all()


def test_disabling_a_rule_stops_it_opening_tasks(session):
    negative = rules.list_rules(session)[0]
    rules.update_rule(session, negative.id, RuleUpdate(enabled=False))
    report = _engage(session, [mention("1", "terrible service", author={"id": "9"})])
    assert report.opened == 0
    rules.update_rule(session, negative.id, RuleUpdate(enabled=True))
    report = _engage(session, [mention("2", "terrible service", author={"id": "8"})])
    assert report.opened == 1


def test_question_in_reply_to_a_brand_post_opens_a_task(session):
    report = _engage(
        session,
        [
            mention(
                "b1",
                "Our new plans are live",
                is_brand=True,
                thread_id="b1",
                author={"id": "100", "handle": "LumenMobile"},
                created_at=T0,
            ),
            mention(
                "c1",
                "how do i switch to the family plan",
                thread_id="b1",
                in_reply_to_id="b1",
                author={"id": "9", "handle": "ann"},
                created_at=T0.replace(minute=5),
            ),
        ],
    )
    assert report.opened == 1
    (task,) = _tasks(session)
    assert (task.reason, task.priority) == ("question", 4)


def test_brand_handles_are_learned_from_brand_posts(session):
    _engage(
        session,
        [mention("b1", "Hello!", is_brand=True, author={"id": "100", "handle": "LumenMobile"})],
    )
    report = _engage(
        session,
        [
            mention("c1", "@lumenmobile can you fix my bill", author={"id": "9"}),
            mention("c2", "@someoneelse can you fix my bill", author={"id": "8"}),
        ],
    )
    assert report.opened == 1
    assert _tasks(session)[0].reason == "question"


def test_key_customer_neutral_mention_opens_a_task(session):
    assert _engage(session, [mention("0", "hi", author={"id": "77"})]).opened == 0
    author = session.scalar(select(Author).where(Author.author_key == "77"))
    customer = Customer(crm_id="C-9", name="Ann", tier="vip")
    session.add(customer)
    session.flush()
    session.add(CustomerIdentity(customer_id=customer.id, platform="twitter", author_id=author.id))
    session.flush()
    report = _engage(session, [mention("1", "thinking about the new plan", author={"id": "77"})])
    assert report.opened == 1
    (task,) = _tasks(session)
    assert (task.reason, task.priority, task.customer_id) == ("key_customer", 2, customer.id)
