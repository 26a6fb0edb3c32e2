"""CSV export of the company CRM → customers: validated row by row, bad rows reported and skipped.

Header: crm_id,name,email,phone,tier,lifetime_value,twitter_handle,twitter_user_id,
reddit_username,notes (only crm_id is required; unknown columns are ignored with a warning).
`consent_<channel>` columns (yes/no) fill the consent flags. A column that is absent leaves the
stored value alone; an empty cell clears it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from collectors.files import LineError
from engagement.customers import service
from engagement.customers.schemas import CRM_ID_MAX, CustomerUpsert, UpsertResult

FIELD_COLUMNS = ("name", "email", "phone", "tier", "lifetime_value", "notes")
# column → (platform, identity field)
IDENTITY_COLUMNS = {
    "twitter_handle": ("twitter", "handle"),
    "twitter_user_id": ("twitter", "platform_user_id"),
    "reddit_username": ("reddit", "handle"),
}
COLUMNS = ("crm_id", *FIELD_COLUMNS, *IDENTITY_COLUMNS)
CONSENT_PREFIX = "consent_"
TRUE = {"1", "true", "yes", "y", "t"}
FALSE = {"0", "false", "no", "n", "f"}
MAX_FILE_BYTES = 200_000_000


@dataclass(frozen=True)
class ParsedRow:
    """A valid CSV row, with its line for later reports."""

    line: int
    crm_id: str
    data: CustomerUpsert


@dataclass
class ParsedFile:
    """Every row of a file: the valid ones, the errors and the header warnings."""

    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    total: int = 0


@dataclass
class CsvImportReport:
    """Counts, line errors and warnings of one CSV import."""

    total: int = 0
    result: UpsertResult = field(default_factory=UpsertResult)
    errors: list[LineError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the terminal."""
        r = self.result
        return (
            f"{self.total} rows: {r.created} created, {r.updated} updated, "
            f"{r.unchanged} unchanged; {len(self.errors)} errors"
        )


def _bool(value: str) -> bool:
    text = value.strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError("expected yes/no, true/false or 1/0")


def _row_payload(
    row: dict[str, str], known: Sequence[str], consent_columns: Sequence[str]
) -> tuple[dict[str, Any], list[str], list[tuple[str, str]]]:
    """The upsert payload of one row, the column behind each declared identity (for error
    messages) and consent cells that are not booleans."""
    data: dict[str, Any] = {}
    for column in FIELD_COLUMNS:
        if column in known:
            data[column] = (row.get(column) or "").strip() or None
    identities: dict[str, dict[str, str]] = {}
    columns_of: dict[str, list[str]] = {}
    for column, (platform, key) in IDENTITY_COLUMNS.items():
        value = (row.get(column) or "").strip()
        if column in known and value:
            identities.setdefault(platform, {"platform": platform})[key] = value
            columns_of.setdefault(platform, []).append(column)
    data["identities"] = list(identities.values())
    bad: list[tuple[str, str]] = []
    if consent_columns:
        consent: dict[str, bool] = {}
        for column in consent_columns:
            value = (row.get(column) or "").strip()
            if not value:
                continue
            try:
                consent[column.removeprefix(CONSENT_PREFIX)] = _bool(value)
            except ValueError as exc:
                bad.append((column, str(exc)))
        data["consent"] = consent
    identity_columns = ["/".join(columns_of[p]) for p in identities]
    return data, identity_columns, bad


def _error_field(loc: tuple[int | str, ...], identity_columns: list[str]) -> str:
    if (
        len(loc) >= 2
        and loc[0] == "identities"
        and isinstance(loc[1], int)
        and loc[1] < len(identity_columns)
    ):
        return identity_columns[loc[1]]
    if loc and loc[0] == "consent":
        return "consent_" + str(loc[1]) if len(loc) > 1 else "consent"
    return ".".join(str(p) for p in loc) or "(line)"


def parse_csv(content: str, name: str) -> ParsedFile:
    """Validate CRM customer rows; line numbers count the header as line 1."""
    parsed = ParsedFile()
    reader = csv.DictReader(io.StringIO(content, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "crm_id" not in header:
        parsed.errors.append(LineError(name, 1, "(header)", "CSV header must name a crm_id column"))
        return parsed
    reader.fieldnames = header
    consent_columns = [h for h in header if h.startswith(CONSENT_PREFIX) and len(h) > 8]
    for column in header:
        if column not in COLUMNS and column not in consent_columns:
            parsed.warnings.append(f"{name}:1: column {column!r} ignored (unknown)")
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any((v or "").strip() for k, v in row.items() if k is not None):
            continue
        parsed.total += 1
        if None in row:
            parsed.errors.append(LineError(name, line, "(line)", "more cells than header columns"))
            continue
        crm_id = (row.get("crm_id") or "").strip()
        if not crm_id:
            parsed.errors.append(LineError(name, line, "crm_id", "missing"))
            continue
        if len(crm_id) > CRM_ID_MAX:
            parsed.errors.append(
                LineError(name, line, "crm_id", f"longer than {CRM_ID_MAX} characters")
            )
            continue
        if crm_id in seen:
            parsed.errors.append(
                LineError(name, line, "crm_id", f"{crm_id} already on line {seen[crm_id]}")
            )
            continue
        data, identity_columns, bad = _row_payload(row, header, consent_columns)
        if bad:
            parsed.errors.extend(LineError(name, line, col, msg) for col, msg in bad)
            continue
        try:
            upsert = CustomerUpsert.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                where = _error_field(tuple(err["loc"]), identity_columns)
                parsed.errors.append(LineError(name, line, where, err["msg"]))
            continue
        seen[crm_id] = line
        parsed.rows.append(ParsedRow(line, crm_id, upsert))
    return parsed


def read_csv(path: Path) -> ParsedFile:
    """Read and validate a CRM export file (UTF-8, with or without a byte-order mark)."""
    name = str(path)
    raw = path.read_bytes()
    if len(raw) > MAX_FILE_BYTES:
        return ParsedFile(errors=[LineError(name, 0, "(file)", f"over {MAX_FILE_BYTES} bytes")])
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return ParsedFile(
            errors=[LineError(name, 0, "(file)", f"invalid UTF-8 at byte {exc.start}")]
        )
    return parse_csv(content, name)


def upsert_rows(session: Session, rows: Sequence[ParsedRow], actor: str) -> UpsertResult:
    """Upsert parsed rows (the caller owns the transaction)."""
    return service.upsert_customers(session, [(r.crm_id, r.data) for r in rows], actor)


def import_csv(session: Session, path: Path, actor: str) -> CsvImportReport:
    """Import a whole file in the caller's transaction: good rows upserted, bad rows reported."""
    parsed = read_csv(path)
    report = CsvImportReport(total=parsed.total, errors=parsed.errors, warnings=parsed.warnings)
    if parsed.rows:
        report.result = upsert_rows(session, parsed.rows, actor)
    return report
