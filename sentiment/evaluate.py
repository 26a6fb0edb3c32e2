"""Metrics for 3-class sentiment: macro-recall, accuracy, per-class P/R/F1, confusion matrix.

Pure Python (no numpy, no torch), so the CLI and tests can use it with any backend.
"""

from __future__ import annotations

import csv
import hashlib
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sentiment.classifier import LABELS

# Spellings of the three classes found in public data sets (SemEval, airline tweets, TweetEval).
_ALIASES = {
    "negative": "negative",
    "neg": "negative",
    "-1": "negative",
    "neutral": "neutral",
    "neu": "neutral",
    "0": "neutral",
    "positive": "positive",
    "pos": "positive",
    "1": "positive",
    "+1": "positive",
}

# Airline tweets whose id falls in bucket 0 of 5 are held out of training (see train.py).
HOLDOUT_BUCKETS = 5


def normalise_label(value: object) -> str | None:
    """'Negative', 'neg', '-1' → 'negative'; None for anything that is not one of the classes."""
    if value is None:
        return None
    return _ALIASES.get(str(value).strip().lower())


def airline_holdout(tweet_id: str) -> bool:
    """True for the fifth of the airline tweets that training never sees (stable id hash)."""
    digest = hashlib.sha256(str(tweet_id).strip().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % HOLDOUT_BUCKETS == 0


_SPACE = re.compile(r"\s+")
_HANDLE = re.compile(r"@\w+")
_URL = re.compile(r"https?://\S+|www\.\S+")


def dedupe_key(text: str) -> str:
    """A text's identity for de-duplication: lower case, handles/URLs dropped, spaces folded."""
    text = _URL.sub(" ", _HANDLE.sub(" ", text.lower()))
    return _SPACE.sub(" ", text).strip()


@dataclass
class ClassScores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class EvalReport:
    """Scores of predicted against gold labels over the three classes."""

    n: int
    accuracy: float
    macro_recall: float
    macro_f1: float
    per_class: dict[str, ClassScores]
    # confusion[i][j]: gold LABELS[i] predicted as LABELS[j]
    confusion: list[list[int]]
    labels: list[str] = field(default_factory=lambda: list(LABELS))
    unscored: int = 0  # rows with a gold label but no prediction (errors, other languages)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def class_scores(true_positives: int, predicted_as: int, support: int) -> ClassScores:
    """Precision, recall and F1 of one class from its counts."""
    return ClassScores(
        _ratio(true_positives, predicted_as),
        _ratio(true_positives, support),
        _ratio(2 * true_positives, predicted_as + support),
        support,
    )


def evaluate(gold: Sequence[str], predicted: Sequence[str | None]) -> EvalReport:
    """Compare label sequences; a None prediction counts as wrong and as `unscored`."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    index = {label: i for i, label in enumerate(LABELS)}
    confusion = [[0] * len(LABELS) for _ in LABELS]
    unscored = 0
    correct = 0
    for g, p in zip(gold, predicted, strict=True):
        if g not in index:
            raise ValueError(f"gold label {g!r} is not one of {', '.join(LABELS)}")
        if p is None or p not in index:
            unscored += 1
            continue
        confusion[index[g]][index[p]] += 1
        correct += g == p
    per_class: dict[str, ClassScores] = {}
    for i, label in enumerate(LABELS):
        tp = confusion[i][i]
        support = sum(1 for g in gold if g == label)
        predicted_as = sum(confusion[r][i] for r in range(len(LABELS)))
        per_class[label] = class_scores(tp, predicted_as, support)
    present = [c for c in per_class.values() if c.support]
    return EvalReport(
        n=len(gold),
        accuracy=_ratio(correct, len(gold)),
        macro_recall=sum(c.recall for c in present) / len(present) if present else 0.0,
        macro_f1=sum(c.f1 for c in present) / len(present) if present else 0.0,
        per_class=per_class,
        confusion=confusion,
        unscored=unscored,
    )


def format_report(report: EvalReport, title: str = "") -> str:
    """Human-readable report: headline scores, per-class table, confusion matrix."""
    lines = [title] if title else []
    lines.append(
        f"n={report.n}  macro-recall={report.macro_recall:.4f}  "
        f"accuracy={report.accuracy:.4f}  macro-F1={report.macro_f1:.4f}"
        + (f"  unscored={report.unscored}" if report.unscored else "")
    )
    lines.append(f"{'class':<10}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}")
    for label, c in report.per_class.items():
        lines.append(
            f"{label:<10}{c.precision:>10.4f}{c.recall:>10.4f}{c.f1:>10.4f}{c.support:>10}"
        )
    lines.append("confusion (rows: gold, columns: predicted)")
    lines.append(f"{'':<10}" + "".join(f"{label:>10}" for label in report.labels))
    for label, row in zip(report.labels, report.confusion, strict=True):
        lines.append(f"{label:<10}" + "".join(f"{n:>10}" for n in row))
    return "\n".join(lines)


@dataclass
class LabelledRows:
    """Texts with gold labels read from a CSV; rows without a usable label are counted."""

    texts: list[str]
    labels: list[str]
    ids: list[str]
    skipped: int = 0


def _raise_csv_limit() -> None:
    limit = sys.maxsize
    while True:
        try:
            csv.field_size_limit(limit)
            return
        except OverflowError:
            limit //= 10


def read_labelled_csv(
    path: Path,
    text_column: str = "text",
    label_column: str = "label",
    id_column: str = "tweet_id",
) -> LabelledRows:
    """Read (text, label) rows; invalid UTF-8 is replaced, unknown labels are skipped."""
    _raise_csv_limit()
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        for col in (text_column, label_column):
            if col not in columns:
                raise ValueError(
                    f"{path}: no column {col!r} (columns: {', '.join(columns) or 'none'})"
                )
        out = LabelledRows([], [], [])
        for i, row in enumerate(reader):
            label = normalise_label(row.get(label_column))
            text = row.get(text_column)
            if label is None or text is None:
                out.skipped += 1
                continue
            out.texts.append(text)
            out.labels.append(label)
            out.ids.append(str(row.get(id_column) or i))
        return out


def only_holdout(rows: LabelledRows) -> LabelledRows:
    """Keep the rows whose id falls in the held-out bucket (`airline_holdout`)."""
    keep = [i for i, tid in enumerate(rows.ids) if airline_holdout(tid)]
    return LabelledRows(
        [rows.texts[i] for i in keep],
        [rows.labels[i] for i in keep],
        [rows.ids[i] for i in keep],
        rows.skipped,
    )


def label_counts(labels: Iterable[str]) -> dict[str, int]:
    """How many of each class, in LABELS order."""
    counts = dict.fromkeys(LABELS, 0)
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return counts


# ------------------------------------------------------------------ complaint categories


@dataclass
class CategoryEvalReport:
    """Category accuracy against gold labels, next to always guessing the commonest label."""

    n: int
    accuracy: float
    majority_label: str
    majority_accuracy: float
    # Share of texts given any category (the rest fell under the similarity floor).
    coverage: float
    # Accuracy over the texts that got a category.
    covered_accuracy: float
    per_label: dict[str, ClassScores] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)


def evaluate_categories(gold: Sequence[str], predicted: Sequence[str | None]) -> CategoryEvalReport:
    """Accuracy (an uncategorised text counts as wrong), coverage and per-label P/R/F1."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    n = len(gold)
    counts: dict[str, int] = {}
    for g in gold:
        counts[g] = counts.get(g, 0) + 1
    majority = max(sorted(counts), key=lambda k: counts[k]) if counts else ""
    right = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p)
    covered = sum(1 for p in predicted if p is not None)
    per_label = {}
    for label in sorted(counts):
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p == label)
        said = sum(1 for p in predicted if p == label)
        per_label[label] = class_scores(tp, said, counts[label])
    return CategoryEvalReport(
        n=n,
        accuracy=_ratio(right, n),
        majority_label=majority,
        majority_accuracy=_ratio(counts.get(majority, 0), n),
        coverage=_ratio(covered, n),
        covered_accuracy=_ratio(right, covered),
        per_label=per_label,
    )


def format_category_report(report: CategoryEvalReport, title: str = "") -> str:
    """A plain-text table of a category evaluation."""
    lines = [title] if title else []
    lines.append(
        f"n {report.n}  accuracy {report.accuracy:.4f}  majority baseline "
        f"{report.majority_accuracy:.4f} ({report.majority_label})"
    )
    lines.append(
        f"coverage {report.coverage:.4f}  accuracy where categorised {report.covered_accuracy:.4f}"
    )
    width = max([len(k) for k in report.per_label] + [5])
    lines.append(f"{'label':<{width}}  precision  recall  f1      support")
    for label, s in report.per_label.items():
        lines.append(
            f"{label:<{width}}  {s.precision:.4f}     {s.recall:.4f}  {s.f1:.4f}  {s.support}"
        )
    return "\n".join(lines)


def read_category_csv(
    path: Path,
    text_column: str,
    label_column: str,
    *,
    where: tuple[str, str] | None = None,
    ignore: Iterable[str] = (),
) -> tuple[list[str], list[str], int]:
    """(texts, labels, skipped) from a CSV: rows matching `where`, with a label not ignored."""
    _raise_csv_limit()
    skip = {s.strip().lower() for s in ignore}
    texts: list[str] = []
    labels: list[str] = []
    skipped = 0
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        wanted = [text_column, label_column] + ([where[0]] if where else [])
        for col in wanted:
            if col not in columns:
                raise ValueError(
                    f"{path}: no column {col!r} (columns: {', '.join(columns) or 'none'})"
                )
        for row in reader:
            if where and (row.get(where[0]) or "").strip().lower() != where[1].strip().lower():
                continue
            label = (row.get(label_column) or "").strip()
            text = row.get(text_column)
            if not label or label.lower() in skip or text is None:
                skipped += 1
                continue
            texts.append(text)
            labels.append(label)
    return texts, labels, skipped
