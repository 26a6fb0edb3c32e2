"""Negative word of mouth: p_negative weighted by followers, engagement and star rating."""

from __future__ import annotations

import math

import pytest

from collectors.models import ENGAGEMENT_METRICS, Mention, engagement_count
from engagement import rules
from sentiment.wom import RATING_FACTOR, wom_score


def score(p: float = 1.0, *, followers=None, metrics=None, rating=None, label="negative"):
    return wom_score(label, p, followers=followers, metrics=metrics, rating=rating)


@pytest.mark.parametrize("label", ["neutral", "positive", "", "NEGATIVE"])
def test_only_negative_mentions_have_a_wom_score(label):
    assert score(0.99, followers=10**6, metrics={"likes": 500}, rating=1, label=label) is None


def test_unknown_author_without_engagement_scores_p_negative():
    assert score(1.0) == 1.0
    assert score(0.62) == 0.62
    assert score(0.0) == 0.0
    # Zero and absent are the same: log10(1 + 0) = 0.
    assert score(0.8, followers=0, metrics={}, rating=None) == 0.8


def test_followers_are_logarithmic():
    assert score(1.0, followers=9) == 2.0  # 1 + log10(10)
    assert score(0.5, followers=99) == 1.5  # 0.5 x (1 + 2)
    assert score(1.0, followers=9_999) == 5.0
    assert score(1.0, followers=999_999) == 7.0
    assert score(1.0, followers=100) == round(1 + math.log10(101), 4) == 3.0043


def test_engagement_spreads_the_harm():
    assert score(1.0, metrics={"likes": 5, "reposts": 3, "upvotes": 1}) == 2.0
    assert score(1.0, metrics={"likes": 99}) == 3.0
    # Views and replies are not engagement that spreads a post.
    assert score(1.0, metrics={"views": 10_000, "replies": 99}) == 1.0


def test_factors_multiply():
    # 0.9 x (1 + log10(100)) x (1 + log10(10)) x 1.5
    assert score(0.9, followers=99, metrics={"likes": 4, "reposts": 5}, rating=1) == 8.1
    # The docstring's "viral post from a 1M-follower account": above 25.
    assert score(1.0, followers=999_999, metrics={"reposts": 999}) == 28.0


@pytest.mark.parametrize(
    ("rating", "factor"), [(1, 1.5), (2, 1.25), (3, 1.0), (4, 1.0), (5, 1.0), (0, 1.0), (None, 1.0)]
)
def test_low_star_ratings_weigh_more(rating, factor):
    assert score(0.8, rating=rating) == round(0.8 * factor, 4)


def test_rating_factors_are_the_documented_ones():
    assert RATING_FACTOR == {1: 1.5, 2: 1.25}


def test_negative_counts_are_treated_as_zero():
    assert score(0.7, followers=-50, metrics={"likes": -1000}) == 0.7


def test_score_is_rounded_to_four_places():
    assert score(1 / 3) == 0.3333
    assert score(2 / 3, followers=1) == round(2 / 3 * (1 + math.log10(2)), 4) == 0.8674


def test_engagement_count_sums_integer_metrics_only():
    assert ENGAGEMENT_METRICS == ("likes", "reposts", "upvotes")
    assert engagement_count(None) == 0
    assert engagement_count({}) == 0
    assert engagement_count({"likes": 3, "reposts": 2, "upvotes": 10, "views": 900}) == 15
    # Platforms omit or null some; bools, floats and strings are not counts.
    assert engagement_count({"likes": None, "reposts": True, "upvotes": "7"}) == 0
    assert engagement_count({"likes": 2.5, "reposts": 4}) == 4


def test_mention_engagement_property_and_the_rules_helper_agree():
    m = Mention(metrics={"likes": 7, "reposts": 1, "upvotes": None, "views": 5})
    assert m.engagement == 8
    assert rules.engagement(m) == 8
    assert Mention(metrics=None).engagement == 0
