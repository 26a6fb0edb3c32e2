from __future__ import annotations

import pytest

from sentiment.classifier import SentimentModel
from sentiment.lexicon import VaderModel


@pytest.fixture(scope="module")
def vader() -> VaderModel:
    return VaderModel()


def test_vader_satisfies_the_protocol(vader):
    assert isinstance(vader, SentimentModel)
    assert vader.name == "vader" and vader.version


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("This is the worst service ever, I am furious", "negative"),
        ("I love this app, thank you so much!", "positive"),
        ("The store opens at 9am on Monday", "neutral"),
        ("", "neutral"),
    ],
)
def test_vader_labels(vader, text, label):
    (pred,) = vader.predict([text])
    assert pred.label == label
    assert abs(pred.negative + pred.neutral + pred.positive - 1) < 1e-6
    assert max(pred.scores, key=pred.scores.__getitem__) == label


def test_vader_keeps_input_order(vader):
    preds = vader.predict(["awful awful", "great great", "a table"])
    assert [p.label for p in preds] == ["negative", "positive", "neutral"]


def test_vader_handles_emoji_only_and_huge_text(vader):
    preds = vader.predict(["😡😡😡", "bad " * 25_000])
    assert len(preds) == 2
    assert all(abs(sum(p.scores.values()) - 1) < 1e-6 for p in preds)
    assert preds[1].label == "negative"
