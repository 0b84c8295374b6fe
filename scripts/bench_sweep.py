#!/usr/bin/env python
"""Benchmark: the naive per-trial loop versus TopicSweep's sweep machinery, on the same trials.

For each corpus, draws N trials from the default search space with a fixed seed, under the
reducer budget a TopicSweep sweep would use (B = N // 10 distinct (random_state, min_dist) pairs;
the other parameters vary freely), and runs them two ways in this one process:

(a) naive: what users write today, per trial: BERTopic(UMAP(...), HDBSCAN(...),
    CountVectorizer(stop_words="english"), nr_topics).fit_transform(docs, embeddings), then
    tokenize the corpus with the vectorizer's analyzer, build a gensim Dictionary and run
    CoherenceModel for c_npmi and c_v;
(b) TopicSweep: `Sweep` (the `topicsweep sweep` machinery, tracking off) with the same trials
    enqueued: cached kNN graph and reductions, tokens once, coherence by index lookups.

Both start from the same precomputed embeddings (computed once and cached, not timed). Prints
per-stage times and the speed-up, and checks that per-trial metrics agree (|diff| <= 1e-9)
whenever TopicSweep's reductions are bit-identical to plain UMAP's (`--knn umap`, and `auto` below
4,096 documents); exits 1 if they do not. See README "Performance".

Usage: python scripts/bench_sweep.py [--corpus bbc|thucnews|all] [--trials 30] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CORPORA = {
    "bbc": ["dataset=tsv", f"dataset.path={DATA / 'bbc_news_octis.tsv'}", "dataset.name=bbc", "dataset.text_column=0",
            "dataset.label_column=2"],
    "thucnews": ["dataset=tsv", f"dataset.path={DATA / 'thucnews_headlines.tsv'}", "dataset.name=thucnews",
                 "dataset.label_column=label", "language=zh", "embedding=e5",
                 # the naive loop uses HDBSCAN's defaults (eom) and no outlier reassignment
                 "clusterer=hdbscan", "topics.outliers.strategy=none"],
}
METRICS = ("n_topics", "coherence_npmi", "coherence_cv")


def draw_trials(n_trials: int, n_docs: int, seed: int) -> list[dict]:
    """N trials from the default search space with B = N // 10 distinct reducer configurations."""
    rng = random.Random(seed)
    budget = max(1, n_trials // 10)
    reducers = set()
    while len(reducers) < budget:
        reducers.add((rng.randrange(10), rng.choice([0.0, 0.05, 0.1, 0.25, 0.5])))
    reducers = sorted(reducers)
    top = min(200, n_docs // 10)
    trials = []
    for index in range(n_trials):
        random_state, min_dist = reducers[index % budget]
        trials.append({
            "reducer.random_state": random_state,
            "reducer.min_dist": min_dist,
            "clusterer.min_cluster_size": int(round(math.exp(rng.uniform(math.log(5), math.log(top))))),
            "clusterer.min_samples": rng.randint(1, 50),
            "topics.nr_topics": rng.choice([None, "auto", 10, 20, 30, 40, 50]),
        })
    return trials


def naive_trial(docs: list[str], embeddings: np.ndarray, trial: dict, stop_words: object, language: str) -> tuple[dict, dict]:
    """One trial exactly as users write it (fresh UMAP, BERTopic, tokens, Dictionary, CoherenceModel)."""
    from bertopic import BERTopic
    from gensim.corpora import Dictionary
    from gensim.models.coherencemodel import CoherenceModel
    from hdbscan import HDBSCAN
    from umap import UMAP

    times = {}
    start = time.perf_counter()
    umap_model = UMAP(n_neighbors=15, n_components=5, min_dist=trial["reducer.min_dist"], metric="cosine",
                      random_state=trial["reducer.random_state"])
    reduced = umap_model.fit_transform(embeddings)
    times["umap"] = time.perf_counter() - start

    class Reused:  # hand BERTopic the reduction just timed, so UMAP is not fitted twice
        def fit(self, X, y=None):  # noqa: N803
            return self

        def transform(self, X):  # noqa: N803
            return reduced

    start = time.perf_counter()
    hdbscan_model = HDBSCAN(min_cluster_size=trial["clusterer.min_cluster_size"],
                            min_samples=trial["clusterer.min_samples"], metric="euclidean",
                            cluster_selection_method="eom", prediction_data=True)
    vectorizer = stop_words
    model = BERTopic(language=language, umap_model=Reused(), hdbscan_model=hdbscan_model, vectorizer_model=vectorizer,
                     nr_topics=trial["topics.nr_topics"], top_n_words=10)
    topics, _ = model.fit_transform(docs, embeddings)
    times["bertopic"] = time.perf_counter() - start

    start = time.perf_counter()
    analyzer = model.vectorizer_model.build_analyzer()
    tokens = [analyzer(doc) for doc in model._preprocess_text(np.asarray(docs, dtype=object))]
    dictionary = Dictionary(tokens)
    words = [[w for w, _ in model.get_topic(t) if w] for t in sorted(set(topics)) if t != -1]
    metrics = {"n_topics": float(len(words))}
    for measure, name in (("c_npmi", "coherence_npmi"), ("c_v", "coherence_cv")):
        metrics[name] = (CoherenceModel(topics=words, texts=tokens, dictionary=dictionary, coherence=measure,
                                        topn=10, processes=1).get_coherence() if words else math.nan)
    times["coherence"] = time.perf_counter() - start
    return metrics, times


def topicsweep_trials(overrides: list[str], trials: list[dict], output_dir: Path) -> tuple[list[dict], list[dict], float]:
    """The same trials through `Sweep` (enqueued in order), tracking off."""
    from runner.sweep import Sweep
    from runner.sweep_spec import load_spec

    spec_file = output_dir / "bench.yaml"
    spec_file.write_text("study: bench\nparams:\n"
                         "  reducer.random_state: range(0, 10)\n"
                         "  reducer.min_dist: choice(0.0, 0.05, 0.1, 0.25, 0.5)\n"
                         "  clusterer.min_cluster_size: int(tag(log, interval(5, 200)))\n"
                         "  clusterer.min_samples: int(interval(1, 50))\n"
                         "  topics.nr_topics: choice(null, auto, 10, 20, 30, 40, 50)\n"
                         "objectives: {coherence_npmi: maximize, diversity: maximize}\n"
                         f"n_trials: {len(trials)}\n", encoding="utf-8")
    sweep = Sweep(load_spec(str(spec_file)), [*overrides, "tracking=none", f"paths.output_dir={output_dir}",
                                               f"paths.cache_dir={ROOT / 'outputs' / 'cache'}"])
    for trial in trials:
        sweep.study.enqueue_trial(trial)
    start = time.perf_counter()
    sweep.run()
    total = time.perf_counter() - start
    done = sorted(sweep.study.trials, key=lambda t: t.number)
    return [t.user_attrs["metrics"] for t in done], [t.user_attrs["timings"] for t in done], total


def embeddings_for(overrides: list[str]) -> tuple[list[str], np.ndarray, object, str]:
    """Corpus texts and cached embeddings (computed once, not timed), plus the naive vectorizer."""
    from runner.build import instantiate
    from runner.config import compose, resolve
    from runner.pipeline import Session

    cfg = resolve(compose([*overrides, "tracking=none", f"paths.cache_dir={ROOT / 'outputs' / 'cache'}"]))
    session = Session(Path(cfg.paths.cache_dir))
    corpus = session._load_corpus(cfg.dataset)
    embedder = instantiate(cfg.embedding)
    from runner.cache import cache_key

    key = cache_key("embeddings", corpus.content_hash, embedder.fingerprint())
    embeddings = np.asarray(session._embeddings(embedder, corpus, key))
    vectorizer = instantiate(cfg.vectorizer)
    if cfg.vectorizer._target_.endswith("RegexVectorizer"):
        from sklearn.feature_extraction.text import CountVectorizer

        naive_vectorizer = CountVectorizer(stop_words="english")
    else:  # Chinese: users pass a jieba-based tokenizer to CountVectorizer
        from sklearn.feature_extraction.text import CountVectorizer

        naive_vectorizer = CountVectorizer(tokenizer=vectorizer.analyzer(), token_pattern=None, lowercase=False)
    return corpus.texts, embeddings, naive_vectorizer, cfg.topics.language


def bench(name: str, n_trials: int, seed: int, knn: str) -> bool:
    """Run one corpus; False when the reductions should be identical but metrics disagree."""
    overrides = [*CORPORA[name], f"knn.backend={knn}"]
    docs, embeddings, naive_vectorizer, language = embeddings_for(overrides)
    trials = draw_trials(n_trials, len(docs), seed)
    distinct = len({(t["reducer.random_state"], t["reducer.min_dist"]) for t in trials})
    print(f"\n## {name}: {len(docs)} documents, {n_trials} trials, {distinct} distinct UMAP configs, knn.backend={knn}")

    naive_metrics, naive_times = [], []
    start = time.perf_counter()
    for trial in trials:
        metrics, times = naive_trial(docs, embeddings, trial, naive_vectorizer, language)
        naive_metrics.append(metrics)
        naive_times.append(times)
    naive_total = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as scratch:
        ours_metrics, ours_times, ours_total = topicsweep_trials(overrides, trials, Path(scratch))

    worst = max(abs(a[m] - b[m]) for a, b in zip(naive_metrics, ours_metrics) for m in METRICS
                if a[m] is not None and b[m] is not None and not math.isnan(a[m]))
    agree = sum(all(a[m] == b[m] or abs(a[m] - b[m]) <= 1e-9 for m in METRICS) for a, b in zip(naive_metrics, ours_metrics))
    print("| arm | total s | s/trial | per-trial stages (mean s) |")
    print("|---|---|---|---|")
    print(f"| naive loop | {naive_total:.1f} | {naive_total / n_trials:.2f} | {mean_stages(naive_times)} |")
    print(f"| TopicSweep | {ours_total:.1f} | {ours_total / n_trials:.2f} | {mean_stages(ours_times)} |")
    print(f"speed-up: {naive_total / ours_total:.1f}x end to end; trials whose n_topics/c_npmi/c_v agree to 1e-9: "
          f"{agree}/{n_trials}; largest metric difference {worst:.2e}")
    print(f"peak RSS so far: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    from runner.stages.knn import UMAP_SMALL_DATA

    identical = knn == "umap" or (knn == "auto" and len(docs) < UMAP_SMALL_DATA)
    if identical and agree < n_trials:
        print("FAIL: with UMAP's own neighbour search the metrics must agree to 1e-9")
    return not identical or agree == n_trials


def mean_stages(rows: list[dict]) -> str:
    return ", ".join(f"{stage} {np.mean([row[stage] for row in rows]):.3f}" for stage in rows[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=[*CORPORA, "all"], default="all")
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--knn", default="auto", help="TopicSweep's knn.backend (umap = bit-identical to plain UMAP)")
    args = parser.parse_args()
    results = [bench(name, args.trials, args.seed, args.knn) for name in
               (CORPORA if args.corpus == "all" else [args.corpus])]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
