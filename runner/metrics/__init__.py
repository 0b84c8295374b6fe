"""Topic-model metrics (DESIGN.md §4): coherence, diversity, clustering.

Coherence has a reference implementation (:func:`gensim_coherence`, gensim's CoherenceModel)
and a fast one (:class:`CoherenceIndex`, built once per corpus and window size) that gives the
same numbers.
"""

from __future__ import annotations

from runner.metrics.clustering import (
    cluster_separation,
    label_agreement,
    largest_topic_share,
    n_topics,
    outlier_ratio,
)
from runner.metrics.coherence import DEFAULT_WINDOW, MEASURES, CoherenceResult, gensim_coherence
from runner.metrics.coherence_index import MODES, CoherenceIndex
from runner.metrics.diversity import inverted_rbo, topic_diversity
from runner.metrics.topics import PreparedTopics, prepare_topics

__all__ = [
    "DEFAULT_WINDOW",
    "MEASURES",
    "MODES",
    "CoherenceIndex",
    "CoherenceResult",
    "PreparedTopics",
    "cluster_separation",
    "gensim_coherence",
    "inverted_rbo",
    "label_agreement",
    "largest_topic_share",
    "n_topics",
    "outlier_ratio",
    "prepare_topics",
    "topic_diversity",
]
