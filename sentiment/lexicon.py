"""VADER lexicon model: the fast, dependency-light fallback (English only)."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from sentiment.classifier import Prediction

THRESHOLD = 0.05  # VADER authors' recommended compound cut-off
_EPS = 1e-6


def _split(rest: float, a: float, b: float) -> tuple[float, float]:
    """Share `rest` between two classes in proportion to VADER's a:b."""
    a, b = a + _EPS, b + _EPS
    return rest * a / (a + b), rest * b / (a + b)


class VaderModel:
    """Labels by the VADER compound score (±0.05); probabilities are a monotone mapping of it."""

    name = "vader"
    languages: frozenset[str] | None = frozenset({"en"})

    def __init__(self) -> None:
        self.version = version("vaderSentiment")
        self._analyzer = SentimentIntensityAnalyzer()

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Label each text by its compound score."""
        return [self._one(text) for text in texts]

    def _one(self, text: str) -> Prediction:
        s = self._analyzer.polarity_scores(text)
        c = s["compound"]
        if c >= THRESHOLD:
            pos = 0.5 + c / 2
            neu, neg = _split(1 - pos, s["neu"], s["neg"])
            return Prediction("positive", neg, neu, pos)
        if c <= -THRESHOLD:
            neg = 0.5 - c / 2
            neu, pos = _split(1 - neg, s["neu"], s["pos"])
            return Prediction("negative", neg, neu, pos)
        neu = 0.9 - abs(c)
        neg, pos = _split(1 - neu, s["neg"], s["pos"])
        return Prediction("neutral", neg, neu, pos)
