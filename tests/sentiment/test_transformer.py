"""The bundled transformer model for real: fixed labels, batching, bad input, languages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

# Before transformers is imported (importorskip imports it): huggingface_hub reads this once.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytest.importorskip("torch", reason="torch not installed: the transformer backend needs it")
pytest.importorskip(
    "transformers", reason="transformers not installed: the transformer backend needs it"
)
pytest.importorskip("peft", reason="peft not installed: the transformer backend needs it")

from collectors import service as collect
from core.errors import ConfigError
from sentiment import service
from sentiment.classifier import SentimentModel
from sentiment.langid import detect, is_supported
from sentiment.models import SentimentResult
from sentiment.transformer import (
    BUNDLED_DIR,
    BUNDLED_NAME,
    TRAINED_WEIGHTS,
    TransformerModel,
    base_model_path,
    label_index,
    preprocess,
)
from tests.conftest import AIRLINE_COMPLAINTS, mention

FIXED = [
    ("@united worst airline ever. Lost my bag and nobody answers the phone", "negative"),
    ("Thank you so much, the crew was amazing and friendly!", "positive"),
    ("I love this app, it makes my day so much easier", "positive"),
    ("My phone screen cracked again, this is so frustrating", "negative"),
    ("The store opens at 9am on Monday", "neutral"),
    ("Flight 1234 to Denver departs from gate B7 tomorrow morning", "neutral"),
    ("@AmericanAir on hold for 2 hours now, ridiculous and unacceptable", "negative"),
    ("Happy birthday to my best friend, have a great day!", "positive"),
]


@pytest.fixture(scope="module")
def model() -> TransformerModel:
    return TransformerModel.load(threads=2)


@pytest.fixture(scope="module")
def fp32() -> TransformerModel:
    return TransformerModel.load(threads=2, quantize=False, batch_size=4)


def test_bundled_model_is_small_and_described():
    files = list(BUNDLED_DIR.iterdir())
    # Rank-32 factors of the changed matrices: a few MB, not the 22 MB of whole tensors.
    assert sum(f.stat().st_size for f in files) < 5_000_000
    names = {f.name for f in files}
    assert {TRAINED_WEIGHTS, "socialcrm.json", "tokenizer.json"} <= names
    assert "README.md" in names and "model.safetensors" not in names  # never the base weights
    meta = json.loads((BUNDLED_DIR / "socialcrm.json").read_text())
    assert meta["name"] == BUNDLED_NAME and meta["labels"] == ["negative", "neutral", "positive"]
    assert meta["version"].startswith("full-")
    assert meta["val_scores"]["best"]["macro_recall"] > 0.6


def test_trained_weights_leave_the_base_embeddings_out():
    from safetensors.torch import load_file

    stored = load_file(str(BUNDLED_DIR / TRAINED_WEIGHTS))
    assert "bert.embeddings.word_embeddings.weight" not in stored
    assert "classifier.weight" in stored


def test_loads_and_satisfies_the_protocol(model):
    assert model.max_length == 128 and model.batch_size == 64
    assert model.load_seconds > 0
    assert isinstance(model, SentimentModel)
    assert model.name == BUNDLED_NAME
    assert model.version.endswith("+int8")
    assert model.languages == frozenset({"en"})


def test_fixed_set_gets_the_expected_labels(model):
    preds = model.predict([text for text, _ in FIXED])
    assert [p.label for p in preds] == [label for _, label in FIXED]
    for p in preds:
        assert abs(p.negative + p.neutral + p.positive - 1) < 1e-5
        assert p.label == max(p.scores, key=p.scores.__getitem__)


def test_int8_and_fp32_agree(model, fp32):
    texts = [text for text, _ in FIXED]
    assert [p.label for p in model.predict(texts)] == [p.label for p in fp32.predict(texts)]


def test_order_survives_length_sorted_batching(fp32):
    texts = [text for text, _ in FIXED]
    texts += [f"{t} {'and then some more words ' * k}" for k, t in enumerate(texts[:5])]
    texts += ["ok", "", "terrible"]
    batched = fp32.predict(texts)  # batch_size 4: several length-sorted batches
    one_by_one = [fp32.predict([t])[0] for t in texts]
    for a, b in zip(batched, one_by_one, strict=True):
        assert a.label == b.label
        assert abs(a.negative - b.negative) < 1e-4 and abs(a.positive - b.positive) < 1e-4
    reverse = fp32.predict(texts[::-1])
    assert [p.label for p in reverse] == [p.label for p in batched][::-1]


def test_bad_input_still_gets_a_prediction(model):
    huge = "the delay was bad " * 6000  # ~100 KB
    assert len(huge.encode()) > 100_000
    broken = b"gr\xffeat fl\xc3ight \xf0\x9f".decode("utf-8", errors="replace")
    started = time.perf_counter()
    preds = model.predict(["", "   ", "😡😡😡", "🙂🙂", huge, broken, "\x00\x01"])
    assert time.perf_counter() - started < 10
    assert len(preds) == 7
    for p in preds:
        assert p.label in ("negative", "neutral", "positive")
        assert abs(sum(p.scores.values()) - 1) < 1e-5
    assert model.predict([]) == []


def test_builtin_lora_merge_equals_peft(tmp_path_factory):
    from sentiment.train import TrainConfig, TrainingData, train

    rows = [("awful delay", 0), ("gate b7", 1), ("love it", 2)] * 8
    out = tmp_path_factory.mktemp("lora")
    config = TrainConfig(
        output_dir=out, name="tiny-lora", method="lora", lr=6e-4, batch_size=8, max_steps=2,
        evals_per_epoch=1, threads=2,
    )  # fmt: skip
    train(config, data=TrainingData(rows, rows[:3], {"tiny": len(rows)}), echo=lambda _: None)
    ours = TransformerModel.load(str(out), threads=2, quantize=False)
    via_peft = TransformerModel.load(str(out), threads=2, quantize=False, use_peft=True)
    mine, theirs = ours.model.state_dict(), via_peft.model.state_dict()
    assert set(mine) == set(theirs)
    assert max((mine[k] - theirs[k]).abs().max().item() for k in mine) < 1e-5
    assert via_peft.version == ours.version


def test_service_scores_english_and_marks_other_languages(session, model):
    collect.ingest(
        session,
        [
            mention("1", "@united worst airline ever, lost my bag", language="en"),
            mention("2", "Das ist der schlechteste Service, den ich je erlebt habe", language="de"),
            mention("3", "Service horrible, je suis très déçu", language="fr"),
            mention("4", "Thank you, the crew was amazing!", language="und"),
        ],
    )
    report = service.score_pending(session, model)
    assert (report.scored, report.unsupported_language) == (2, 2)
    rows = {r.mention_id: r for r in session.scalars(select(SentimentResult))}
    by_status = sorted((r.status, r.label) for r in rows.values())
    assert by_status == [
        ("scored", "negative"),
        ("scored", "positive"),
        ("unsupported_language", None),
        ("unsupported_language", None),
    ]
    assert all(r.model_name == BUNDLED_NAME for r in rows.values())


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Das ist ein sehr schlechter Service, ich bin wütend auf euch", "de"),
        ("Je déteste attendre deux heures pour rien à l'aéroport", "fr"),
        ("Этот сервис просто ужасный, никогда больше не полечу", "ru"),
        ("@united my flight was delayed three hours and nobody told us why", "en"),
        ("@united thanks", "und"),  # too short to tell: scored, not skipped
        ("😡😡😡 #fail http://t.co/x", "und"),
        ("", "und"),
    ],
)
def test_language_detection(text, lang):
    assert detect(text)[0] == lang


def test_is_supported():
    en = frozenset({"en"})
    assert is_supported("Das ist ein sehr schlechter Service, ich bin wütend", en) == (False, "de")
    assert is_supported("ok", en) == (True, "und")
    assert is_supported("Das ist ein sehr schlechter Service", None) == (True, "und")


def test_preprocess_normalises_handles_and_links():
    text = "@united  see https://t.co/abc \n now email@example.com"
    assert preprocess(text) == "@user see http now email@example.com"
    assert len(preprocess("x" * 100_000)) == 2_000


@pytest.mark.parametrize(
    ("id2label", "order"),
    [
        ({0: "negative", 1: "neutral", 2: "positive"}, [0, 1, 2]),
        ({0: "Positive", 1: "Negative", 2: "Neutral"}, [1, 2, 0]),
        ({"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"}, [0, 1, 2]),  # cardiffnlp order
        ({0: "neg", 1: "neu", 2: "pos"}, [0, 1, 2]),
    ],
)
def test_label_index(id2label, order):
    assert label_index(id2label) == order


@pytest.mark.parametrize(
    "id2label",
    [{0: "negative", 1: "positive"}, {0: "joy", 1: "anger", 2: "fear"}],
)
def test_label_index_rejects_other_label_sets(id2label):
    with pytest.raises(ConfigError):
        label_index(id2label)


def _tiny_classifier(path: Path, id2label: dict[int, str], winner: int) -> None:
    """A tiny random BERT classifier whose head always picks index `winner`."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    torch.manual_seed(0)
    tiny = BertForSequenceClassification(config)
    with torch.no_grad():
        tiny.classifier.weight.zero_()
        bias = torch.zeros(3)
        bias[winner] = 5.0
        tiny.classifier.bias.copy_(bias)
    tiny.save_pretrained(path)
    AutoTokenizer.from_pretrained(str(base_model_path())).save_pretrained(path)


def test_loads_any_local_hf_directory(tmp_path):
    """A plain HF classifier directory loads, maps labels by name, gets a content-hash version."""
    _tiny_classifier(tmp_path / "tiny", {0: "positive", 1: "negative", 2: "neutral"}, winner=0)
    loaded = TransformerModel.load(str(tmp_path / "tiny"), threads=1)
    assert loaded.name == "tiny" and len(loaded.version.split("+")[0]) == 12
    preds = loaded.predict(["anything", ""])
    assert [p.label for p in preds] == ["positive", "positive"]
    again = TransformerModel.load(str(tmp_path / "tiny"), threads=1)
    assert again.version == loaded.version


HUB_CHECK = """
from sentiment.transformer import TransformerModel
m = TransformerModel.load("socialcrm-test/tiny-sentiment", threads=1)
print(m.name, m.version, m.predict(["hello"])[0].label)
"""


def test_loads_a_hub_id_from_the_local_cache(tmp_path):
    """A hub id resolves through the HF cache (offline here); LABEL_n follows cardiffnlp's
    order, so index 1 is neutral; the snapshot commit becomes the version."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--socialcrm-test--tiny-sentiment"
    snapshot = repo / "snapshots" / commit
    _tiny_classifier(snapshot, {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, winner=1)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", HUB_CHECK],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-3:] == ["socialcrm-test/tiny-sentiment", commit[:12] + "+int8",
                                       "neutral"]  # fmt: skip


def test_missing_directory_and_unknown_hub_id_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        TransformerModel.load(str(tmp_path / "absent"))
    with pytest.raises(ConfigError, match="cannot load sentiment model"):
        TransformerModel.load("socialcrm-test/no-such-model")


def test_trained_state_adds_low_rank_differences_and_rejects_misfits():
    import torch

    from sentiment.transformer import trained_state

    own = {"w": torch.ones(4, 3), "b": torch.zeros(4)}
    b, a = torch.arange(4.0).reshape(4, 1), torch.ones(1, 3)
    out = trained_state({"w.delta_b": b, "w.delta_a": a, "b": torch.full((4,), 2.0)}, own)
    assert torch.equal(out["w"], 1 + b @ a) and torch.equal(out["b"], torch.full((4,), 2.0))
    for bad in (
        {"x": torch.zeros(1)},  # no such tensor in the base
        {"w.delta_b": b},  # half a pair
        {"w.delta_a": a},
        {"w.delta_b": torch.ones(3, 1), "w.delta_a": torch.ones(1, 3)},  # wrong shape
        {"x.delta_b": b, "x.delta_a": a},
    ):
        with pytest.raises(ValueError):
            trained_state(bad, own)


def test_a_misfit_trained_weights_file_is_a_config_error(tmp_path):
    import torch
    from safetensors.torch import save_file

    save_file({"bert.nothing.delta_b": torch.ones(2, 1)}, str(tmp_path / TRAINED_WEIGHTS))
    with pytest.raises(ConfigError, match="does not fit"):
        TransformerModel.load(str(tmp_path), threads=1)


def test_bundled_model_categorises_from_its_own_scoring_pass(model, tmp_path, monkeypatch):
    import numpy as np

    from core.settings import Settings
    from sentiment import categories, classifier
    from sentiment.categories import SharedEncoder, load_categoriser, load_taxonomy_file

    assert model.sentence_vectors
    monkeypatch.setattr(categories, "_categorisers", {})
    monkeypatch.setattr(classifier, "_models", {})
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", _env_file=None)
    shared = load_categoriser(settings)
    assert isinstance(shared.embedder, SharedEncoder)
    assert shared.embedder.model is classifier.load_model(settings)  # one model, not two

    complaints = {
        **AIRLINE_COMPLAINTS,
        "you charged my card twice this month": "billing",
    }
    taxonomy = load_taxonomy_file("airline") + [
        c for c in load_taxonomy_file("default") if c.key == "billing"
    ]
    texts = list(complaints)
    preds, vectors = model.predict_with_vectors(texts)
    assert [p.label for p in preds] == [p.label for p in model.predict(texts)]
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    matches = shared.categorise(taxonomy, texts, vectors)
    assert [m.key for m in matches] == list(complaints.values())
    assert all(0.4 < m.score <= 1.0 for m in matches)
