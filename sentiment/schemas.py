"""Pydantic I/O for sentiment results."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator


class SentimentRead(BaseModel):
    """A stored sentiment result."""

    model_config = ConfigDict(from_attributes=True)

    mention_id: int
    model_name: str
    model_version: str
    status: str
    label: str | None
    p_negative: float | None
    p_neutral: float | None
    p_positive: float | None
    wom_score: float | None
    category: str | None
    category_score: float | None = None
    taxonomy_version: str | None = None
    scored_at: datetime


class ScoreReport(BaseModel):
    """What one scoring pass did."""

    scored: int = 0
    unsupported_language: int = 0
    negative_wom: int = 0
    by_label: dict[str, int] = {}
    by_category: dict[str, int] = {}

    def add(self, other: ScoreReport) -> None:
        """Accumulate another pass's counts."""
        self.scored += other.scored
        self.unsupported_language += other.unsupported_language
        self.negative_wom += other.negative_wom
        for label, n in other.by_label.items():
            self.by_label[label] = self.by_label.get(label, 0) + n
        for key, n in other.by_category.items():
            self.by_category[key] = self.by_category.get(key, 0) + n


# Bounded so one admin form cannot make every scoring batch embed megabytes of examples.
MAX_EXAMPLES = 50
MAX_EXAMPLE_CHARS = 500
CategoryKey = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$")]
# What to tell a person whose category input failed a check they cannot read off the pattern.
CATEGORY_HINTS = {
    ("key", "string_pattern_mismatch"): "use lowercase letters, digits, '-' and '_', starting "
    "with a letter or digit (at most 100 characters)",
}
Position = Annotated[int, Field(ge=-1_000_000, le=1_000_000)]
Example = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class CategoryCreate(BaseModel):
    """A new complaint category: a stable key, a name, and words that describe it."""

    key: CategoryKey
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=2000)] = ""
    examples: Annotated[list[Example], Field(max_length=MAX_EXAMPLES)] = []
    enabled: bool = True
    position: Position | None = None

    @model_validator(mode="after")
    def _has_words(self) -> CategoryCreate:
        if not self.description.strip() and not self.examples:
            raise ValueError("a category needs a description or at least one example")
        return self


class CategoryUpdate(BaseModel):
    """Fields to change; unset fields stay as they are."""

    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = None
    description: Annotated[str, Field(max_length=2000)] | None = None
    examples: Annotated[list[Example], Field(max_length=MAX_EXAMPLES)] | None = None
    enabled: bool | None = None
    position: Position | None = None


class CategoryRead(BaseModel):
    """A stored complaint category."""

    model_config = ConfigDict(from_attributes=True)

    key: str
    name: str
    description: str
    examples: list[str]
    enabled: bool
    position: int
    updated_at: datetime


class RescoreReport(BaseModel):
    """What `sentiment rescore` did."""

    scored: int = 0
    unsupported_language: int = 0
    recategorised: int = 0
    batches: int = 0
    remaining: int = 0
