"""`socialcrm sentiment ...` through typer's runner; the lexicon backend except in one test."""

from __future__ import annotations

import importlib.util
import json

import pytest
from typer.testing import CliRunner

from sentiment.cli import app, read_rows, synthetic_tweets

runner = CliRunner()

HAVE_TORCH = all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers", "peft"))


def run(*args, input=None):
    return runner.invoke(app, list(args), input=input)


def lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_score_csv_keeps_order_and_reports_bad_rows(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(
        "id,body\n"
        "1,I love this airline\n"
        "2,\n"
        '3,"worst flight ever, so angry"\n'
        "4,Das ist ein furchtbar schlechter Service und ich bin sehr wütend\n"
        "5,The flight departs at 9\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    res = run("score", "--input", str(src), "--text-column", "body", "--output", str(out),
              "--backend", "lexicon")  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = lines(out.read_text(encoding="utf-8"))
    assert [r["row"] for r in rows] == [1, 2, 3, 4, 5]
    assert [r["label"] for r in rows] == ["positive", None, "negative", None, "neutral"]
    assert rows[1]["error"] == "empty text"
    assert rows[3]["error"] == "unsupported_language" and rows[3]["lang"] == "de"
    for r in (rows[0], rows[2], rows[4]):
        assert set(r["scores"]) == {"negative", "neutral", "positive"}
        assert abs(sum(r["scores"].values()) - 1) < 1e-4
    assert "scored 3 of 5 rows (2 not scored)" in res.stderr


def test_score_plain_text_with_invalid_utf8(tmp_path):
    src = tmp_path / "in.txt"
    src.write_bytes(b"great service, thanks!\n\xff\xfe terrible \xc3 delay\n\n\xf0\x9f\x98\xa1\n")
    res = run("score", "--input", str(src), "--backend", "lexicon")
    assert res.exit_code == 0, res.output
    rows = lines(res.stdout)
    assert [r["label"] for r in rows] == ["positive", "negative", None, "neutral"]
    assert rows[1]["warning"] == "invalid UTF-8 replaced"
    assert rows[2]["error"] == "empty text"


def test_score_stdin(tmp_path):
    res = run("score", "--input", "-", "--backend", "lexicon", input="awful\n\nlovely day\n")
    assert res.exit_code == 0, res.output
    assert [r["label"] for r in lines(res.stdout)] == ["negative", None, "positive"]


def test_score_stdin_as_csv():
    res = run("score", "-i", "-", "--format", "csv", "--backend", "lexicon",
              input='text\n"a\nmulti-line, awful post"\nnice\n')  # fmt: skip
    assert res.exit_code == 0, res.output
    assert [r["label"] for r in lines(res.stdout)] == ["negative", "positive"]


def test_score_without_the_column_fails_cleanly(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("body\nhello\n")
    res = run("score", "--input", str(src), "--backend", "lexicon")
    assert res.exit_code != 0
    assert "no column 'text'" in res.output


def test_score_missing_file():
    res = run("score", "--input", "/nonexistent/file.txt", "--backend", "lexicon")
    assert res.exit_code != 0 and "no such file" in res.output


def test_score_huge_and_emoji_rows(tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("bad " * 25_000 + "\n😡😡😡\n", encoding="utf-8")
    res = run("score", "--input", str(src), "--backend", "lexicon")
    assert res.exit_code == 0, res.output
    rows = lines(res.stdout)
    assert len(rows) == 2 and rows[0]["label"] == "negative" and rows[1]["label"]


def test_eval_json_on_a_small_csv(tmp_path):
    src = tmp_path / "l.csv"
    src.write_text(
        "tweet_id,sentiment,text\n"
        "1,negative,this is the worst airline\n"
        "2,positive,love the crew thank you\n"
        "3,neutral,flight 12 leaves from gate 4\n"
        "4,neutral,what a great day\n"
        "5,unknown,ignored row\n"
    )
    res = run("eval", "--input", str(src), "--label-column", "sentiment", "--json",
              "--backend", "lexicon")  # fmt: skip
    assert res.exit_code == 0, res.output
    body = json.loads(res.stdout)
    assert body["n"] == 4 and body["skipped_rows"] == 1 and body["model"] == "vader"
    assert body["accuracy"] == pytest.approx(0.75)
    assert body["macro_recall"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert body["confusion"] == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    assert set(body["per_class"]["neutral"]) == {"precision", "recall", "f1", "support"}


def test_eval_text_output_and_bad_column(tmp_path):
    src = tmp_path / "l.csv"
    src.write_text("text,label\nawful,negative\nlovely,positive\n")
    res = run("eval", "--input", str(src), "--backend", "lexicon")
    assert res.exit_code == 0, res.output
    assert "macro-recall=1.0000" in res.stdout and "confusion" in res.stdout
    res = run("eval", "--input", str(src), "--label-column", "gold", "--backend", "lexicon")
    assert res.exit_code != 0 and "no column 'gold'" in res.output


def test_bench_lexicon_prints_figures(tmp_path):
    src = tmp_path / "t.csv"
    src.write_text("text\nhello\nawful\n")
    res = run("bench", "--n", "50", "--input", str(src), "--backend", "lexicon")
    assert res.exit_code == 0, res.output
    assert "throughput" in res.stdout and "peak RSS" in res.stdout and "50 from" in res.stdout


def test_read_rows_plain_text_keeps_blank_lines(tmp_path):
    src = tmp_path / "x.txt"
    src.write_bytes(b"a\r\n\r\nb")
    rows = list(read_rows(str(src)))
    assert [(r.text, r.error) for r in rows] == [("a", None), (None, "empty text"), ("b", None)]


def test_synthetic_tweets_are_deterministic():
    assert synthetic_tweets(5, seed=1) == synthetic_tweets(5, seed=1)
    assert len(synthetic_tweets(7)) == 7


@pytest.mark.skipif(not HAVE_TORCH, reason="torch/transformers/peft not installed")
def test_score_with_the_bundled_model(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes(
        b"text\n"
        b"@united worst airline ever. Lost my bag and nobody answers the phone\n"
        b'"Thank you so much, the crew was amazing and friendly!"\n'
        b'""\n'
        b"Das ist ein furchtbar schlechter Service und ich bin sehr w\xfctend\n"
        b"Das ist ein furchtbar schlechter Service und ich bin sehr w\xc3\xbctend\n"
        b"\xf0\x9f\x98\xa1\xf0\x9f\x98\xa1\n"
    )
    res = run("score", "--input", str(src), "--backend", "transformer", "--threads", "1")
    assert res.exit_code == 0, res.output
    rows = lines(res.stdout)
    assert [r["row"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0]["label"] == "negative" and rows[1]["label"] == "positive"
    assert rows[2]["label"] is None and rows[2]["error"] == "empty text"
    # the CSV holds one invalid byte: every row is decoded with replacement, only row 4 has it
    assert rows[3]["warning"] == "invalid UTF-8 replaced"
    assert rows[4]["label"] is None and rows[4]["error"] == "unsupported_language"
    assert rows[5]["label"] in ("negative", "neutral", "positive")
    assert "minilm-tweet-sentiment" in res.stderr


# ------------------------------------------------------------------ eval-categories

CATEGORY_CSV = (
    "id,sentiment,negative_reason,text\n"
    "1,negative,Late Flight,@air flight delayed again\n"
    "2,negative,Lost Luggage,you lost my luggage\n"
    "3,negative,Late Flight,my bag is missing\n"
    "4,negative,Late Flight,terrible hmm\n"
    "5,negative,Can't Tell,whatever\n"
    "6,positive,,thanks\n"
    "7,negative,,x\n"
)
CATEGORY_TAXONOMY = {
    "categories": [
        {
            "key": "late",
            "name": "Late",
            "label": "Late Flight",
            "description": "flight delayed, late departure",
            "examples": ["flight delayed three hours"],
        },
        {
            "key": "lost",
            "name": "Lost Luggage",
            "description": "lost bag, luggage missing",
            "examples": ["lost my luggage"],
        },
    ]
}


@pytest.fixture
def category_files(tmp_path):
    data = tmp_path / "cats.csv"
    data.write_text(CATEGORY_CSV, encoding="utf-8")
    taxonomy = tmp_path / "tax.json"
    taxonomy.write_text(json.dumps(CATEGORY_TAXONOMY), encoding="utf-8")
    return data, taxonomy


def test_eval_categories_json(category_files):
    data, taxonomy = category_files
    res = run("eval-categories", "-i", str(data), "--taxonomy", str(taxonomy),
              "--backend", "lexicon", "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out.pop("texts_per_second") > 0
    assert out == {
        "embedder": "hashed-bag-of-words",
        "taxonomy": str(taxonomy),
        "min_similarity": 0.15,
        "skipped": 2,
        "n": 4,
        "accuracy": 0.5,
        "majority_label": "Late Flight",
        "majority_accuracy": 0.75,
        "coverage": 0.75,
        "covered_accuracy": pytest.approx(2 / 3),
        "per_label": {
            "Late Flight": {
                "precision": 1.0,
                "recall": pytest.approx(1 / 3),
                "f1": 0.5,
                "support": 3,
            },
            "Lost Luggage": {
                "precision": 0.5,
                "recall": 1.0,
                "f1": pytest.approx(2 / 3),
                "support": 1,
            },
        },
    }


def test_eval_categories_text_report_and_options(category_files):
    data, taxonomy = category_files
    res = run("eval-categories", "-i", str(data), "--taxonomy", str(taxonomy),
              "--backend", "lexicon", "--min-similarity", "0.99")  # fmt: skip
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0] == f"hashed-bag-of-words, taxonomy {taxonomy}, {data}"
    assert lines[1] == "n 4  accuracy 0.0000  majority baseline 0.7500 (Late Flight)"
    assert lines[2] == "coverage 0.0000  accuracy where categorised 0.0000"
    assert "skipped 2 rows without a usable category label" in lines
    assert lines[-1].endswith(" texts/s")
    # No --where and nothing ignored: every labelled row counts, "Can't Tell" included.
    res = run("eval-categories", "-i", str(data), "--taxonomy", str(taxonomy),
              "--backend", "lexicon", "--where", "", "--ignore", "nothing", "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert (out["n"], out["skipped"]) == (5, 2)
    assert "Can't Tell" in out["per_label"]


def test_eval_categories_bundled_taxonomy_by_name(category_files):
    data, _ = category_files
    res = run("eval-categories", "-i", str(data), "--taxonomy", "airline",
              "--backend", "lexicon", "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["taxonomy"] == "airline" and out["n"] == 4
    assert out["per_label"]["Late Flight"]["support"] == 3


def test_eval_categories_bad_input_is_a_one_line_error(category_files, tmp_path):
    data, taxonomy = category_files
    res = run("eval-categories", "-i", str(data), "--taxonomy", str(taxonomy),
              "--backend", "lexicon", "--where", "sentiment")  # fmt: skip
    assert (res.exit_code, res.stderr.strip()) == (2, "error: --where takes COLUMN=VALUE")
    res = run("eval-categories", "-i", str(data), "--taxonomy", str(taxonomy),
              "--backend", "lexicon", "--label-column", "reason")  # fmt: skip
    assert res.exit_code == 2
    assert res.stderr.strip().startswith(f"error: {data}: no column 'reason'")
    missing = tmp_path / "missing.json"
    res = run("eval-categories", "-i", str(data), "--taxonomy", str(missing),
              "--backend", "lexicon")  # fmt: skip
    assert res.exit_code == 2
    assert res.stderr.strip().startswith(f"error: cannot read taxonomy {missing}")
    res = run("eval-categories", "-i", str(tmp_path / "nope.csv"), "--backend", "lexicon")
    assert res.exit_code == 2 and "does not exist" in res.output
