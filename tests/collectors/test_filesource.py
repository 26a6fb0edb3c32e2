"""Drop-folder source: new files, grown files, bad lines, budget, resume, through the runner."""

from __future__ import annotations

import json
import os

import pytest
from sqlalchemy import func, select

from collectors import service as sources
from collectors.base import Budget, SourceConfigError
from collectors.filesource import FileCollector, FileSourceConfig
from collectors.models import Mention
from collectors.runner import run_source
from collectors.schemas import SourceCreate
from core.db import unit_of_work


def _line(i, **kw):
    data = {
        "platform": "twitter",
        "external_id": str(i),
        "text": f"mention {i}",
        "created_at": "2026-11-20T10:00:00Z",
    }
    data.update(kw)
    return json.dumps(data)


def _write(path, lines, mtime=None):
    path.write_text("\n".join(lines) + "\n")
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def collector(tmp_path):
    return FileCollector(FileSourceConfig(path=str(tmp_path)))


def test_reads_files_oldest_first_and_marks_them_done(tmp_path):
    _write(tmp_path / "b.jsonl", [_line(3)], mtime=2_000_000_000)
    _write(tmp_path / "a.jsonl", [_line(1), _line(2)], mtime=1_900_000_000)
    (tmp_path / "ignored.jsonl.tmp").write_text(_line(9))
    c = collector(tmp_path)
    first = c.fetch({}, Budget())
    assert [m.external_id for m in first.mentions] == ["1", "2"] and first.more is True
    second = c.fetch(first.cursor, Budget())
    assert [m.external_id for m in second.mentions] == ["3"] and second.more is False
    third = c.fetch(second.cursor, Budget())
    assert third.mentions == [] and third.more is False and third.requests == 0


def test_a_grown_file_continues_after_the_last_line(tmp_path):
    path = tmp_path / "feed.jsonl"
    _write(path, [_line(1)])
    c = collector(tmp_path)
    cursor = c.fetch({}, Budget()).cursor
    _write(path, [_line(1), _line(2)], mtime=2_000_000_000)
    batch = c.fetch(cursor, Budget())
    assert [m.external_id for m in batch.mentions] == ["2"]


def test_budget_splits_a_file_and_resumes_by_line(tmp_path):
    _write(tmp_path / "x.jsonl", [_line(i) for i in range(5)])
    c = collector(tmp_path)
    first = c.fetch({}, Budget(max_items=2))
    assert [m.external_id for m in first.mentions] == ["0", "1"] and first.more
    rest = c.fetch(first.cursor, Budget(max_items=10))
    assert [m.external_id for m in rest.mentions] == ["2", "3", "4"] and not rest.more


def test_bad_lines_are_skipped_with_their_reason(tmp_path):
    _write(tmp_path / "x.jsonl", [_line(1), "{oops", _line(2, rating=9)])
    batch = collector(tmp_path).fetch({}, Budget())
    assert [m.external_id for m in batch.mentions] == ["1"]
    assert len(batch.skipped) == 2 and ":2: (line): invalid JSON" in batch.skipped[0]


def test_csv_files_are_read_too(tmp_path):
    (tmp_path / "x.csv").write_text("platform,external_id,text,created_at\nrss,a,hi,2026-11-20\n")
    batch = collector(tmp_path).fetch({}, Budget())
    assert [m.external_id for m in batch.mentions] == ["a"]


def test_missing_folder_is_a_config_error(tmp_path):
    with pytest.raises(SourceConfigError):
        collector(tmp_path / "nope").fetch({}, Budget())


def test_scheduled_collection_through_the_runner(session_factory, settings, tmp_path):
    _write(tmp_path / "a.jsonl", [_line(i) for i in range(3)])
    with unit_of_work(session_factory) as session:
        source_id = sources.create_source(
            session, SourceCreate(name="drop", platform="file", config={"path": str(tmp_path)})
        ).id
    result = run_source(session_factory, settings, source_id)
    assert (result.status, result.inserted) == ("ok", 3)
    again = run_source(session_factory, settings, source_id)
    assert again.fetched == 0
    with session_factory() as session:
        assert session.scalar(select(func.count(Mention.id))) == 3
