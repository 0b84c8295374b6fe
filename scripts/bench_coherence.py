"""Benchmark: gensim CoherenceModel per trial vs CoherenceIndex (build once, score per trial).

Builds a reference corpus of at least ``--min-tokens`` tokens from the real test corpora (BBC
News as preprocessed by OCTIS, whitespace tokens, plus THUCNews headlines segmented with jieba),
repeated as needed; draws ``--topics`` x ``--words`` topics per trial with a fixed seed from the
corpus' most frequent words (topic words are frequent words in practice); and prints, per
measure, gensim's time per trial, the index build time, the index time per trial, the speed-up
and the largest absolute difference between the two (must be <= 1e-9).

Usage::

    python scripts/bench_coherence.py [--min-tokens 1000000] [--trials 20] [--gensim-trials 2]
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runner.metrics import DEFAULT_WINDOW, CoherenceIndex  # noqa: E402
from runner.metrics.topics import prepare_topics  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def load_corpus(data: Path, min_tokens: int) -> list[list[str]]:
    """BBC documents + THUCNews headlines (jieba), repeated until ``min_tokens`` tokens."""
    with open(data / "bbc_news_octis.tsv", encoding="utf-8") as fh:
        base = [line.split("\t", 1)[0].split() for line in fh]
    thucnews = data / "thucnews_headlines.tsv"
    try:
        import jieba
    except ImportError:
        jieba = None
    if jieba is not None and thucnews.exists():
        jieba.setLogLevel(logging.WARNING)
        with open(thucnews, encoding="utf-8") as fh:
            lines = fh.read().splitlines()[1:]
        for line in lines:
            tokens = jieba.lcut(line.split("\t", 1)[0])
            base.append(
                [
                    t
                    for t in tokens
                    if t.strip() and not all(unicodedata.category(c)[0] in "PSZ" for c in t)
                ]
            )
    base_tokens = sum(map(len, base))
    copies = max(1, -(-min_tokens // base_tokens))
    return base * copies


def draw_topics(pool: list[str], n_topics: int, n_words: int, rng: random.Random) -> list[list[str]]:
    return [rng.sample(pool, n_words) for _ in range(n_topics)]


def gensim_per_topic(topics, texts, dictionary, measure: str, top_n: int) -> list[float]:
    """gensim's CoherenceModel on the prepared topics (dictionary built once, outside timing)."""
    from gensim.models.coherencemodel import CoherenceModel

    prepared = prepare_topics(topics, dictionary.token2id, top_n)
    model = CoherenceModel(
        topics=[list(t) for t in prepared.scored_words],
        texts=texts,
        dictionary=dictionary,
        coherence=measure,
        topn=top_n,
        processes=1,
    )
    return [float(v) for v in model.get_coherence_per_topic()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--min-tokens", type=int, default=1_000_000)
    parser.add_argument("--topics", type=int, default=30)
    parser.add_argument("--words", type=int, default=10)
    parser.add_argument("--pool", type=int, default=3000, help="draw topic words from the N most frequent")
    parser.add_argument("--trials", type=int, default=20, help="index trials per measure")
    parser.add_argument("--gensim-trials", type=int, default=2, help="gensim trials per measure")
    parser.add_argument("--measures", nargs="+", default=["c_npmi", "c_v"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from gensim.corpora import Dictionary

    t0 = time.perf_counter()
    texts = load_corpus(args.data, args.min_tokens)
    n_tokens = sum(map(len, texts))
    frequency = Counter(w for doc in texts for w in doc)
    pool = [w for w, _ in frequency.most_common(args.pool)]
    print(
        f"corpus: {len(texts):,} docs, {n_tokens:,} tokens, {len(frequency):,} word types "
        f"(loaded in {time.perf_counter() - t0:.1f}s); topics per trial: {args.topics} x "
        f"{args.words} words drawn (seed {args.seed}) from the {len(pool)} most frequent words"
    )
    t0 = time.perf_counter()
    dictionary = Dictionary(texts)
    print(f"gensim Dictionary(texts): {time.perf_counter() - t0:.2f}s (once, not counted below)\n")

    header = (
        f"{'measure':8} {'window':>6} {'gensim s/trial':>15} {'index build s':>14} "
        f"{'index ms/trial':>15} {'speed-up':>10} {'max |diff|':>11}"
    )
    print(header)
    print("-" * len(header))
    for measure in args.measures:
        window = DEFAULT_WINDOW[measure]
        rng = random.Random(args.seed)
        trials = [draw_topics(pool, args.topics, args.words, rng) for _ in range(max(args.trials, args.gensim_trials))]

        t0 = time.perf_counter()
        index = CoherenceIndex.build(texts, window_size=window, mode="gensim")
        build_s = time.perf_counter() - t0

        index.score(trials[0], measure, top_n=args.words)  # warm-up (first-touch of arrays)
        results = []
        t0 = time.perf_counter()
        for topics in trials[: args.trials]:
            results.append(index.score(topics, measure, top_n=args.words))
        index_s = (time.perf_counter() - t0) / max(1, args.trials)

        gensim_times = []
        max_diff = 0.0
        for topics in trials[: args.gensim_trials]:
            t0 = time.perf_counter()
            reference = gensim_per_topic(topics, texts, dictionary, measure, args.words)
            gensim_times.append(time.perf_counter() - t0)
            ours = index.score(topics, measure, top_n=args.words)
            diffs = np.abs(np.asarray(reference) - np.asarray(ours.per_topic))
            diffs = np.append(diffs, abs(float(np.mean(reference)) - ours.score))
            max_diff = max(max_diff, float(np.max(diffs)))
        gensim_s = float(np.mean(gensim_times)) if gensim_times else float("nan")
        print(
            f"{measure:8} {window!s:>6} {gensim_s:15.2f} {build_s:14.2f} {index_s * 1000:15.1f} "
            f"{gensim_s / index_s:9.0f}x {max_diff:11.1e}"
        )
        assert max_diff <= 1e-9, f"{measure}: index differs from gensim by {max_diff}"


if __name__ == "__main__":
    main()
