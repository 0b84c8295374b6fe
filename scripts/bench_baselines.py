"""Benchmark: BERTopic and the five baselines side by side on BBC News (2,225 documents), mean ± sd over seeds.

Every model runs through the pipeline on the same cached tokens and MiniLM embeddings, with the
protocol of ``sweeps/baselines.yaml`` (NPMI window 10 and C_V of the top 10 words against the corpus
itself, TD of the top 10 words) at one topic count, over seeds 42, 43, ... (each model's own seed key:
UMAP's for BERTopic, ``model.random_state`` for the others). Prints the comparison table in the form
of ``topicsweep compare`` plus the seconds per run (the embeddings are computed before the clock starts).

Usage::

    python scripts/bench_baselines.py [--topics 20] [--seeds 3] [--cache outputs/cache] [--models bertopic,lda,...]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from runner.config import compose, resolve
from runner.models.base import seed_key, with_seed
from runner.names import metric_short, model_label
from runner.pipeline import Session
from runner.tables import markdown, with_sd

ROOT = Path(__file__).resolve().parents[1]
BBC = ROOT.parent / "shared" / "data" / "bbc_news_octis.tsv"
METRICS = ("n_topics", "coherence_npmi", "coherence_cv", "diversity", "outlier_ratio", "nmi")
PROTOCOL = ["dataset=tsv", f"dataset.path={BBC}", "dataset.name=bbc", "dataset.text_column=0",
            "dataset.label_column=2", "embedding=minilm", "vectorizer.stop_words=null", "topics.top_n_words=10",
            "metrics.coherence=[c_npmi,c_v]", "+metrics.window_size.c_npmi=10", "metrics.top_n=10",
            "metrics.diversity_top_k=10", "metrics.reference=null", "tracking=none"]


def model_overrides(model: str, topics: int) -> list[str]:
    """Each model at ``topics`` topics with its defaults (README "Models"), DEC with a shorter pre-training."""
    if model == "bertopic":
        return ["clusterer.min_cluster_size=15", f"topics.nr_topics={topics}"]
    extra = {"dec": ["model.pretrain_epochs=20"]}.get(model, [])
    return [f"model={model}", f"model.num_topics={topics}", *extra]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=ROOT / "outputs" / "cache")
    parser.add_argument("--models", default="bertopic,lda,nmf,etm,dec,fastopic")
    args = parser.parse_args()
    session = Session(args.cache)
    session.prepare(resolve(compose(PROTOCOL)))  # MiniLM embeddings and tokens, before any clock starts
    rows = []
    for model in args.models.split(","):
        cfg = resolve(compose([*PROTOCOL, *model_overrides(model, args.topics)]))
        runs, seconds = [], []
        for seed in range(42, 42 + args.seeds):
            start = time.perf_counter()
            runs.append(session.run(with_seed(cfg, seed)).metrics)
            seconds.append(time.perf_counter() - start)
        row = {"model": model_label(model), "runs": len(runs), "s/run": f"{statistics.mean(seconds):.1f}"}
        for metric in METRICS:
            values = [float(run[metric]) for run in runs]
            row[metric] = with_sd(statistics.mean(values), statistics.stdev(values) if len(values) > 1 else None)
        rows.append(row)
        print(f"{model}: {seed_key(cfg)} 42–{41 + args.seeds}, {statistics.mean(seconds):.1f} s/run", flush=True)
    headers = {"n_topics": "topics", "outlier_ratio": "outliers",
               **{m: metric_short(m) for m in ("coherence_npmi", "coherence_cv", "diversity", "nmi")}}
    print(f"\nBBC News ({BBC.name}), {args.topics} topics, mean ± sd over {args.seeds} seeds\n")
    print(markdown(rows, ("model", "runs", *METRICS, "s/run"), headers))


if __name__ == "__main__":
    main()
