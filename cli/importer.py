"""File import as a sequence of committed batches, then the scoring and engagement stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from collectors import service
from collectors.files import LineError, ParsedLine, iter_file
from collectors.schemas import IngestResult, MentionCreate
from core.db import unit_of_work
from core.settings import Settings
from scheduler.jobs import PipelineReport, process_pending


@dataclass
class ImportReport:
    """Counts and line errors of one file import."""

    ingest: IngestResult = field(default_factory=IngestResult)
    errors: list[LineError] = field(default_factory=list)
    pipeline: PipelineReport | None = None

    def summary(self) -> str:
        """One line for the terminal."""
        text = (
            f"{self.ingest.received} valid lines: {self.ingest.inserted} new, "
            f"{self.ingest.duplicates} already stored; {len(self.errors)} errors"
        )
        if self.pipeline is not None:
            text += (
                f"; scored {self.pipeline.score.scored}, opened {self.pipeline.engage.opened} tasks"
            )
        return text


def import_file(
    factory: sessionmaker[Session],
    settings: Settings,
    path: Path,
    *,
    batch_size: int = 1000,
    process: bool = True,
) -> ImportReport:
    """Store every valid line (one transaction per batch); report the invalid ones."""
    report = ImportReport()
    batch: list[MentionCreate] = []

    def flush() -> None:
        with unit_of_work(factory) as session:
            report.ingest.add(
                service.ingest(
                    session,
                    batch,
                    max_text_chars=settings.max_text_chars,
                    max_raw_bytes=settings.max_raw_bytes,
                )
            )
        batch.clear()

    for item in iter_file(path):
        if isinstance(item, ParsedLine):
            batch.append(item.mention)
            if len(batch) >= batch_size:
                flush()
        else:
            report.errors.extend(item)
    if batch:
        flush()
    if process:
        report.pipeline = process_pending(factory, settings)
    return report
