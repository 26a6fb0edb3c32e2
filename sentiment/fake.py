"""A fast, deterministic model for tests: keyword rules behind the same Protocol."""

from __future__ import annotations

from collections.abc import Sequence

from sentiment.classifier import Prediction

NEGATIVE_WORDS = ("broken", "terrible", "worst", "refund", "angry", "awful", "late", "hate")
POSITIVE_WORDS = ("love", "great", "thanks", "awesome", "best", "perfect")


class FakeModel:
    """Negative if a complaint word appears, positive for praise words, else neutral."""

    name = "fake"
    version = "1"
    languages: frozenset[str] | None = frozenset({"en"})

    def __init__(self) -> None:
        self.calls: list[int] = []

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Keyword rules, recording each batch size."""
        self.calls.append(len(texts))
        out = []
        for text in texts:
            low = text.lower()
            if any(w in low for w in NEGATIVE_WORDS):
                out.append(Prediction("negative", 0.9, 0.08, 0.02))
            elif any(w in low for w in POSITIVE_WORDS):
                out.append(Prediction("positive", 0.02, 0.08, 0.9))
            else:
                out.append(Prediction("neutral", 0.1, 0.8, 0.1))
        return out
