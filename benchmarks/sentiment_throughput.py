"""Sentiment throughput: the bundled transformer, bare and through `socialcrm sentiment score`.

Takes N tweets (default 10 000: SemEval train texts from ../shared/datasets when present,
else synthetic tweets), and runs each configuration in a fresh process, so that load time and
peak RSS (`resource.getrusage` / `os.wait4`) belong to that configuration alone:

  bare-int8     TransformerModel.load() (int8 dynamic quantisation, the default) + predict(N)
  bare-fp32     the same without quantisation
  cli-int8      `sentiment score --input tweets.txt --output out.jsonl` end to end (file
                reading, language detection, JSON writing); the CLI's own rows/s excludes
                the model load, the wall time includes everything from process start
  job-int8      the scheduled job `score:pending` (read unscored mentions from the database,
                score, WOM score and complaint category for the negatives, write results,
                commit per batch) over N mentions stored in a fresh SQLite database first
                (`--database-url` for another). The same process times, on the same texts
                with the same models, bare `predict` and the bare model stack (`predict`,
                then the categoriser over the negatives, no database), before and after
                the job, and the job again with every category disabled: the job's share
                of the bare speed is measured side by side
  vader         the lexicon fallback, bare, for reference

Printed per configuration: import seconds (torch/transformers), load seconds
(`TransformerModel.load`), tweets/s, peak RSS. The figures depend on the machine and on what
else runs on it: the script prints the load average before and after. They go in notes and
the model card, never in test assertions.

    .venv/bin/python benchmarks/sentiment_throughput.py                # 10k tweets, all configs
    .venv/bin/python benchmarks/sentiment_throughput.py --n 2000 --configs bare-int8,vader
    .venv/bin/python benchmarks/sentiment_throughput.py --threads 1 --json
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TRAIN_CSV = ROOT.parent / "shared" / "datasets" / "semeval-2017-task4a" / "train.csv"
CONFIGS = ("bare-int8", "bare-fp32", "cli-int8", "job-int8", "vader")


def tweets(n: int) -> tuple[list[str], str]:
    """N real tweets (one line each) when the shared data is here, else synthetic ones."""
    if TRAIN_CSV.is_file():
        with open(TRAIN_CSV, encoding="utf-8", newline="") as f:
            texts = [" ".join((r.get("text") or "").split()) for r in csv.DictReader(f)]
        texts = [t for t in texts if t]
        reps = -(-n // len(texts))
        return (texts * reps)[:n], str(TRAIN_CSV)
    sys.path.insert(0, str(ROOT))
    from sentiment.cli import synthetic_tweets

    return synthetic_tweets(n), "synthetic"


def job_worker(texts: list[str], threads: int | None, database_url: str | None) -> dict[str, Any]:
    """Run inside the child process: the scoring job over stored mentions, then bare predict."""
    import resource
    from datetime import datetime, timedelta

    from sqlalchemy import text

    from collectors.schemas import MentionCreate
    from collectors.service import ingest
    from core.db import make_engine, make_session_factory, unit_of_work
    from core.migrate import upgrade
    from core.settings import Settings
    from scheduler.jobs import score_pending
    from sentiment import service as sentiment_service
    from sentiment.categories import load_categoriser, specs
    from sentiment.classifier import load_model
    from sentiment.schemas import CategoryUpdate

    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{tmp}/bench.db"
        settings = Settings(
            database_url=url,
            sentiment_backend="transformer",
            sentiment_threads=threads or 0,
        )
        engine = make_engine(url)
        upgrade(engine)
        factory = make_session_factory(engine)
        start = datetime(2026, 1, 1)
        for at in range(0, len(texts), 1000):
            batch = [
                MentionCreate(
                    platform="twitter",
                    external_id=f"bench-{i}",
                    text=texts[i],
                    created_at=start + timedelta(seconds=i),
                    language="en",
                    author={
                        "id": f"a{i % 500}",
                        "handle": f"user{i % 500}",
                        "followers": (i * 37) % 5000,
                    },
                    metrics={"likes": i % 11},
                )
                for i in range(at, min(at + 1000, len(texts)))
            ]
            with unit_of_work(factory) as session:
                ingest(session, batch)
        t_load = time.perf_counter()
        model = load_model(settings)
        categoriser = load_categoriser(settings)
        loaded = time.perf_counter() - t_load
        model.predict(texts[:64])  # warm-up, as in the bare configurations
        categoriser.embedder.embed(texts[:64])

        def bare() -> float:
            t = time.perf_counter()
            model.predict(texts)
            return time.perf_counter() - t

        shared = categoriser.shares(model)
        with unit_of_work(factory) as session:
            taxonomy = specs(sentiment_service.list_categories(session, enabled_only=True))

        def bare_stack() -> float:
            """The job's model work without the database: classify all, categorise negatives."""
            t = time.perf_counter()
            if shared:  # the model's own pass yields the category vectors
                preds, vectors = model.predict_with_vectors(texts)  # type: ignore[attr-defined]
                rows = [i for i, p in enumerate(preds) if p.label == "negative"]
                categoriser.categorise(taxonomy, [texts[i] for i in rows], vectors[rows])
            else:
                preds = model.predict(texts)
                negatives = [x for x, p in zip(texts, preds, strict=True) if p.label == "negative"]
                categoriser.categorise(taxonomy, negatives)
            return time.perf_counter() - t

        def job() -> tuple[float, Any]:
            with unit_of_work(factory) as session:
                session.execute(text("DELETE FROM sentiment_results"))
            t = time.perf_counter()
            done = score_pending(
                factory, settings, model, max_batches=1_000_000, categoriser=categoriser
            )
            return time.perf_counter() - t, done

        # Bare before and after the jobs, so warm-up and drift count against neither side.
        bare_first, stack_first = bare(), bare_stack()
        job_s, report = job()
        # Again with every category disabled, to show what categorising costs.
        with unit_of_work(factory) as session:
            for category in sentiment_service.list_categories(session):
                sentiment_service.update_category(
                    session, category.key, CategoryUpdate(enabled=False)
                )
        plain_s, _ = job()
        stack_s = (stack_first + bare_stack()) / 2
        bare_s = (bare_first + bare()) / 2
        engine.dispose()
    job_rate, bare_rate = len(texts) / job_s, len(texts) / bare_s
    plain_rate, stack_rate = len(texts) / plain_s, len(texts) / stack_s
    return {
        "config": "job-int8",
        "model": f"{model.name} {model.version}",
        "database": url.split(":", 1)[0] if database_url else "sqlite (temporary file)",
        "load_s": round(loaded, 2),
        "category_encoder": categoriser.embedder.name + (" (shared pass)" if shared else ""),
        "tweets_per_s": round(job_rate, 1),
        "bare_tweets_per_s_same_process": round(bare_rate, 1),
        "job_share_of_bare": round(job_rate / bare_rate, 3),
        "bare_with_categories_per_s_same_process": round(stack_rate, 1),
        "job_share_of_bare_with_categories": round(job_rate / stack_rate, 3),
        "job_without_categories_per_s": round(plain_rate, 1),
        "job_without_categories_share_of_bare": round(plain_rate / bare_rate, 3),
        "scored": report.scored,
        "unsupported_language": report.unsupported_language,
        "negative_wom": report.negative_wom,
        "categories": report.by_category,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def worker(
    config: str, path: Path, threads: int | None, database_url: str | None = None
) -> dict[str, Any]:
    """Run inside the child process: time one bare configuration."""
    import resource

    texts = path.read_text(encoding="utf-8").splitlines()
    if config == "job-int8":
        return job_worker(texts, threads, database_url)
    started = time.perf_counter()
    if config == "vader":
        from sentiment.lexicon import VaderModel

        imported = time.perf_counter()
        model: Any = VaderModel()
    else:
        from sentiment.transformer import TransformerModel

        imported = time.perf_counter()
        model = TransformerModel.load(threads=threads, quantize=config == "bare-int8")
    loaded = time.perf_counter()
    model.predict(texts[:64])  # warm-up
    t0 = time.perf_counter()
    preds = model.predict(texts)
    spent = time.perf_counter() - t0
    labels: dict[str, int] = {}
    for p in preds:
        labels[p.label] = labels.get(p.label, 0) + 1
    return {
        "config": config,
        "model": f"{model.name} {model.version}",
        "import_s": round(imported - started, 2),
        "load_s": round(loaded - imported, 2),
        "tweets_per_s": round(len(texts) / spent, 1),
        "predict_s": round(spent, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "labels": labels,
    }


def _run_child(cmd: list[str], env: dict[str, str]) -> tuple[int, str, str, float, float]:
    """Run a child; (status, stdout, stderr, wall seconds, peak RSS MiB of that child)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return (
            proc.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            wall,
            usage.ru_maxrss / 1024,
        )


def run_config(
    config: str, path: Path, n: int, threads: int | None, database_url: str | None = None
) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if config == "cli-int8":
        out = path.with_suffix(".jsonl")
        cmd = [sys.executable, "-c", "from sentiment.cli import app; app()", "score",
               "--input", str(path), "--output", str(out), "--backend", "transformer"]  # fmt: skip
        if threads:
            cmd += ["--threads", str(threads)]
        code, _, err, wall, rss = _run_child(cmd, env)
        if code != 0:
            return {"config": config, "error": err.strip()[-500:]}
        summary = err.strip().splitlines()[-1]
        rows = len(out.read_text(encoding="utf-8").splitlines())
        scored_s = float(summary.split(" in ")[1].split("s ")[0])
        return {
            "config": config,
            "rows": rows,
            "tweets_per_s": round(n / scored_s, 1),
            "end_to_end_s": round(wall, 2),
            "end_to_end_tweets_per_s": round(n / wall, 1),
            "peak_rss_mib": round(rss),
            "summary": summary,
        }
    cmd = [sys.executable, __file__, "--worker", config, "--texts", str(path)]
    if threads:
        cmd += ["--threads", str(threads)]
    if database_url:
        cmd += ["--database-url", database_url]
    code, stdout, err, wall, rss = _run_child(cmd, env)
    if code != 0:
        return {"config": config, "error": err.strip()[-500:]}
    result = json.loads(stdout.strip().splitlines()[-1])
    result["process_s"] = round(wall, 2)
    result["peak_rss_mib_os"] = round(rss)
    return result


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="tweets to score")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (all cores)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--database-url", help="database for job-int8 (default: a temporary SQLite file)"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--texts", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(worker(args.worker, args.texts, args.threads, args.database_url)))
        return

    texts, origin = tweets(args.n)
    results = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tweets.txt"
        path.write_text("\n".join(texts) + "\n", encoding="utf-8")
        for config in [c.strip() for c in args.configs.split(",") if c.strip()]:
            if config not in CONFIGS:
                parser.error(f"unknown config {config!r}; choose from {', '.join(CONFIGS)}")
            results.append(run_config(config, path, len(texts), args.threads, args.database_url))
            if not args.json:
                print(json.dumps(results[-1]), file=sys.stderr)
    report: dict[str, Any] = {
        "machine": machine(),
        "tweets": len(texts),
        "source": origin,
        "mean_chars": round(sum(map(len, texts)) / len(texts), 1),
        "threads": args.threads or os.cpu_count(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "results": results,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    m = report["machine"]
    print(f"{m['cpu']}, {m['cores']} cores; {len(texts)} tweets from {origin}")
    print(f"load average before {report['loadavg_before']} after {report['loadavg_after']}")
    print(f"{'config':<11}{'import s':>9}{'load s':>8}{'tweets/s':>10}{'e2e/s':>8}{'RSS MiB':>9}")
    for r in results:
        if "error" in r:
            print(f"{r['config']:<11} failed: {r['error']}")
            continue
        print(
            f"{r['config']:<11}{r.get('import_s', ''):>9}{r.get('load_s', ''):>8}"
            f"{r['tweets_per_s']:>10}{r.get('end_to_end_tweets_per_s', ''):>8}"
            f"{r['peak_rss_mib']:>9}"
        )


if __name__ == "__main__":
    main()
