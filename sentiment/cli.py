"""`socialcrm sentiment`: score files, evaluate on labelled CSVs, train, benchmark.

Nothing here imports torch at module level: the transformer backend is loaded only when a
command asks for it.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import random
import resource
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any, NoReturn

import typer

from core.errors import ConfigError, InvalidError
from core.settings import get_settings
from sentiment.classifier import SentimentModel

app = typer.Typer(
    help="Sentiment model: score, evaluate, train, benchmark.",
    no_args_is_help=True,
    add_completion=False,
)

CHUNK = 2048  # rows read, scored and written per round (bounded memory on huge inputs)
VAL_CSV = Path("../shared/datasets/semeval-2017-task4a/val.csv")


class Backend(StrEnum):
    lexicon = "lexicon"
    transformer = "transformer"


BackendOpt = Annotated[
    Backend | None,
    typer.Option(help="Model backend (default: SOCIALCRM_SENTIMENT_BACKEND)"),
]
ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        help="Transformer model: local HF directory or hub id (default: SOCIALCRM_SENTIMENT_MODEL,"
        " empty = the bundled model); implies --backend transformer",
    ),
]
ThreadsOpt = Annotated[
    int | None, typer.Option(help="CPU threads for the transformer (default: all cores)", min=1)
]
QuantizeOpt = Annotated[
    bool, typer.Option(help="int8 dynamic quantisation of the transformer on CPU")
]


def build_model(
    backend: Backend | str | None = None,
    model: str | None = None,
    *,
    threads: int | None = None,
    quantize: bool = True,
) -> SentimentModel:
    """The model a command asked for, falling back on the settings."""
    settings = get_settings()
    name = backend.value if isinstance(backend, Backend) else backend
    if name is None:
        name = "transformer" if model is not None else settings.sentiment_backend
    if name == "lexicon":
        from sentiment.lexicon import VaderModel

        return VaderModel()
    try:
        from sentiment.transformer import TransformerModel
    except ImportError as exc:
        raise ConfigError(
            f"the transformer backend needs torch, transformers and peft ({exc}); "
            "use --backend lexicon"
        ) from exc
    source = model if model is not None else getattr(settings, "sentiment_model", "")
    return TransformerModel.load(
        source or "",
        threads=threads or getattr(settings, "sentiment_threads", 0) or None,
        quantize=quantize and getattr(settings, "sentiment_quantize", True),
    )


# ------------------------------------------------------------------------------ reading input


def fail(message: str) -> NoReturn:
    """One-line error on stderr, exit status 2 (as `socialcrm` does for bad input)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@dataclass
class Row:
    """One input row: its text, or why it cannot be scored."""

    text: str | None
    error: str | None = None
    warning: str | None = None


def _decode(data: bytes) -> tuple[str, bool]:
    """UTF-8 text (BOM dropped) and whether invalid bytes had to be replaced."""
    try:
        return data.decode("utf-8-sig"), False
    except UnicodeDecodeError:
        return data.decode("utf-8-sig", errors="replace"), True


def _raise_csv_limit() -> None:
    limit = sys.maxsize
    while True:
        try:
            csv.field_size_limit(limit)
            return
        except OverflowError:
            limit //= 10


def _text_row(text: str | None, replaced: bool) -> Row:
    if text is None:
        return Row(None, "missing text")
    if not text.strip():
        return Row(None, "empty text")
    bad = replaced and "\ufffd" in text
    return Row(text, warning="invalid UTF-8 replaced" if bad else None)


def read_rows(source: str, text_column: str = "text", fmt: str = "auto") -> Iterator[Row]:
    """Rows of a CSV (by column name) or of a plain-text file (one text per line; - = stdin)."""
    is_csv = fmt == "csv" or (fmt == "auto" and source.lower().endswith(".csv"))
    if source == "-":
        stream: IO[bytes] = sys.stdin.buffer
    else:
        path = Path(source)
        if not path.is_file():
            fail(f"no such file: {source}")
        stream = open(path, "rb")  # noqa: SIM115 - closed below
    try:
        if is_csv:
            text, replaced = _decode(stream.read())
            _raise_csv_limit()
            reader = csv.DictReader(io.StringIO(text, newline=""))
            columns = reader.fieldnames or []
            if text_column not in columns:
                fail(
                    f"{source} has no column {text_column!r} (columns: "
                    f"{', '.join(columns) or 'none'}); pick one with --text-column"
                )
            for record in reader:
                yield _text_row(record.get(text_column), replaced)
        else:
            for raw in stream:
                line, replaced = _decode(raw.rstrip(b"\r\n"))
                yield _text_row(line, replaced)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# ------------------------------------------------------------------------------ scoring


def score_rows(
    model: SentimentModel, rows: Sequence[Row], *, detect_language: bool = True
) -> list[dict[str, Any]]:
    """One output object per row, in order; rows that cannot be scored get label None."""
    from sentiment.langid import UNDETERMINED, detect

    out: list[dict[str, Any]] = [{} for _ in rows]
    todo: list[int] = []
    for i, row in enumerate(rows):
        if row.text is None:
            out[i] = {"label": None, "scores": None, "error": row.error}
            continue
        lang = UNDETERMINED
        if detect_language and model.languages is not None:
            lang, _ = detect(row.text)
            if lang != UNDETERMINED and lang not in model.languages:
                out[i] = {
                    "label": None,
                    "scores": None,
                    "error": "unsupported_language",
                    "lang": lang,
                }
                continue
        out[i] = {"lang": lang}
        todo.append(i)
    texts = [rows[i].text or "" for i in todo]
    try:
        predictions: list[Any] = model.predict(texts) if texts else []
    except Exception:  # one bad text must not sink the batch: retry one by one
        predictions = []
        for text in texts:
            try:
                predictions.append(model.predict([text])[0])
            except Exception as exc:
                predictions.append(exc)
    for i, pred in zip(todo, predictions, strict=True):
        if isinstance(pred, Exception):
            out[i] = {"label": None, "scores": None, "error": f"model error: {pred}"[:300]}
            continue
        scores = {k: round(v, 6) for k, v in pred.scores.items()}
        out[i] = {"label": pred.label, "scores": scores, **out[i]}
    for i, row in enumerate(rows):
        if row.warning:
            out[i]["warning"] = row.warning
    return out


@app.command()
def score(
    input: Annotated[
        str, typer.Option("--input", "-i", help="CSV file, plain-text file (one text a line) or -")
    ],
    text_column: Annotated[str, typer.Option(help="CSV column holding the text")] = "text",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="JSONL file (default: stdout)")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="auto (.csv = CSV, else plain text), csv or text")
    ] = "auto",
    lang_detect: Annotated[
        bool, typer.Option(help="Detect the language; other languages get unsupported_language")
    ] = True,
    backend: BackendOpt = None,
    model: ModelOpt = None,
    threads: ThreadsOpt = None,
    quantize: QuantizeOpt = True,
) -> None:
    """Score every row: one JSON object per row, in input order."""
    if fmt not in ("auto", "csv", "text"):
        fail("--format must be auto, csv or text")
    chunks = _chunks(read_rows(input, text_column, fmt), CHUNK)
    first = next(chunks, None)  # a bad file or column fails before the model loads
    clf = build_model(backend, model, threads=threads, quantize=quantize)
    started = time.perf_counter()
    n = errors = 0
    sink = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    try:
        for chunk in itertools.chain([first] if first else [], chunks):
            for obj in score_rows(clf, chunk, detect_language=lang_detect):
                n += 1
                errors += obj["label"] is None
                sink.write(json.dumps({**obj, "row": n}, ensure_ascii=False) + "\n")
    finally:
        if output:
            sink.close()
        else:
            sink.flush()
    spent = time.perf_counter() - started
    typer.echo(
        f"scored {n - errors} of {n} rows ({errors} not scored) in {spent:.1f}s "
        f"({n / spent if spent else 0:.0f} rows/s) with {clf.name} {clf.version}",
        err=True,
    )


# ------------------------------------------------------------------------------ evaluation


@app.command("eval")
def eval_(
    input: Annotated[Path, typer.Option("--input", "-i", help="Labelled CSV", exists=True)],
    text_column: Annotated[str, typer.Option(help="Column holding the text")] = "text",
    label_column: Annotated[
        str, typer.Option(help="Column holding negative/neutral/positive (airline: sentiment)")
    ] = "label",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    holdout: Annotated[
        bool,
        typer.Option(
            "--holdout",
            help="Only the rows `sentiment train` held out of the airline tweets "
            "(tweet_id hash bucket 0 of 5)",
        ),
    ] = False,
    limit: Annotated[int | None, typer.Option(help="Only the first N rows", min=1)] = None,
    backend: BackendOpt = None,
    model: ModelOpt = None,
    threads: ThreadsOpt = None,
    quantize: QuantizeOpt = True,
) -> None:
    """Macro-recall, accuracy, per-class precision/recall/F1 and the confusion matrix."""
    from sentiment.evaluate import evaluate, format_report, only_holdout, read_labelled_csv

    try:
        data = read_labelled_csv(input, text_column, label_column)
    except ValueError as exc:
        fail(str(exc))
    if holdout:
        data = only_holdout(data)
    if limit:
        data.texts, data.labels = data.texts[:limit], data.labels[:limit]
    if not data.texts:
        fail(f"{input}: no rows with a negative/neutral/positive label")
    clf = build_model(backend, model, threads=threads, quantize=quantize)
    started = time.perf_counter()
    predicted = [p.label for p in clf.predict(data.texts)]
    spent = time.perf_counter() - started
    report = evaluate(data.labels, predicted)
    if as_json:
        body = {
            "model": clf.name,
            "version": clf.version,
            "input": str(input),
            "holdout": holdout,
            "skipped_rows": data.skipped,
            "seconds": round(spent, 2),
            **report.to_dict(),
        }
        typer.echo(json.dumps(body, indent=2))
        return
    title = f"{clf.name} {clf.version} on {input}" + (" (held-out rows)" if holdout else "")
    typer.echo(format_report(report, title))
    if data.skipped:
        typer.echo(f"skipped {data.skipped} rows without a usable label")
    typer.echo(f"{len(data.texts) / spent if spent else 0:.0f} texts/s")


@app.command("eval-categories")
def eval_categories(
    input: Annotated[Path, typer.Option("--input", "-i", help="Labelled CSV", exists=True)],
    taxonomy: Annotated[
        str,
        typer.Option(
            help="Taxonomy JSON file, or the name of a bundled one (default, airline); each "
            "category's `label` (else its name) is compared with the label column"
        ),
    ] = "airline",
    text_column: Annotated[str, typer.Option(help="Column holding the text")] = "text",
    label_column: Annotated[
        str, typer.Option(help="Column holding the gold category")
    ] = "negative_reason",
    where: Annotated[
        str | None,
        typer.Option(help="Only rows where COLUMN=VALUE (airline: sentiment=negative)"),
    ] = "sentiment=negative",
    ignore: Annotated[
        list[str] | None, typer.Option(help="Gold labels that mean 'no category' (repeatable)")
    ] = None,
    backend: Annotated[
        Backend | None,
        typer.Option(help="transformer: the sentence encoder; lexicon: bag of words"),
    ] = None,
    min_similarity: Annotated[
        float | None, typer.Option(help="Similarity floor (default: the setting)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Category accuracy of a taxonomy on labelled complaints, against the majority baseline."""
    from sentiment.categories import Categoriser, category_encoder, load_taxonomy_file
    from sentiment.evaluate import (
        evaluate_categories,
        format_category_report,
        read_category_csv,
    )

    settings = get_settings()
    condition = None
    if where:
        column, sep, value = where.partition("=")
        if not sep:
            fail("--where takes COLUMN=VALUE")
        condition = (column, value)
    try:
        specs = load_taxonomy_file(taxonomy)
        texts, gold, skipped = read_category_csv(
            input,
            text_column,
            label_column,
            where=condition,
            ignore=ignore if ignore is not None else ["Can't Tell"],
        )
    except (ValueError, OSError, InvalidError) as exc:
        fail(str(exc))
    name = (backend.value if backend else None) or settings.sentiment_backend
    embedder = category_encoder(settings.model_copy(update={"sentiment_backend": name}))
    floor = settings.category_min_similarity if min_similarity is None else min_similarity
    categoriser = Categoriser(embedder, min_similarity=floor)
    labels = {c.key: c.label or c.name for c in specs}
    started = time.perf_counter()
    matches = categoriser.categorise(specs, texts)
    spent = time.perf_counter() - started
    predicted = [labels[m.key] if m.key is not None else None for m in matches]
    report = evaluate_categories(gold, predicted)
    if as_json:
        payload = {
            "embedder": embedder.name,
            "taxonomy": taxonomy,
            "min_similarity": floor,
            "skipped": skipped,
            "texts_per_second": round(len(texts) / spent, 1) if spent else None,
            **report.to_dict(),
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    typer.echo(format_category_report(report, f"{embedder.name}, taxonomy {taxonomy}, {input}"))
    typer.echo(f"skipped {skipped} rows without a usable category label")
    typer.echo(f"{len(texts) / spent if spent else 0:.0f} texts/s")


# ------------------------------------------------------------------------------ training


class Method(StrEnum):
    full = "full"
    lora = "lora"


@app.command()
def train(
    data_dir: Annotated[
        Path, typer.Option(help="Folder with semeval-2017-task4a/ and airline-tweets/")
    ] = Path("../shared/datasets"),
    output: Annotated[
        Path | None,
        typer.Option(help="Where the model goes (default: the bundled model's folder)"),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Model name (default: the bundled name)")] = None,
    method: Annotated[
        Method | None,
        typer.Option(help="full: every weight but the word embeddings; lora: an adapter"),
    ] = None,
    epochs: Annotated[float | None, typer.Option(min=0.01)] = None,
    batch_size: Annotated[int, typer.Option(min=1)] = 32,
    lr: Annotated[
        float | None, typer.Option(min=0, help="Default: 8e-5 for full, 6e-4 for lora")
    ] = None,
    max_length: Annotated[int, typer.Option(min=8, max=512)] = 64,
    lora_r: Annotated[int, typer.Option(min=1)] = 16,
    seed: int = 13,
    airline: Annotated[
        bool, typer.Option(help="Also train on the airline tweets (minus the held-out fifth)")
    ] = True,
    limit: Annotated[int | None, typer.Option(help="Train on N sampled rows", min=1)] = None,
    max_steps: Annotated[int | None, typer.Option(min=1)] = None,
    evals_per_epoch: Annotated[int, typer.Option(min=1)] = 4,
    embed_distill: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Weight of the loss keeping the base's sentence vectors (default 3; 0: off); "
            "above 0 the categoriser reuses the classifier's pass",
        ),
    ] = None,
    delta_rank: Annotated[
        int | None,
        typer.Option(min=0, help="full: store weight changes as rank-N factors (32; 0: whole)"),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(help="CPU threads (1 is fastest on a busy machine)", min=1),
    ] = None,
) -> None:
    """Fine-tune all-MiniLM-L6-v2 on the shared data sets (defaults: the shipped model)."""
    from sentiment.train import DEFAULT_LR, TrainConfig
    from sentiment.train import train as run_training
    from sentiment.transformer import BUNDLED_DIR, BUNDLED_NAME

    chosen = method.value if method is not None else TrainConfig.method
    config = TrainConfig(
        output_dir=output or BUNDLED_DIR,
        name=name or BUNDLED_NAME,
        data_dir=data_dir,
        method=chosen,
        epochs=epochs if epochs is not None else TrainConfig.epochs,
        batch_size=batch_size,
        lr=lr if lr is not None else DEFAULT_LR[chosen],
        max_length=max_length,
        lora_r=lora_r,
        lora_alpha=2 * lora_r,
        seed=seed,
        airline=airline,
        limit=limit,
        max_steps=max_steps,
        evals_per_epoch=evals_per_epoch,
        embed_distill=embed_distill if embed_distill is not None else TrainConfig.embed_distill,
        delta_rank=delta_rank if delta_rank is not None else TrainConfig.delta_rank,
        threads=threads,
    )
    run_training(config, echo=lambda line: typer.echo(line, err=True))


# ------------------------------------------------------------------------------ benchmark

_SUBJECTS = ["my flight", "the app", "your support", "the new update", "my order", "the hotel"]
_OPINIONS = [
    "was cancelled again and nobody tells us anything",
    "is great, thanks for the quick help!",
    "arrives on Tuesday according to the tracking page",
    "crashed three times today, so annoying",
    "works fine now",
    "is the best thing that happened this week",
]


def synthetic_tweets(n: int, seed: int = 0) -> list[str]:
    """Tweet-like texts of mixed length (for benchmarks where no data set is at hand)."""
    rng = random.Random(seed)  # noqa: S311 - benchmark texts, not secrets
    out = []
    for _ in range(n):
        parts = [f"@{rng.choice(['united', 'acme', 'shopco'])}"]
        for _ in range(rng.randint(1, 3)):
            parts.append(f"{rng.choice(_SUBJECTS)} {rng.choice(_OPINIONS)}")
        if rng.random() < 0.3:
            parts.append("https://t.co/abc123")
        out.append(" ".join(parts))
    return out


def benchmark_texts(n: int, source: Path | None = None) -> tuple[list[str], str]:
    """N texts: from a CSV's `text` column (repeated), val.csv when present, else synthetic."""
    path = source or (VAL_CSV if VAL_CSV.is_file() else None)
    if path is not None and path.is_file():
        from sentiment.evaluate import read_labelled_csv

        try:
            texts = read_labelled_csv(path).texts
        except ValueError:
            with open(path, encoding="utf-8", errors="replace", newline="") as f:
                texts = [r.get("text") or "" for r in csv.DictReader(f)]
        if texts:
            reps = -(-n // len(texts))
            return (texts * reps)[:n], str(path)
    return synthetic_tweets(n), "synthetic"


def peak_rss_mb() -> float:
    """This process's peak resident set size in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@app.command()
def bench(
    n: Annotated[int, typer.Option(help="Texts to score", min=1)] = 2000,
    input: Annotated[
        Path | None, typer.Option("--input", help="CSV with a text column (default: val.csv)")
    ] = None,
    backend: BackendOpt = None,
    model: ModelOpt = None,
    threads: ThreadsOpt = None,
    quantize: QuantizeOpt = True,
) -> None:
    """Throughput of the configured model on this machine: load time, texts/s, peak RSS."""
    texts, origin = benchmark_texts(n, input)
    started = time.perf_counter()
    clf = build_model(backend, model, threads=threads, quantize=quantize)
    load = time.perf_counter() - started
    clf.predict(texts[:64])  # warm-up
    started = time.perf_counter()
    clf.predict(texts)
    spent = time.perf_counter() - started
    typer.echo(f"model      {clf.name} {clf.version}")
    typer.echo(f"texts      {len(texts)} from {origin}")
    typer.echo(f"load       {load:.2f} s")
    typer.echo(f"throughput {len(texts) / spent:.1f} texts/s ({spent:.2f} s)")
    typer.echo(f"peak RSS   {peak_rss_mb():.0f} MiB")
