"""Which metrics a user compares (headline) and which only explain a run (diagnostics).

Headline metrics keep their plain names everywhere (MLflow, tables, Optuna user attributes).
Diagnostics (stage timings, cache hits, words missing from the coherence reference, …) are logged
to MLflow under :data:`DIAGNOSTIC_PREFIX`, which sorts after every headline metric, and are left
out of the tables that ``topicsweep best`` and ``topicsweep trials`` print.
"""

from __future__ import annotations

HEADLINE_METRICS: tuple[str, ...] = (
    "coherence_npmi", "coherence_cv", "coherence_umass", "coherence_uci", "diversity", "irbo", "n_topics",
    "outlier_ratio", "outlier_ratio_before_reduction", "largest_topic_share", "nmi", "ari",
)
DIAGNOSTIC_PREFIX = "z_diag/"
_DIAGNOSTIC_NAMES = ("coherence_missing_words", "coherence_unscored_topics")
_DIAGNOSTIC_STARTS = ("time_", "cache_hit_")


def is_diagnostic(metric: str) -> bool:
    """Whether ``metric`` explains a run rather than scores it (timings, cache hits, missing words)."""
    base = metric.removesuffix("_sd")
    return base in _DIAGNOSTIC_NAMES or base.startswith(_DIAGNOSTIC_STARTS)


def tracked_name(metric: str) -> str:
    """The metric's name in MLflow: diagnostics under :data:`DIAGNOSTIC_PREFIX`, the rest unchanged."""
    return f"{DIAGNOSTIC_PREFIX}{metric}" if is_diagnostic(metric) else metric
