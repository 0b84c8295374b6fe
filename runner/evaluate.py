"""Turn a fitted topic model into the metrics that TopicSweep reports (definitions: README, DESIGN §4)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from omegaconf import DictConfig

from runner.errors import UserError
from runner.metrics import (
    DEFAULT_WINDOW,
    MEASURES,
    MODES,
    CoherenceResult,
    inverted_rbo,
    label_agreement,
    largest_topic_share,
    n_topics,
    outlier_ratio,
    topic_diversity,
)
from runner.stages.topics import TopicModelResult

ENGINES = ("index", "gensim")
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


def window_size(metrics_cfg: DictConfig, measure: str) -> int | None:
    """The sliding-window size used for ``measure`` (gensim's default unless configured)."""
    return metrics_cfg.window_size.get(measure, DEFAULT_WINDOW[measure])


def evaluate(topics: TopicModelResult, coherence: CoherenceScorer, gold: Sequence[str] | None,
             metrics_cfg: DictConfig) -> dict[str, float]:
    """All metrics of one run; topic -1 is excluded from topic-level metrics.

    Args:
        topics: The fitted topics.
        coherence: Scores topics with one measure (the fast index or gensim, same numbers).
        gold: Gold labels per document, or None.
        metrics_cfg: The ``metrics`` config node.
    """
    words = [topics.words[t] for t in sorted(topics.words)]
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
    return metrics
