"""Scoring: find mentions the current model has not scored, score them in batches, store."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from core.errors import ConflictError, InvalidError, NotFoundError
from core.sql import refresh_stale_statistics
from core.timeutil import utcnow
from sentiment import repository
from sentiment.categories import Categoriser, CategorySpec, VectorModel, fingerprint, specs
from sentiment.classifier import Prediction, SentimentModel
from sentiment.langid import detect
from sentiment.models import ComplaintCategory, Label, ScoreStatus
from sentiment.repository import PendingMention
from sentiment.schemas import CategoryCreate, CategoryUpdate, ScoreReport
from sentiment.wom import wom_score

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


@dataclass
class PendingWork:
    """What one scoring batch read: the mentions, and the taxonomy to sort complaints into."""

    mentions: list[PendingMention]
    taxonomy: list[CategorySpec] = field(default_factory=list)


def read_pending(
    session: Session, model: SentimentModel, *, limit: int = 256, since: datetime | None = None
) -> PendingWork:
    """Up to `limit` mentions this model version has not scored, with the enabled taxonomy."""
    mentions = repository.unscored_mentions(session, model.name, model.version, limit, since=since)
    taxonomy = specs(repository.list_categories(session, enabled_only=True)) if mentions else []
    return PendingWork(mentions, taxonomy)


def score_work(
    work: PendingWork, model: SentimentModel, categoriser: Categoriser | None = None
) -> tuple[list[dict[str, Any]], ScoreReport]:
    """Result rows for a batch: label, probabilities, and for negatives WOM and category.

    Touches no database, so a job can run it between two short transactions instead of holding
    one open (on SQLite, a write lock) while the model works.
    """
    report = ScoreReport()
    now = utcnow()
    rows: list[dict[str, Any]] = []
    to_score: list[tuple[PendingMention, str]] = []
    for item in work.mentions:
        # A review's title carries as much opinion as its body.
        full = f"{item.title}. {item.text}" if item.title else item.text
        if not _supported(model, item.language, full):
            rows.append(
                {
                    "mention_id": item.id,
                    "model_name": model.name,
                    "model_version": model.version,
                    "status": ScoreStatus.unsupported_language.value,
                    "scored_at": now,
                }
            )
            report.unsupported_language += 1
            continue
        to_score.append((item, full))
    texts = [text for _, text in to_score]
    vectors: np.ndarray | None = None
    if not texts:
        predictions: list[Prediction] = []
    elif (
        categoriser is not None
        and work.taxonomy
        and categoriser.shares(model)
        and isinstance(model, VectorModel)
    ):
        # One pass gives labels and category vectors (the bundled model is trained for both).
        predictions, vectors = model.predict_with_vectors(texts)
    else:
        predictions = model.predict(texts)
    negatives: list[tuple[dict[str, Any], str]] = []
    negative_rows: list[int] = []
    for position, ((item, full), pred) in enumerate(zip(to_score, predictions, strict=True)):
        row: dict[str, Any] = {
            "mention_id": item.id,
            "model_name": model.name,
            "model_version": model.version,
            "status": ScoreStatus.scored.value,
            "label": pred.label,
            "p_negative": pred.negative,
            "p_neutral": pred.neutral,
            "p_positive": pred.positive,
            "wom_score": wom_score(
                pred.label,
                pred.negative,
                followers=item.followers,
                metrics=item.metrics,
                rating=item.rating,
            ),
            "category": None,
            "category_score": None,
            "taxonomy_version": None,
            "scored_at": now,
        }
        if pred.label == Label.negative.value:
            negatives.append((row, full))
            negative_rows.append(position)
            report.negative_wom += 1
        rows.append(row)
        report.by_label[pred.label] = report.by_label.get(pred.label, 0) + 1
        report.scored += 1
    if categoriser is not None and negatives and work.taxonomy:
        version = fingerprint(work.taxonomy, categoriser.embedder.name)
        matches = categoriser.categorise(
            work.taxonomy,
            [text for _, text in negatives],
            vectors[negative_rows] if vectors is not None else None,
        )
        for (row, _), match in zip(negatives, matches, strict=True):
            row.update(category=match.key, category_score=match.score, taxonomy_version=version)
            if match.key is not None:
                report.by_category[match.key] = report.by_category.get(match.key, 0) + 1
    return rows, report


def store_results(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Store a batch's results; a concurrent scorer's row for the same mention and model wins."""
    repository.insert_results(session, rows)


def score_pending(
    session: Session,
    model: SentimentModel,
    *,
    limit: int = 256,
    categoriser: Categoriser | None = None,
    since: datetime | None = None,
) -> ScoreReport:
    """Score up to `limit` mentions that lack a result from this model version, in one session.

    Negative mentions also get their WOM score and, when a categoriser is given and the
    taxonomy has enabled categories, a complaint category.
    """
    work = read_pending(session, model, limit=limit, since=since)
    if not work.mentions:
        return ScoreReport()
    rows, report = score_work(work, model, categoriser)
    store_results(session, rows)
    return report


def score_all_pending(
    session: Session,
    model: SentimentModel,
    *,
    batch_size: int = 256,
    categoriser: Categoriser | None = None,
) -> ScoreReport:
    """Score until nothing is pending (flushes between batches, never commits)."""
    total = ScoreReport()
    while True:
        report = score_pending(session, model, limit=batch_size, categoriser=categoriser)
        session.flush()
        if report.scored + report.unsupported_language == 0:
            return total
        total.add(report)


def pending_count(session: Session, model: SentimentModel, *, since: datetime | None = None) -> int:
    """How many mentions this model version has not scored yet."""
    return repository.count_unscored(session, model.name, model.version, since=since)


def recategorise(
    session: Session,
    categoriser: Categoriser,
    *,
    after_id: int = 0,
    limit: int = 256,
    since: datetime | None = None,
) -> tuple[int, int]:
    """Re-categorise up to `limit` negative results from an older taxonomy version.

    Returns (results updated, last result id seen): pass the id back as `after_id` to go on.
    """
    taxonomy = specs(repository.list_categories(session, enabled_only=True))
    version = fingerprint(taxonomy, categoriser.embedder.name) if taxonomy else ""
    stale = repository.stale_category_results(session, version, after_id, limit, since=since)
    if not stale:
        return 0, after_id
    texts = [f"{r.title}. {r.text}" if r.title else r.text for r in stale]
    matches: list[tuple[str | None, float | None]] = [(None, None)] * len(texts)
    if taxonomy:
        matches = [(m.key, m.score) for m in categoriser.categorise(taxonomy, texts)]
    repository.set_categories(
        session,
        [
            {
                "id": r.result_id,
                "category": key,
                "category_score": score,
                "taxonomy_version": version or None,
            }
            for r, (key, score) in zip(stale, matches, strict=True)
        ],
    )
    return len(stale), stale[-1].result_id


# ------------------------------------------------------------------ complaint taxonomy


def list_categories(session: Session, *, enabled_only: bool = False) -> list[ComplaintCategory]:
    """The brand's complaint taxonomy in display order."""
    return repository.list_categories(session, enabled_only=enabled_only)


def get_category(session: Session, key: str) -> ComplaintCategory:
    """One category by key; NotFoundError if absent."""
    found = repository.get_category(session, key)
    if found is None:
        raise NotFoundError(f"complaint category {key!r} not found")
    return found


def create_category(session: Session, data: CategoryCreate) -> ComplaintCategory:
    """Add a category; new negative mentions can fall into it at once (no retraining)."""
    if repository.get_category(session, data.key) is not None:
        raise ConflictError(f"complaint category {data.key!r} already exists")
    position = data.position
    if position is None:
        position = repository.max_category_position(session) + 10
    now = utcnow()
    return repository.add_category(
        session,
        ComplaintCategory(
            key=data.key,
            name=data.name,
            description=data.description.strip(),
            examples=list(data.examples),
            enabled=data.enabled,
            position=position,
            created_at=now,
            updated_at=now,
        ),
    )


def update_category(session: Session, key: str, data: CategoryUpdate) -> ComplaintCategory:
    """Change a category's name, words, order or whether it is used."""
    category = get_category(session, key)
    # An explicit null (JSON PATCH, CLI) leaves the field as it is, like an absent one.
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    description = changes.get("description", category.description) or ""
    examples = changes.get("examples", category.examples) or []
    if not description.strip() and not examples:
        raise InvalidError("a category needs a description or at least one example")
    for name, value in changes.items():
        setattr(category, name, value.strip() if name == "description" else value)
    category.updated_at = utcnow()
    session.flush()
    return category


def delete_category(session: Session, key: str) -> None:
    """Remove a category; results and tasks keep the key they were given."""
    repository.delete_category(session, get_category(session, key))


def import_taxonomy(
    session: Session, categories: Sequence[CategorySpec], *, replace: bool = False
) -> tuple[int, int, int]:
    """Create or update categories from a taxonomy file; with `replace`, remove the others.

    The file is the truth for what it names: those categories end up enabled, in its order.

    Returns (created, updated, removed).
    """
    existing = {c.key: c for c in repository.list_categories(session)}
    created = updated = removed = 0
    for i, spec in enumerate(categories):
        fields = {
            "name": spec.name,
            "description": spec.description,
            "examples": list(spec.examples),
            "position": (i + 1) * 10,
        }
        if spec.key in existing:
            update_category(session, spec.key, CategoryUpdate(**fields, enabled=True))
            updated += 1
        else:
            create_category(session, CategoryCreate(key=spec.key, **fields))
            created += 1
    if replace:
        wanted = {s.key for s in categories}
        for key, row in existing.items():
            if key not in wanted:
                repository.delete_category(session, row)
                removed += 1
    return created, updated, removed
