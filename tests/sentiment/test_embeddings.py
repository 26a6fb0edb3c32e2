"""The real all-MiniLM-L6-v2 sentence encoder: unit vectors, order, and airline categories.

The weights load once per module (fp32, a few seconds); the int8 encoder is quantised from a
copy of them, exactly as `SentenceEncoder.load` does on CPU.
"""

from __future__ import annotations

import copy
import os

import numpy as np
import pytest

# Before transformers is imported (importorskip imports it): huggingface_hub reads this once.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytest.importorskip("torch", reason="torch not installed: the sentence encoder needs it")
pytest.importorskip("transformers", reason="transformers not installed: the encoder needs it")

from core.errors import ConfigError
from sentiment.categories import Categoriser, Embedder, load_taxonomy_file
from sentiment.embeddings import SentenceEncoder
from sentiment.transformer import BASE_ID, quantize_int8
from tests.conftest import AIRLINE_COMPLAINTS

MIXED = [
    "they lost my suitcase",
    "x",
    "flight delayed 4 hours and nobody at the gate could tell us anything about when we would "
    "finally board, the app kept changing the departure time every ten minutes",
    "",
    "on hold for 3 hours",
]


@pytest.fixture(scope="module")
def fp32() -> SentenceEncoder:
    return SentenceEncoder.load(quantize=False, threads=1)


@pytest.fixture(scope="module")
def int8(fp32: SentenceEncoder) -> SentenceEncoder:
    model = quantize_int8(copy.deepcopy(fp32.model))
    return SentenceEncoder(model, fp32.tokenizer, name=fp32.name, device=fp32.device)


def test_loads_the_bundled_base_and_satisfies_the_protocol(fp32):
    assert fp32.name == BASE_ID
    assert fp32.load_seconds > 0
    assert int(fp32.model.config.hidden_size) == 384
    assert isinstance(fp32, Embedder)


def test_unit_vectors_for_every_text(int8, fp32):
    for encoder in (int8, fp32):
        v = encoder.embed(MIXED)
        assert v.shape == (5, 384) and v.dtype == np.float32
        assert np.linalg.norm(v, axis=1) == pytest.approx([1.0] * 5, abs=1e-5)


def test_empty_input(int8):
    out = int8.embed([])
    assert out.shape == (0, 384) and out.dtype == np.float32


def test_mixed_lengths_keep_input_order(fp32, int8):
    # fp32: each text's vector is the same alone or in a padded batch (the mask works).
    batched = fp32.embed(MIXED)
    alone = np.stack([fp32.embed([t])[0] for t in MIXED])
    assert np.abs(batched - alone).max() < 1e-4
    # int8: a permutation of the same batch gives the same rows, permuted.
    perm = [4, 2, 0, 3, 1]
    v = int8.embed(MIXED)
    assert np.abs(int8.embed([MIXED[i] for i in perm]) - v[perm]).max() < 1e-5
    # Different texts are different vectors; int8 stays close to fp32.
    assert float(v[0] @ v[2]) < 0.9
    assert (v * batched).sum(axis=1) == pytest.approx([1.0] * 5, abs=0.1)


def test_long_texts_are_truncated_not_rejected(int8):
    v = int8.embed(["my bag is lost " * 400])
    assert np.linalg.norm(v[0]) == pytest.approx(1.0, abs=1e-5)


def test_airline_complaints_land_in_the_right_category(int8):
    taxonomy = load_taxonomy_file("airline")
    complaints = AIRLINE_COMPLAINTS
    matches = Categoriser(int8).categorise(taxonomy, list(complaints))
    assert [m.key for m in matches] == list(complaints.values())
    assert all(0.4 < m.score <= 1.0 for m in matches)


def test_unknown_source_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot load the category encoder"):
        SentenceEncoder.load(str(tmp_path / "no-such-model"))
