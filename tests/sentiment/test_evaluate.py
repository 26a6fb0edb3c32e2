from __future__ import annotations

import pytest

from sentiment.evaluate import (
    airline_holdout,
    dedupe_key,
    evaluate,
    format_report,
    normalise_label,
    only_holdout,
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
