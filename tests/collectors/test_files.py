from __future__ import annotations

import json

import pytest

from collectors.files import LineError, ParsedLine, detect_format, iter_file
from core.errors import ConfigError


def _split(items):
    good = [i for i in items if isinstance(i, ParsedLine)]
    bad = [e for i in items if not isinstance(i, ParsedLine) for e in i]
    return good, bad


GOOD = {
    "platform": "twitter",
    "external_id": "1",
    "text": "hi",
    "created_at": "2026-11-20T10:00:00Z",
}


def test_jsonl_errors_name_file_line_and_field(tmp_path):
    path = tmp_path / "in.jsonl"
    lines = [
        json.dumps(GOOD),
        "",
        json.dumps({**GOOD, "external_id": "2", "rating": 9}),
        "{not json",
        json.dumps([1, 2]),
        json.dumps({**GOOD, "external_id": "3", "surprise": 1}),
        json.dumps({**GOOD, "external_id": "4", "created_at": "yesterday"}),
        json.dumps({**GOOD, "external_id": "5", "url": "javascript:alert(1)"}),
    ]
    path.write_text("\n".join(lines) + "\n")
    good, bad = _split(list(iter_file(path)))
    assert [g.line for g in good] == [1]
    assert [(e.line, e.field) for e in bad] == [
        (3, "rating"),
        (4, "(line)"),
        (5, "(line)"),
        (6, "surprise"),
        (7, "created_at"),
        (8, "url"),
    ]
    assert str(bad[0]).startswith(f"{path}:3: rating: ")


def test_invalid_utf8_line_is_an_error_and_the_rest_survive(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(
        json.dumps(GOOD).encode()
        + b"\n"
        + b'{"text": "\xff\xfe"}\n'
        + json.dumps({**GOOD, "external_id": "2"}).encode()
    )
    good, bad = _split(list(iter_file(path)))
    assert [g.line for g in good] == [1, 3]
    assert bad == [LineError(str(path), 2, "(line)", "invalid UTF-8 at byte 10")]


def test_csv_flat_columns_become_author_and_metrics(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(
        "platform,external_id,text,created_at,author_handle,author_followers,likes,rating\n"
        "twitter,1,hello,2026-11-20T10:00:00Z,ann,120,4,\n"
        "appstore,2,Bad app,2026-11-20T10:00:00Z,,,,1\n"
        "twitter,3,,2026-11-20T10:00:00Z,,,,\n"
        "twitter,4,x,2026-11-20T10:00:00Z,,,,,extra\n"
    )
    good, bad = _split(list(iter_file(path)))
    assert len(good) == 2
    first = good[0].mention
    assert first.author is not None and first.author.handle == "ann"
    assert first.author.followers == 120 and first.metrics == {"likes": 4}
    assert good[1].mention.kind == "review"
    assert [(e.line, e.field) for e in bad] == [(4, "text"), (5, "(line)")]


def test_csv_without_text_column_is_rejected(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("platform,external_id\ntwitter,1\n")
    _, bad = _split(list(iter_file(path)))
    assert bad[0].field == "(header)"


def test_unknown_extension_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError):
        detect_format(tmp_path / "data.xml")
