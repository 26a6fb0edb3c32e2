"""Scoring: find mentions the current model has not scored, score them in batches, store."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from core.sql import refresh_stale_statistics
from core.timeutil import utcnow
from sentiment import repository
from sentiment.classifier import SentimentModel
from sentiment.langid import detect
from sentiment.models import ScoreStatus
from sentiment.schemas import ScoreReport

log = logging.getLogger(__name__)

# Languages with no reliable code; scored rather than skipped.
UNDETERMINED = {"und", "zxx", "qme", "qht", ""}


def _supported(model: SentimentModel, language: str | None, text: str) -> bool:
    if model.languages is None:
        return True
    if language is None:
        # The platform gave no language: detect it (short or emoji-only texts come back
        # "und" and are scored).
        language, _ = detect(text)
    lang = language.lower().split("-")[0]
    return lang in UNDETERMINED or lang in model.languages


SCORING_TABLES = ("mentions", "sentiment_results")


def refresh_statistics(session: Session) -> bool:
    """Keep the planner's statistics fresh enough for the pending-work query (PostgreSQL)."""
    return bool(refresh_stale_statistics(session, SCORING_TABLES))


def score_pending(session: Session, model: SentimentModel, *, limit: int = 256) -> ScoreReport:
    """Score up to `limit` mentions that lack a result from this model version."""
    pending = repository.unscored_mentions(session, model.name, model.version, limit)
    report = ScoreReport()
    if not pending:
        return report
    now = utcnow()
    rows = []
    to_score: list[tuple[int, str]] = []
    for mention_id, text, title, language in pending:
        # A review's title carries as much opinion as its body.
        full = f"{title}. {text}" if title else text
        if not _supported(model, language, full):
            rows.append(
                {
                    "mention_id": mention_id,
                    "model_name": model.name,
                    "model_version": model.version,
                    "status": ScoreStatus.unsupported_language.value,
                    "scored_at": now,
                }
            )
            report.unsupported_language += 1
            continue
        to_score.append((mention_id, full))
    predictions = model.predict([text for _, text in to_score]) if to_score else []
    for (mention_id, _), pred in zip(to_score, predictions, strict=True):
        rows.append(
            {
                "mention_id": mention_id,
                "model_name": model.name,
                "model_version": model.version,
                "status": ScoreStatus.scored.value,
                "label": pred.label,
                "p_negative": pred.negative,
                "p_neutral": pred.neutral,
                "p_positive": pred.positive,
                "scored_at": now,
            }
        )
        report.by_label[pred.label] = report.by_label.get(pred.label, 0) + 1
        report.scored += 1
    repository.insert_results(session, rows)
    return report


def score_all_pending(
    session: Session, model: SentimentModel, *, batch_size: int = 256
) -> ScoreReport:
    """Score until nothing is pending (flushes between batches, never commits)."""
    total = ScoreReport()
    while True:
        report = score_pending(session, model, limit=batch_size)
        session.flush()
        if report.scored + report.unsupported_language == 0:
            return total
        total.add(report)
