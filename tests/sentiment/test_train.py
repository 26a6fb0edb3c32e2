"""Training pipeline: a tiny run on synthetic rows writes a model the loader accepts."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

# Before transformers is imported (importorskip imports it): huggingface_hub reads this once.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytest.importorskip("torch", reason="torch not installed: training needs it")
pytest.importorskip("transformers", reason="transformers not installed: training needs it")
pytest.importorskip("peft", reason="peft not installed: training needs it")

import torch

from core.errors import ConfigError
from sentiment.evaluate import airline_holdout, dedupe_key
from sentiment.train import (
    AIRLINE,
    DEFAULT_DATA_DIR,
    SEMEVAL_TRAIN,
    TrainConfig,
    TrainingData,
    class_weights,
    length_grouped_batches,
    load_training_data,
    train,
)
from sentiment.transformer import TransformerModel

SHARED = DEFAULT_DATA_DIR
needs_shared = pytest.mark.skipif(
    not (SHARED / SEMEVAL_TRAIN).is_file(),
    reason=f"shared data sets absent ({SHARED.resolve()}): run from the project root "
    "next to ../shared",
)

NEG = ["this is awful", "worst delay ever", "lost my bag again", "terrible service"]
NEU = ["the flight leaves at 9", "gate changed to b7", "landing in denver", "ticket number 12"]
POS = ["love this crew", "great flight thanks", "amazing service", "best airline ever"]


def synthetic(n: int) -> list[tuple[str, int]]:
    rows = []
    for i in range(n):
        label = i % 3
        rows.append(((NEG, NEU, POS)[label][i % 4] + f" #{i}", label))
    return rows


def tiny_full(out: Path, **overrides: Any) -> TrainConfig:
    """A few steps of full fine-tuning; plain (no distillation, whole tensors) unless told."""
    settings: dict[str, Any] = {
        "output_dir": out,
        "method": "full",
        "lr": 1e-4,
        "batch_size": 16,
        "max_steps": 3,
        "evals_per_epoch": 1,
        "threads": 2,
        "embed_distill": 0.0,
        "delta_rank": 0,
    }
    return TrainConfig(**{**settings, **overrides})


def test_tiny_training_run_writes_a_loadable_model(tmp_path):
    started = time.perf_counter()
    out = tmp_path / "tiny"
    out.mkdir()
    (out / "README.md").write_text("model card")  # a card next to the model survives training
    data = TrainingData(train=synthetic(64), val=synthetic(12), sources={"synthetic": 64})
    config = TrainConfig(
        output_dir=out,
        name="tiny",
        method="lora",
        lr=6e-4,
        batch_size=16,
        max_steps=4,
        evals_per_epoch=2,
        threads=2,
        embed_distill=0.0,
    )
    lines: list[str] = []
    meta = train(config, data=data, echo=lines.append)

    assert (out / "README.md").read_text() == "model card"
    for name in ("adapter_config.json", "adapter_model.safetensors", "socialcrm.json"):
        assert (out / name).is_file(), name
    assert (out / "tokenizer_config.json").is_file()
    stored = json.loads((out / "socialcrm.json").read_text())
    assert stored == json.loads(json.dumps(meta))
    for key in ("name", "version", "base", "labels", "max_length", "trained_on",
                "hyperparameters", "val_scores", "train_seconds", "hardware"):  # fmt: skip
        assert key in stored, key
    assert stored["steps"] == 4 and stored["labels"] == ["negative", "neutral", "positive"]
    assert [e["step"] for e in stored["val_scores"]["history"]] == [2, 4]
    assert sum(f.stat().st_size for f in out.iterdir()) < 8_000_000
    assert any("eval step 4" in line for line in lines)

    model = TransformerModel.load(str(out), threads=2)
    assert model.name == "tiny" and model.version == stored["version"] + "+int8"
    preds = model.predict(["love it", "", "awful"])
    assert len(preds) == 3
    assert time.perf_counter() - started < 30


def test_full_fine_tune_ships_only_the_changed_tensors(tmp_path):
    from safetensors.torch import load_file

    from sentiment.transformer import TRAINED_WEIGHTS

    out = tmp_path / "full"
    data = TrainingData(train=synthetic(64), val=synthetic(12), sources={"synthetic": 64})
    config = tiny_full(out, name="tiny-full")
    meta = train(config, data=data, echo=lambda _: None)

    assert not (out / "adapter_config.json").exists()
    stored = load_file(str(out / TRAINED_WEIGHTS))
    # Frozen word embeddings come from the base package, never from this file.
    assert "bert.embeddings.word_embeddings.weight" not in stored
    assert "classifier.weight" in stored and "bert.encoder.layer.5.output.dense.weight" in stored
    assert {t.dtype for t in stored.values()} == {torch.float16}
    assert (out / TRAINED_WEIGHTS).stat().st_size < 25_000_000
    assert meta["version"].startswith("full-")

    fp32 = TransformerModel.load(str(out), threads=2, quantize=False)
    assert fp32.name == "tiny-full" and fp32.version == meta["version"]
    trained = fp32.model.state_dict()
    for name, tensor in stored.items():
        assert trained[name].dtype == torch.float32
        assert (trained[name] == tensor.float()).all(), name
    assert len(fp32.predict(["love it", "awful"])) == 2


def test_class_weights_are_sqrt_inverse_with_mean_one():
    w = class_weights([0] * 10 + [1] * 40 + [2] * 40)
    assert np.mean(w) == pytest.approx(1.0)
    assert w[0] / w[1] == pytest.approx(2.0)  # sqrt(40 / 10)
    assert w[1] == pytest.approx(w[2])


def test_length_grouped_batches_cover_every_row_once():
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 60, size=1000).tolist()
    batches = length_grouped_batches(lengths, 32, np.random.default_rng(1), group=4)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(1000))
    assert all(len(b) <= 32 for b in batches)

    def spread(bs):
        return np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in bs])

    shuffled = np.random.default_rng(2).permutation(1000).tolist()
    plain = [shuffled[i : i + 32] for i in range(0, 1000, 32)]
    assert spread(batches) < spread(plain) / 2  # similar lengths together: little padding
    again = length_grouped_batches(lengths, 32, np.random.default_rng(1), group=4)
    assert again == batches


def test_missing_data_dir_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="training data not found"):
        load_training_data(tmp_path / "nowhere")


def test_unknown_method_is_rejected(tmp_path):
    data = TrainingData(train=synthetic(8), val=synthetic(3), sources={})
    with pytest.raises(ConfigError, match="unknown training method"):
        train(TrainConfig(output_dir=tmp_path, method="magic", max_steps=1), data=data)


@needs_shared
def test_shared_data_split_keeps_evaluation_texts_out_of_training():
    data = load_training_data(SHARED)
    val_keys = {dedupe_key(t) for t, _ in data.val}
    assert not any(dedupe_key(t) in val_keys for t, _ in data.train)
    air = data.sources[str(AIRLINE)]
    assert air["rows"] > 4 * air["held_out_rows"] * 0.8
    assert len(data.train) > 50_000 and len(data.val) == 1993
    assert airline_holdout("570307876897628160") in (True, False)


def test_cli_train_reports_missing_data(tmp_path):
    from typer.testing import CliRunner

    from sentiment.cli import app

    res = CliRunner().invoke(
        app, ["train", "--data-dir", str(tmp_path), "--output", str(tmp_path / "m")]
    )
    assert res.exit_code != 0
    assert isinstance(res.exception, ConfigError)
    assert "training data not found" in str(res.exception)
    assert not Path(tmp_path / "m").exists()


def test_low_rank_weights_are_added_to_the_base(tmp_path):
    from safetensors.torch import load_file

    from sentiment.transformer import TRAINED_WEIGHTS, base_model_path

    data = TrainingData(train=synthetic(64), val=synthetic(12), sources={"synthetic": 64})
    whole, low = tmp_path / "whole", tmp_path / "low"
    train(tiny_full(whole, max_steps=2), data=data, echo=lambda _: None)
    meta = train(tiny_full(low, max_steps=2, delta_rank=4), data=data, echo=lambda _: None)

    stored = load_file(str(low / TRAINED_WEIGHTS))
    name = "bert.encoder.layer.3.intermediate.dense.weight"
    assert name not in stored
    assert stored[f"{name}.delta_b"].shape == (1536, 4)
    assert stored[f"{name}.delta_a"].shape == (4, 384)
    # Vectors and the 3 x 384 head are cheaper whole than as factors.
    assert "classifier.weight" in stored and "bert.encoder.layer.3.output.dense.bias" in stored
    assert meta["hyperparameters"]["delta_rank"] == 4
    stored_scores = meta["val_scores"]["stored"]
    assert stored_scores["as"].startswith("loaded from the written file")
    assert 0 <= stored_scores["macro_recall"] <= 1
    assert json.loads((low / "socialcrm.json").read_text())["val_scores"]["stored"] == stored_scores
    assert (low / TRAINED_WEIGHTS).stat().st_size < (whole / TRAINED_WEIGHTS).stat().st_size / 10

    from transformers import AutoModel

    base = AutoModel.from_pretrained(str(base_model_path())).state_dict()
    loaded = TransformerModel.load(str(low), threads=2, quantize=False).model.state_dict()
    delta = stored[f"{name}.delta_b"].float() @ stored[f"{name}.delta_a"].float()
    short = name.removeprefix("bert.")
    assert torch.allclose(loaded[name], base[short] + delta)
    assert torch.equal(loaded["classifier.weight"], stored["classifier.weight"].float())
    # Same training, same seed: the factors approximate the whole matrices' change.
    exact = TransformerModel.load(str(whole), threads=2, quantize=False).model.state_dict()
    change = exact[name] - base[short]
    assert torch.linalg.norm(loaded[name] - exact[name]) < torch.linalg.norm(change)


def test_embedding_distillation_keeps_sentence_vectors(tmp_path):
    out = tmp_path / "joint"
    data = TrainingData(train=synthetic(64), val=synthetic(12), sources={"synthetic": 64})
    config = tiny_full(out, embed_distill=1.0)
    lines: list[str] = []
    meta = train(config, data=data, echo=lines.append)

    assert meta["sentence_embedding"] == "mean"
    assert meta["hyperparameters"]["embed_distill"] == 1.0
    history = meta["val_scores"]["history"]
    assert all(0.9 < e["embedding_cosine"] <= 1.0001 for e in history)
    assert any("teacher sentence embeddings" in line for line in lines)

    model = TransformerModel.load(str(out), threads=2, quantize=False)
    assert model.sentence_vectors
    texts = ["lost my bag", "love this crew", "", "gate changed to b7"]
    preds, vectors = model.predict_with_vectors(texts)
    assert [p.label for p in preds] == [p.label for p in model.predict(texts)]
    assert vectors.shape == (4, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(model.embed(texts), vectors, atol=1e-5)


def test_plain_training_does_not_claim_sentence_vectors(tmp_path):
    data = TrainingData(train=synthetic(32), val=synthetic(6), sources={"synthetic": 32})
    config = tiny_full(tmp_path, max_steps=1)
    meta = train(config, data=data, echo=lambda _: None)
    assert "sentence_embedding" not in meta
    assert not TransformerModel.load(str(tmp_path), threads=2).sentence_vectors
