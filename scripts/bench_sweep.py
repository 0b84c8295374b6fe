#!/usr/bin/env python
"""Benchmark: the naive per-trial loop versus TopicSweep's sweep machinery, on the same trials.

For a corpus (``bbc``, ``thucnews`` or any csv/tsv/jsonl/txt/parquet file) and each trial count N,
draws N trials from the default search space with a fixed seed, under the reducer budget a
TopicSweep sweep would use (B = N // 10 distinct (random_state, min_dist) pairs; the other
parameters vary freely), and runs them three ways, side by side in this one run:

(a) naive: what users write today, per trial: BERTopic(UMAP(...), HDBSCAN(...),
    CountVectorizer(stop_words="english"), nr_topics).fit_transform(docs, embeddings), then
    tokenize the corpus with the vectorizer's analyzer, build a gensim Dictionary and run
    CoherenceModel for c_npmi and c_v;
(b) in process: ``Sweep`` (the ``topicsweep sweep`` machinery, tracking off) with the same trials
    enqueued: cached kNN graph and reductions, tokens once, coherence by index lookups;
(c) the whole command: ``topicsweep sweep`` as a user runs it (MLflow tracking on, figures and the
    report at the end), timed from process start to exit, on a study holding the same trials enqueued.

Every arm starts from the same precomputed embeddings (computed once and cached, not timed) and
with UMAP's numba code compiled (not timed; see :func:`warm_up_umap`), in a cache of its own, so
no arm finds another's tokens, neighbour graphs or reductions. Prints per-stage times, the CPU
seconds of every process of an arm and both speed-ups, and checks that per-trial metrics agree
(|diff| <= 1e-9) whenever TopicSweep's reductions are bit-identical to plain UMAP's (``--knn umap``,
and ``auto`` below 4,096 documents); exits 1 if they do not. See README "Performance".

Usage::

    python scripts/bench_sweep.py [--corpus bbc|thucnews|PATH] [--text-column text] [--trials 20 100]
                                  [--seed 0] [--knn auto] [--no-command] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import math
import random
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
EMBEDDINGS_CACHE = ROOT / "outputs" / "cache"  # embeddings only are read from here by the timed arms
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


SPACE = ("params:\n"
         "  reducer.random_state: range(0, 10)\n"
         "  reducer.min_dist: choice(0.0, 0.05, 0.1, 0.25, 0.5)\n"
         "  clusterer.min_cluster_size: int(tag(log, interval(5, 200)))\n"
         "  clusterer.min_samples: int(interval(1, 50))\n"
         "  topics.nr_topics: choice(null, auto, 10, 20, 30, 40, 50)\n"
         "objectives: {coherence_npmi: maximize, diversity: maximize}\n")


def spec_file(folder: Path, n_trials: int) -> Path:
    """The benchmark's sweep file: the search space :func:`draw_trials` draws from."""
    path = folder / "bench.yaml"
    path.write_text(f"study: bench\n{SPACE}n_trials: {n_trials}\nreducer_budget: {max(1, n_trials // 10)}\n",
                    encoding="utf-8")
    return path


def cache_with_embeddings(folder: Path) -> Path:
    """A fresh cache directory holding only the precomputed embeddings (hard links, nothing else)."""
    cache = folder / "cache"
    shutil.copytree(EMBEDDINGS_CACHE / "embeddings", cache / "embeddings", copy_function=os.link)
    return cache


def topicsweep_trials(overrides: list[str], trials: list[dict],
                      folder: Path) -> tuple[list[dict], list[dict], float, float]:
    """(b) The same trials through `Sweep` in this process (enqueued in order), tracking off.

    Returns (metrics per trial, stage timings per trial, wall seconds, CPU seconds of this process).
    """
    from runner.sweep import Sweep
    from runner.sweep_spec import load_spec

    sweep = Sweep(load_spec(str(spec_file(folder, len(trials)))),
                  [*overrides, "tracking=none", f"paths.output_dir={folder}",
                   f"paths.cache_dir={cache_with_embeddings(folder)}"])
    for trial in trials:
        sweep.study.enqueue_trial(trial)
    start, cpu_start = time.perf_counter(), time.process_time()
    sweep.run()
    total, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    done = sorted(sweep.study.trials, key=lambda t: t.number)
    return [t.user_attrs["metrics"] for t in done], [t.user_attrs["timings"] for t in done], total, cpu


def command_trials(overrides: list[str], trials: list[dict], folder: Path,
                   workers: int) -> tuple[list[dict], list[dict], float, float]:
    """(c) The same trials through the whole `topicsweep sweep` command, timed from process start to exit.

    With ``workers`` > 1 the command starts that many local workers on a journal-file study. Returns
    (metrics per trial, stage timings per trial, wall seconds, CPU seconds of all the command's processes).
    """
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    if workers > 1:
        url = f"journal:///{folder / 'optuna.log'}"
        storage = JournalStorage(JournalFileBackend(str(folder / "optuna.log")))
        extra = [f"workers={workers}", f"storage={url}"]
    else:
        storage, extra = f"sqlite:///{folder / 'optuna.db'}", []
    study = optuna.create_study(study_name="bench", storage=storage, directions=["maximize", "maximize"])
    for trial in trials:  # the command adopts the study and runs its queued trials first
        study.enqueue_trial(trial)
    command = [sys.executable, "-m", "runner", "sweep", str(spec_file(folder, len(trials))), *overrides, *extra,
               f"paths.output_dir={folder}", f"paths.cache_dir={cache_with_embeddings(folder)}"]
    start, cpu_start = time.perf_counter(), children_cpu_seconds()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    total, cpu = time.perf_counter() - start, children_cpu_seconds() - cpu_start
    if done.returncode != 0:
        sys.exit(f"topicsweep sweep failed ({done.returncode}):\n{done.stderr[-3000:]}")
    finished = [t for t in sorted(optuna.load_study(study_name="bench", storage=storage).trials, key=lambda t: t.number)
                if t.state.name == "COMPLETE"]
    return [t.user_attrs["metrics"] for t in finished], [t.user_attrs["timings"] for t in finished], total, cpu


def children_cpu_seconds() -> float:
    """User + system CPU seconds of this process's finished children (a launcher's workers included)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def corpus_overrides(corpus: str, text_column: str, label_column: str | None) -> tuple[str, list[str]]:
    """(name, dataset overrides) for a named corpus or a file path."""
    if corpus in CORPORA:
        return corpus, CORPORA[corpus]
    path = Path(corpus).resolve()
    if not path.is_file():
        sys.exit(f"error: --corpus {corpus}: no such file (or give one of {', '.join(CORPORA)})")
    fmt = path.suffix.lstrip(".").lower()
    overrides = [f"dataset={fmt}", f"dataset.path={path}", f"dataset.name={path.stem}",
                 f"dataset.text_column={text_column}"]
    if label_column is not None:
        overrides.append(f"dataset.label_column={label_column}")
    return path.stem, overrides


def embeddings_for(overrides: list[str]) -> tuple[list[str], np.ndarray, object, str]:
    """Corpus texts and cached embeddings (computed once, not timed), plus the naive vectorizer."""
    from sklearn.feature_extraction.text import CountVectorizer

    from runner.build import instantiate
    from runner.config import compose, resolve
    from runner.pipeline import Session

    cfg = resolve(compose([*overrides, "tracking=none", f"paths.cache_dir={EMBEDDINGS_CACHE}"]))
    session = Session(EMBEDDINGS_CACHE)
    corpus = session.corpus(cfg)
    _, _, embeddings = session._embedding(cfg, corpus)
    vectorizer = instantiate(cfg.vectorizer)
    if cfg.vectorizer._target_.endswith("RegexVectorizer"):
        naive_vectorizer = CountVectorizer(stop_words="english")
    else:  # Chinese: users pass a jieba-based tokenizer to CountVectorizer
        naive_vectorizer = CountVectorizer(tokenizer=vectorizer.analyzer(), token_pattern=None, lowercase=False)
    return corpus.texts, np.asarray(embeddings), naive_vectorizer, cfg.topics.language


def agreement(naive: list[dict], ours: list[dict]) -> tuple[int, float]:
    """(trials whose n_topics, c_npmi and c_v agree to 1e-9, largest difference)."""
    def close(a: float | None, b: float | None) -> bool:
        if a is None or b is None or math.isnan(a) or math.isnan(b):
            return (a is None or math.isnan(a)) and (b is None or math.isnan(b))
        return a == b or abs(a - b) <= 1e-9

    worst = max((abs(a[m] - b[m]) for a, b in zip(naive, ours) for m in METRICS
                 if a[m] is not None and b[m] is not None and not math.isnan(a[m]) and not math.isnan(b[m])),
                default=0.0)
    return sum(all(close(a[m], b[m]) for m in METRICS) for a, b in zip(naive, ours)), worst


def bench(name: str, overrides: list[str], n_trials: int, seed: int, knn: str, command: bool,
          workers: list[int]) -> bool:
    """Run one corpus at one trial count; False when the reductions should be identical but metrics disagree."""
    overrides = [*overrides, f"knn.backend={knn}"]
    docs, embeddings, naive_vectorizer, language = embeddings_for(overrides)
    trials = draw_trials(n_trials, len(docs), seed)
    distinct = len({(t["reducer.random_state"], t["reducer.min_dist"]) for t in trials})
    print(f"\n## {name}: {len(docs)} documents, {n_trials} trials, {distinct} distinct UMAP configs, "
          f"knn.backend={knn}", flush=True)

    warm_up_umap(embeddings)
    naive_metrics, naive_times = [], []
    start, cpu_start = time.perf_counter(), time.process_time()
    for trial in trials:
        metrics, times = naive_trial(docs, embeddings, trial, naive_vectorizer, language)
        naive_metrics.append(metrics)
        naive_times.append(times)
    naive_total, naive_cpu = time.perf_counter() - start, time.process_time() - cpu_start

    with tempfile.TemporaryDirectory() as scratch:
        ours_metrics, ours_times, ours_total, ours_cpu = topicsweep_trials(overrides, trials, Path(scratch))
    rows = [("naive loop", naive_total, naive_cpu, mean_stages(naive_times)),
            ("TopicSweep, in process", ours_total, ours_cpu, mean_stages(ours_times))]
    checks = [("in process", *agreement(naive_metrics, ours_metrics))]
    for count in (workers if command else []):
        with tempfile.TemporaryDirectory() as scratch:
            command_metrics, command_times, command_total, command_cpu = command_trials(
                overrides, trials, Path(scratch), count)
        arm = "`topicsweep sweep`, whole command" + (f", workers={count}" if count > 1 else "")
        rows.append((arm, command_total, command_cpu, where_the_cpu_went(command_times, command_cpu)))
        checks.append((arm, *agreement(naive_metrics, command_metrics)))

    print("| arm | total s | s/trial | speed-up | CPU s | stages (mean s a trial; commands: summed) |")
    print("|---|---|---|---|---|---|")
    for arm, total, cpu, stages in rows:
        print(f"| {arm} | {total:.1f} | {total / n_trials:.2f} | {naive_total / total:.1f}× | {cpu:.1f} | {stages} |")
    for arm, agree, worst in checks:
        print(f"{arm}: trials whose n_topics/c_npmi/c_v agree with the naive loop to 1e-9: {agree}/{n_trials}; "
              f"largest metric difference {worst:.2e}")
    print(f"peak RSS of this process so far: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB",
          flush=True)
    from runner.stages.knn import UMAP_SMALL_DATA

    identical = knn == "umap" or (knn == "auto" and len(docs) < UMAP_SMALL_DATA)
    if identical and any(agree < n_trials for _, agree, _ in checks):
        print("FAIL: with UMAP's own neighbour search the metrics must agree to 1e-9")
        return False
    return True


def warm_up_umap(embeddings: np.ndarray) -> None:
    """Compile UMAP's numba code before any arm is timed: in this process (the naive loop and the in-process
    arm) and in numba's disk cache (the commands load it, as every TopicSweep process after the first does).
    A new process running plain UMAP compiles it again on its first fit; the naive loop is not charged that."""
    from umap import UMAP

    from runner.stages.compiled_cache import cache_compiled_umap

    cache_compiled_umap()
    UMAP(n_neighbors=15, n_components=5, metric="cosine", random_state=0).fit_transform(embeddings[:300])


def mean_stages(rows: list[dict]) -> str:
    return ", ".join(f"{stage} {np.mean([row[stage] for row in rows]):.3f}" for stage in rows[0])


def where_the_cpu_went(rows: list[dict], cpu: float) -> str:
    """A command's trial stages (wall seconds summed over trials) and its CPU seconds beyond them.

    A stage's wall time is its CPU time but for waiting (a worker waiting for the reduction another is
    fitting counts it in ``reduce``) and for the neighbour graph (numba on every core).
    """
    stages = {stage: sum(row[stage] for row in rows) for stage in rows[0]}
    named = ", ".join(f"{stage} {seconds:.1f}" for stage, seconds in stages.items())
    return (f"stages summed over trials (s): {named}; CPU beyond them {cpu - sum(stages.values()):.1f} s "
            "(imports, study, MLflow parent and child runs, trial files, figures, report)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--corpus", default="bbc", help=f"{', '.join(CORPORA)}, all, or a corpus file")
    parser.add_argument("--text-column", default="text", help="for a corpus file: name or 0-based position")
    parser.add_argument("--label-column", default=None, help="for a corpus file (optional)")
    parser.add_argument("--trials", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--knn", default="auto", help="TopicSweep's knn.backend (umap = bit-identical to plain UMAP)")
    parser.add_argument("--no-command", dest="command", action="store_false",
                        help="skip the whole-command arm (c)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1],
                        help="whole-command arms to run: 1 = one process; N > 1 = workers=N on a journal file")
    args = parser.parse_args()
    corpora = [*CORPORA] if args.corpus == "all" else [args.corpus]
    results = []
    for corpus in corpora:
        name, overrides = corpus_overrides(corpus, args.text_column, args.label_column)
        results.extend(bench(name, overrides, n, args.seed, args.knn, args.command, args.workers)
                       for n in args.trials)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
