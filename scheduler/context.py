"""What scheduled jobs need at run time; set once per process, never pickled into the job store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings


@dataclass
class JobContext:
    """The process's session factory, settings and (when running) scheduler."""

    session_factory: sessionmaker[Session]
    settings: Settings
    scheduler: Any = None


_context: JobContext | None = None


def set_context(context: JobContext) -> None:
    """Install the context jobs of this process run with."""
    global _context
    _context = context


def get_context() -> JobContext:
    """The installed context (a job run before `set_context` is a programming error)."""
    if _context is None:
        raise RuntimeError("scheduler context not set: call scheduler.context.set_context first")
    return _context
