"""Turn a fitted topic model into the metrics that TopicSweep reports (definitions: README, DESIGN §4)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence

import numpy as np
from omegaconf import DictConfig

from runner.errors import UserError
from runner.metrics import (
    DEFAULT_WINDOW,
    MEASURES,
    MODES,
    CoherenceResult,
    cluster_separation,
    inverted_rbo,
    label_agreement,
    largest_topic_share,
    n_topics,
    outlier_ratio,
    topic_diversity,
)
from runner.stages.topics import TopicModelResult

ENGINES = ("index", "gensim")
COMPAT_MODES = ("bertopic_paper",)
log = logging.getLogger(__name__)
CoherenceScorer = Callable[[list[list[str]], str], CoherenceResult]
METRIC_NAME = {"c_npmi": "coherence_npmi", "c_v": "coherence_cv", "u_mass": "coherence_umass",
               "c_uci": "coherence_uci"}


def check_metrics(metrics_cfg: DictConfig) -> None:
    """Reject unknown coherence measures and bad window sizes before the run starts."""
    for measure in metrics_cfg.coherence:
        if measure not in MEASURES:
            raise UserError(f"unknown coherence measure '{measure}' in metrics.coherence; use {', '.join(MEASURES)}")
    for measure, size in metrics_cfg.window_size.items():
        if measure not in MEASURES or (size is not None and size < 2):
            raise UserError(f"bad metrics.window_size.{measure}={size}: measures are {', '.join(MEASURES)}, sizes >= 2")
    if metrics_cfg.engine not in ENGINES:
        raise UserError(f"metrics.engine must be one of {', '.join(ENGINES)}, not '{metrics_cfg.engine}'")
    if metrics_cfg.mode not in MODES:
        raise UserError(f"metrics.mode must be one of {', '.join(MODES)}, not '{metrics_cfg.mode}'")
    if metrics_cfg.mode == "exact" and metrics_cfg.engine == "gensim":
        raise UserError("metrics.mode=exact needs metrics.engine=index (gensim only counts its own way)")
    if metrics_cfg.top_n < 2:
        raise UserError(f"metrics.top_n must be at least 2, not {metrics_cfg.top_n}")
    if metrics_cfg.get("compat") not in (None, *COMPAT_MODES):
        raise UserError(f"metrics.compat must be null or {', '.join(COMPAT_MODES)}, not '{metrics_cfg.compat}'")


def window_size(metrics_cfg: DictConfig, measure: str) -> int | None:
    """The sliding-window size used for ``measure`` (gensim's default unless configured)."""
    return metrics_cfg.window_size.get(measure, DEFAULT_WINDOW[measure])


def evaluate(topics: TopicModelResult, coherence: CoherenceScorer, gold: Sequence[str] | None,
             metrics_cfg: DictConfig, reference: Sequence[Sequence[str]] = (),
             clustered: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, float]:
    """All metrics of one run; topic -1 is excluded from topic-level metrics.

    Args:
        topics: The fitted topics.
        coherence: Scores topics with one measure (the fast index or gensim, same numbers).
        gold: Gold labels per document, or None.
        metrics_cfg: The ``metrics`` config node.
        reference: The coherence reference's tokens (read only with ``metrics.compat: bertopic_paper``).
        clustered: (points, cluster labels) of the clustering step, scored by silhouette and
            Davies–Bouldin; None for models that do not cluster.
    """
    words = [topics.words[t] for t in sorted(topics.words)]
    if metrics_cfg.get("compat") == "bertopic_paper":
        words = bertopic_paper_words(words, reference, max(metrics_cfg.top_n, metrics_cfg.diversity_top_k))
    metrics: dict[str, float] = {
        "n_topics": float(n_topics(topics.labels)),
        "outlier_ratio": outlier_ratio(topics.labels),
        "outlier_ratio_before_reduction": outlier_ratio(topics.labels_before),
        "largest_topic_share": largest_topic_share(topics.labels),
        "diversity": topic_diversity(words, top_k=metrics_cfg.diversity_top_k),
        "irbo": inverted_rbo(words, top_k=metrics_cfg.diversity_top_k, p=metrics_cfg.irbo_p),
    }
    for measure in metrics_cfg.coherence:
        result = coherence(words, measure)
        metrics[METRIC_NAME[measure]] = result.score
        metrics["coherence_missing_words"] = float(result.missing_words)
        metrics["coherence_unscored_topics"] = float(result.unscored_topics)
    if gold is not None:
        metrics.update(label_agreement(topics.labels, gold))
    if clustered is not None:
        metrics.update(cluster_separation(*clustered))
    return metrics


def bertopic_paper_words(words: Sequence[Sequence[str]], reference: Sequence[Sequence[str]],
                         top_k: int) -> list[list[str]]:
    """Topic words as the BERTopic paper's evaluation code handed them to OCTIS (``metrics.compat``).

    That code (github.com/MaartenGr/BERTopic_evaluation) took each topic's first ``top_k`` words
    from BERTopic, padded with ``""`` where fewer words had a positive c-TF-IDF, and replaced every
    word absent from the reference corpus by the corpus's first word. The repeated stand-in
    inflates NPMI and lowers diversity; TopicSweep drops such words by default (counted in
    ``coherence_missing_words``). Warns once per process.

    Args:
        words: Each topic's words, best first (empty words already dropped).
        reference: The coherence reference's tokens; its first token is the stand-in.
        top_k: Words per topic (shorter topics are padded with the stand-in, as ``""`` was replaced).
    """
    first = next((token for document in reference for token in document[:1]), "")
    vocabulary = {token for document in reference for token in document}
    _warn_compat(first)
    return [[w if w in vocabulary else first for w in topic[:top_k]] + [first] * max(0, top_k - len(topic))
            for topic in words]


@functools.cache
def _warn_compat(first: str) -> None:
    log.warning("metrics.compat=bertopic_paper: topic words missing from the coherence reference are replaced by "
                "its first word '%s', as the BERTopic paper's evaluation code did (inflates NPMI, lowers TD; "
                "for reproducing published numbers only)", first)
