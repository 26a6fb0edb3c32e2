from __future__ import annotations

import json

import pytest

from sentiment.evaluate import (
    airline_holdout,
    dedupe_key,
    evaluate,
    evaluate_categories,
    format_category_report,
    format_report,
    normalise_label,
    only_holdout,
    read_category_csv,
    read_labelled_csv,
)


def test_perfect_predictions():
    gold = ["negative", "neutral", "positive", "positive"]
    r = evaluate(gold, gold)
    assert r.accuracy == 1 and r.macro_recall == 1 and r.macro_f1 == 1
    assert r.confusion == [[1, 0, 0], [0, 1, 0], [0, 0, 2]]
    assert r.per_class["positive"].support == 2


def test_known_confusion():
    gold = ["negative", "negative", "neutral", "neutral", "positive", "positive"]
    pred = ["negative", "neutral", "neutral", "neutral", "negative", "positive"]
    r = evaluate(gold, pred)
    # rows gold, columns predicted (negative, neutral, positive)
    assert r.confusion == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert r.accuracy == pytest.approx(4 / 6)
    assert r.macro_recall == pytest.approx((0.5 + 1.0 + 0.5) / 3)
    neg = r.per_class["negative"]
    assert (neg.precision, neg.recall) == (pytest.approx(0.5), pytest.approx(0.5))
    assert r.per_class["neutral"].precision == pytest.approx(2 / 3)
    assert r.per_class["positive"].precision == pytest.approx(1.0)
    assert r.per_class["neutral"].f1 == pytest.approx(2 * (2 / 3) * 1 / (2 / 3 + 1))


def test_missing_predictions_count_as_wrong_and_unscored():
    r = evaluate(["negative", "positive"], ["negative", None])
    assert r.unscored == 1 and r.accuracy == 0.5
    assert r.per_class["positive"].recall == 0


def test_absent_class_does_not_drag_macro_recall():
    r = evaluate(["negative", "positive"], ["negative", "positive"])
    assert r.macro_recall == 1.0


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="gold labels"):
        evaluate(["negative"], [])
    with pytest.raises(ValueError, match="not one of"):
        evaluate(["angry"], ["negative"])


@pytest.mark.parametrize(
    ("raw", "label"),
    [
        ("negative", "negative"),
        (" Positive ", "positive"),
        ("NEUTRAL", "neutral"),
        ("neg", "negative"),
        ("-1", "negative"),
        ("1", "positive"),
        ("0", "neutral"),
        ("", None),
        ("mixed", None),
        (None, None),
    ],
)
def test_normalise_label(raw, label):
    assert normalise_label(raw) == label


def test_format_report_lists_classes_and_matrix():
    text = format_report(evaluate(["negative", "positive"], ["negative", "neutral"]), "t")
    assert text.splitlines()[0] == "t"
    assert "macro-recall=0.5000" in text and "confusion" in text
    assert all(label in text for label in ("negative", "neutral", "positive"))


def test_read_labelled_csv_skips_unknown_labels_and_replaces_bad_bytes(tmp_path):
    path = tmp_path / "l.csv"
    path.write_bytes(
        b"tweet_id,airline,sentiment,text\n"
        b"1,United,negative,late again\n"
        b"2,United,mixed,meh\n"
        b"3,United,Positive,caf\xe9 was great\n"
    )
    rows = read_labelled_csv(path, label_column="sentiment")
    assert rows.labels == ["negative", "positive"] and rows.ids == ["1", "3"]
    assert rows.skipped == 1 and "\ufffd" in rows.texts[1]
    with pytest.raises(ValueError, match="no column 'label'"):
        read_labelled_csv(path)


def test_holdout_is_a_stable_fifth():
    ids = [str(570000000000000000 + i) for i in range(5000)]
    held = [i for i in ids if airline_holdout(i)]
    assert 0.17 < len(held) / len(ids) < 0.23
    assert held == [i for i in ids if airline_holdout(i)]  # deterministic
    assert airline_holdout(" 42 ") == airline_holdout("42")


def test_only_holdout_filters_rows(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("tweet_id,label,text\n" + "".join(f"{i},neutral,t{i}\n" for i in range(50)))
    rows = only_holdout(read_labelled_csv(path))
    assert rows.ids and all(airline_holdout(i) for i in rows.ids)
    assert len(rows.texts) == len(rows.labels) == len(rows.ids)


def test_dedupe_key_ignores_handles_links_case_and_spaces():
    a = dedupe_key("@united  Thanks for NOTHING http://t.co/x")
    assert a == dedupe_key("@AmericanAir thanks for nothing")
    assert a == "thanks for nothing"


# ------------------------------------------------------------------ complaint categories


def test_category_metrics_with_misses_and_uncategorised():
    gold = ["Late", "Late", "Late", "Lost", "Rude"]
    pred = ["Late", "Lost", None, "Lost", "Late"]
    r = evaluate_categories(gold, pred)
    assert (r.n, r.accuracy, r.coverage, r.covered_accuracy) == (5, 0.4, 0.8, 0.5)
    assert (r.majority_label, r.majority_accuracy) == ("Late", 0.6)
    assert list(r.per_label) == ["Late", "Lost", "Rude"]
    late, lost, rude = r.per_label["Late"], r.per_label["Lost"], r.per_label["Rude"]
    assert (late.precision, late.recall, late.support) == (0.5, pytest.approx(1 / 3), 3)
    assert late.f1 == pytest.approx(0.4)
    assert (lost.precision, lost.recall, lost.f1, lost.support) == (
        0.5,
        1.0,
        pytest.approx(2 / 3),
        1,
    )
    assert (rude.precision, rude.recall, rude.f1, rude.support) == (0.0, 0.0, 0.0, 1)


def test_category_metrics_perfect_and_empty():
    r = evaluate_categories(["a", "b", "b"], ["a", "b", "b"])
    assert (r.accuracy, r.coverage, r.covered_accuracy) == (1.0, 1.0, 1.0)
    assert (r.majority_label, r.majority_accuracy) == ("b", pytest.approx(2 / 3))
    assert all(s.f1 == 1.0 for s in r.per_label.values())
    empty = evaluate_categories([], [])
    assert (empty.n, empty.accuracy, empty.coverage, empty.majority_label) == (0, 0.0, 0.0, "")
    nothing = evaluate_categories(["a"], [None])
    assert (nothing.accuracy, nothing.coverage, nothing.covered_accuracy) == (0.0, 0.0, 0.0)


def test_category_majority_tie_is_the_first_label_alphabetically():
    r = evaluate_categories(["b", "a", "b", "a"], ["a", "a", "a", "a"])
    assert (r.majority_label, r.majority_accuracy) == ("a", 0.5)


def test_category_metrics_reject_length_mismatch():
    with pytest.raises(ValueError, match="differ in length"):
        evaluate_categories(["a"], [])


def test_category_report_to_dict_is_plain_json():
    d = evaluate_categories(["a", "b"], ["a", None]).to_dict()
    assert d == {
        "n": 2,
        "accuracy": 0.5,
        "majority_label": "a",
        "majority_accuracy": 0.5,
        "coverage": 0.5,
        "covered_accuracy": 1.0,
        "per_label": {
            "a": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1},
            "b": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1},
        },
    }
    assert json.loads(json.dumps(d)) == d


def test_format_category_report():
    r = evaluate_categories(["Late", "Late", "Lost Luggage"], ["Late", None, "Late"])
    assert format_category_report(r, "title").splitlines() == [
        "title",
        "n 3  accuracy 0.3333  majority baseline 0.6667 (Late)",
        "coverage 0.6667  accuracy where categorised 0.5000",
        "label         precision  recall  f1      support",
        "Late          0.5000     0.5000  0.5000  2",
        "Lost Luggage  0.0000     0.0000  0.0000  1",
    ]
    untitled = format_category_report(evaluate_categories(["a"], ["a"]))
    assert untitled.splitlines()[0].startswith("n 1  accuracy 1.0000")
    assert untitled.splitlines()[2] == "label  precision  recall  f1      support"


def test_read_category_csv_filters_ignores_and_counts_skips(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(
        b"id,sentiment,negative_reason,text\n"
        b"1,negative,Late Flight,delayed again\n"
        b"2,positive,,thanks\n"
        b"3,Negative ,Can't Tell,whatever\n"
        b"4,negative,,no reason given\n"
        b"5,NEGATIVE, Lost Luggage ,caf\xe9 bag gone\n"
        b"6,negative,Bad Flight\n"
    )
    texts, labels, skipped = read_category_csv(
        path,
        "text",
        "negative_reason",
        where=("sentiment", "negative"),
        ignore=["can't tell "],
    )
    assert texts == ["delayed again", "caf\ufffd bag gone"]
    assert labels == ["Late Flight", "Lost Luggage"]
    assert skipped == 3  # Can't Tell, no label, no text (row 2 is not negative: not counted)
    texts, labels, skipped = read_category_csv(path, "text", "negative_reason")
    assert labels == ["Late Flight", "Can't Tell", "Lost Luggage"] and skipped == 3


def test_read_category_csv_names_a_missing_column(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("id,text\n1,hi\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no column 'negative_reason' \\(columns: id, text\\)"):
        read_category_csv(path, "text", "negative_reason")
    with pytest.raises(ValueError, match="no column 'sentiment'"):
        read_category_csv(path, "text", "id", where=("sentiment", "negative"))
