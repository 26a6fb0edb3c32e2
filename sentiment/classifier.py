"""The SentimentModel Protocol and the once-per-process model loader."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from core.settings import Settings

LABELS = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class Prediction:
    """One text's label and class probabilities (they sum to 1)."""

    label: str
    negative: float
    neutral: float
    positive: float

    @property
    def scores(self) -> dict[str, float]:
        """Probabilities keyed by label."""
        return {"negative": self.negative, "neutral": self.neutral, "positive": self.positive}


@runtime_checkable
class SentimentModel(Protocol):
    """What the scoring service needs from any model."""

    name: str
    version: str
    # ISO 639-1 codes the model can score; None means any language.
    languages: frozenset[str] | None

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Label each text, in input order."""
        ...


def prediction_from_scores(negative: float, neutral: float, positive: float) -> Prediction:
    """Normalise three scores to probabilities and pick the arg-max label."""
    total = negative + neutral + positive
    if total <= 0:
        negative, neutral, positive, total = 0.0, 1.0, 0.0, 1.0
    probs = (negative / total, neutral / total, positive / total)
    label = LABELS[max(range(3), key=lambda i: probs[i])]
    return Prediction(label, *probs)


_lock = threading.Lock()
_models: dict[str, SentimentModel] = {}


def load_model(settings: Settings) -> SentimentModel:
    """The configured model, built once per process (heavy imports happen here, lazily)."""
    key = f"{settings.sentiment_backend}:{settings.sentiment_model}"
    with _lock:
        model = _models.get(key)
        if model is None:
            if settings.sentiment_backend == "transformer":
                from sentiment.transformer import TransformerModel

                model = TransformerModel.from_settings(settings)
            else:
                from sentiment.lexicon import VaderModel

                model = VaderModel()
            _models[key] = model
        return model
