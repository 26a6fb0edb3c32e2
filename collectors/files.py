"""File import: JSONL or CSV in the documented mention schema, validated line by line."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from collectors.schemas import MentionCreate
from core.errors import ConfigError

# CSV is flat: these columns become the nested author / metrics objects.
AUTHOR_COLUMNS = {
    "author_id": "id",
    "author_handle": "handle",
    "author_name": "name",
    "author_followers": "followers",
}
METRIC_COLUMNS = ("likes", "reposts", "replies", "quotes", "upvotes", "comments", "views")
MAX_LINE_BYTES = 2_000_000


@dataclass(frozen=True)
class LineError:
    """Why one input line was not stored."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


@dataclass(frozen=True)
class ParsedLine:
    """A line that validated, with its position for later error reports."""

    line: int
    mention: MentionCreate


def detect_format(path: Path) -> str:
    """'jsonl' or 'csv' from the file name."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    raise ConfigError(f"{path}: unknown format {suffix!r}; use .jsonl or .csv")


def _validation_errors(file: str, line: int, exc: ValidationError) -> list[LineError]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(line)"
        out.append(LineError(file, line, loc, err["msg"]))
    return out


def _validate(file: str, line: int, data: Any) -> ParsedLine | list[LineError]:
    if not isinstance(data, dict):
        return [LineError(file, line, "(line)", "expected a JSON object")]
    try:
        return ParsedLine(line, MentionCreate.model_validate(data))
    except ValidationError as exc:
        return _validation_errors(file, line, exc)


def iter_jsonl(path: Path) -> Iterator[ParsedLine | list[LineError]]:
    """Validate a JSONL file line by line (blank lines are skipped)."""
    name = str(path)
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if len(raw) > MAX_LINE_BYTES:
                yield [LineError(name, number, "(line)", f"line over {MAX_LINE_BYTES} bytes")]
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield [LineError(name, number, "(line)", f"invalid UTF-8 at byte {exc.start}")]
                continue
            if not text.strip():
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                yield [LineError(name, number, "(line)", f"invalid JSON: {exc.msg}")]
                continue
            yield _validate(name, number, data)


def csv_row_to_dict(row: dict[str, str | None]) -> dict[str, Any]:
    """Turn a flat CSV row into the nested mention shape (empty cells mean absent)."""
    data: dict[str, Any] = {}
    author: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    for key, value in row.items():
        if key is None or value is None or value == "":
            continue
        key = key.strip()
        if key in AUTHOR_COLUMNS:
            author[AUTHOR_COLUMNS[key]] = value
        elif key in METRIC_COLUMNS:
            metrics[key] = value
        elif key == "is_brand":
            data[key] = value.strip().lower() in ("1", "true", "yes")
        else:
            data[key] = value
    if author:
        data["author"] = author
    if metrics:
        data["metrics"] = metrics
    return data


def iter_csv(path: Path) -> Iterator[ParsedLine | list[LineError]]:
    """Validate a CSV file with a header row; line numbers count the header as line 1."""
    name = str(path)
    try:
        content = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield [LineError(name, 0, "(file)", f"invalid UTF-8 at byte {exc.start}")]
        return
    reader = csv.DictReader(io.StringIO(content, newline=""))
    if not reader.fieldnames or "text" not in reader.fieldnames:
        yield [LineError(name, 1, "(header)", "CSV header must name at least a 'text' column")]
        return
    for row in reader:
        number = reader.line_num
        if None in row:
            yield [LineError(name, number, "(line)", "more cells than header columns")]
            continue
        yield _validate(name, number, csv_row_to_dict(row))


def iter_file(path: Path) -> Iterator[ParsedLine | list[LineError]]:
    """Validated lines of a JSONL or CSV file."""
    fmt = detect_format(path)
    return iter_jsonl(path) if fmt == "jsonl" else iter_csv(path)
