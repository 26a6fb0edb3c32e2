"""Drop-folder source: JSONL/CSV files (the import schema) appearing in a directory.

Cursor: ``{"files": {"<file name>": {"size": int, "mtime": float, "line": int, "done": bool}}}``
where ``line`` is the last line consumed. A file that grows continues after that line; a file
that is replaced (smaller, or rewritten) starts again from line 1 and ingest skips what is
already stored. Writers should drop files atomically (write ``x.jsonl.tmp``, then rename):
only names matching ``patterns`` are read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from collectors.base import Batch, Budget, SourceConfigError, parse_config
from collectors.files import ParsedLine, iter_file
from collectors.schemas import MentionCreate
from core.settings import Settings


class FileSourceConfig(BaseModel):
    """Where the drop folder is and which files in it to read."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, description="Directory to watch")
    patterns: list[str] = Field(default_factory=lambda: ["*.jsonl", "*.csv"], min_length=1)


class FileCollector:
    """Reads new lines of new or grown files, oldest file first."""

    platform = "file"

    def __init__(self, config: FileSourceConfig) -> None:
        self.config = config
        self.directory = Path(config.path)

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            raise SourceConfigError(f"drop folder {self.directory} does not exist")
        found = {p for pattern in self.config.patterns for p in self.directory.glob(pattern)}
        return sorted((p for p in found if p.is_file()), key=lambda p: (p.stat().st_mtime, p.name))

    def close(self) -> None:
        """Nothing to release: files are opened and closed per fetch."""

    def fetch(self, cursor: dict[str, Any], budget: Budget) -> Batch:
        """Read up to budget.max_items valid lines from the first file with unread lines."""
        files = self._files()
        state: dict[str, dict[str, Any]] = {
            name: dict(entry)
            for name, entry in cursor.get("files", {}).items()
            if any(f.name == name for f in files)
        }
        pending = [f for f in files if self._unread(f, state.get(f.name))]
        if not pending:
            return Batch([], {"files": state}, more=False, requests=0)
        path = pending[0]
        stat = path.stat()
        entry = state.get(path.name)
        start = entry["line"] if entry and not self._replaced(stat, entry) else 0
        mentions: list[MentionCreate] = []
        skipped: list[str] = []
        last_line = start
        exhausted = True
        for item in iter_file(path):
            line = item.line if isinstance(item, ParsedLine) else item[0].line
            if line <= start:
                continue
            if len(mentions) >= budget.max_items:
                exhausted = False
                break
            last_line = line
            if isinstance(item, ParsedLine):
                mentions.append(item.mention)
            else:
                skipped.extend(str(e) for e in item)
        state[path.name] = {
            "size": stat.st_size,
            "mtime": stat.st_mtime,
            "line": last_line,
            "done": exhausted,
        }
        more = not exhausted or len(pending) > 1
        return Batch(mentions, {"files": state}, more=more, requests=1, skipped=skipped)

    @staticmethod
    def _replaced(stat: Any, entry: dict[str, Any]) -> bool:
        return bool(stat.st_size < entry["size"])

    def _unread(self, path: Path, entry: dict[str, Any] | None) -> bool:
        if entry is None:
            return True
        stat = path.stat()
        grown_or_new = stat.st_size != entry["size"] or stat.st_mtime != entry["mtime"]
        return not entry["done"] or grown_or_new


def build(query: str, config: dict[str, Any], settings: Settings) -> FileCollector:
    """A drop-folder collector for a source's config."""
    return FileCollector(parse_config(FileSourceConfig, "file", config))
