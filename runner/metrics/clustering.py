"""Document-level clustering measures on topic assignments (label -1 = outlier)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from runner.errors import UserError

__all__ = ["OUTLIER", "SEPARATION_SAMPLE", "cluster_separation", "label_agreement", "largest_topic_share", "n_topics",
           "outlier_ratio"]

OUTLIER = -1
"""Label of documents assigned to no topic."""

SEPARATION_SAMPLE = 5000
"""Silhouette is computed on a seeded sample of this many documents in larger corpora."""


def _labels(labels: Sequence[int], name: str = "labels") -> np.ndarray:
    if isinstance(labels, (str, bytes)):
        raise UserError(f"{name} must be a sequence of integer labels, got a string")
    array = np.asarray(labels)
    if array.ndim != 1:
        raise UserError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise UserError(f"{name} must be integers, got dtype {array.dtype}")
    return array


def outlier_ratio(labels: Sequence[int]) -> float:
    """Share of documents labelled -1.

    Args:
        labels: Topic label per document.

    Returns:
        The share in [0, 1]; ``nan`` when there are no documents.
    """
    array = _labels(labels)
    if array.size == 0:
        return float("nan")
    return float(np.count_nonzero(array == OUTLIER) / array.size)


def n_topics(labels: Sequence[int]) -> int:
    """Number of distinct topics, not counting the outlier label -1.

    Args:
        labels: Topic label per document.

    Returns:
        The number of topics.
    """
    array = _labels(labels)
    return int(np.unique(array[array != OUTLIER]).size)


def largest_topic_share(labels: Sequence[int]) -> float:
    """Size of the largest non-outlier topic divided by the number of documents.

    Args:
        labels: Topic label per document.

    Returns:
        The share in [0, 1]; 0.0 when there is no non-outlier topic (or no document).
    """
    array = _labels(labels)
    topics = array[array != OUTLIER]
    if topics.size == 0:
        return 0.0
    _, sizes = np.unique(topics, return_counts=True)
    return float(sizes.max() / array.size)


def label_agreement(labels: Sequence[int], gold: Sequence[Hashable]) -> dict[str, float]:
    """Agreement of topic labels with gold labels: NMI and ARI over all documents.

    Outliers stay in, as their own cluster -1. Uses scikit-learn's
    ``normalized_mutual_info_score`` (arithmetic normalisation) and ``adjusted_rand_score``.

    Args:
        labels: Topic label per document.
        gold: Gold label per document (any hashable values, e.g. strings).

    Returns:
        ``{"nmi": ..., "ari": ...}``; both ``nan`` when there are no documents.

    Raises:
        UserError: If the two label lists have different lengths.
    """
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    array = _labels(labels)
    if isinstance(gold, (str, bytes)):
        raise UserError("gold labels must be a sequence of labels, got a string")
    gold_list = list(gold)
    if len(gold_list) != array.size:
        raise UserError(
            f"gold labels have {len(gold_list)} entries but topic labels have {array.size}"
        )
    if array.size == 0:
        return {"nmi": float("nan"), "ari": float("nan")}
    return {
        "nmi": float(normalized_mutual_info_score(gold_list, array)),
        "ari": float(adjusted_rand_score(gold_list, array)),
    }


def cluster_separation(space: np.ndarray, labels: Sequence[int], sample_size: int = SEPARATION_SAMPLE,
                       random_state: int = 0) -> dict[str, float]:
    """Silhouette and Davies–Bouldin index of clusters in the space they were clustered in.

    Outliers (-1) are left out. Distances are Euclidean. Silhouette (higher is better, in [-1, 1])
    is computed on a seeded random sample of ``sample_size`` documents when there are more
    (scikit-learn's ``sample_size``); Davies–Bouldin (lower is better, >= 0) is linear in the
    number of documents and uses them all.

    Args:
        space: One row per document (reduced embeddings, latent codes).
        labels: Cluster per document.
        sample_size: Most documents silhouette looks at.
        random_state: Seed of the silhouette sample.

    Returns:
        ``{"silhouette": ..., "davies_bouldin": ...}``; both ``nan`` unless there are at least two
        clusters and more clustered documents than clusters.

    Raises:
        UserError: If ``space`` is not a matrix with one row per label.
    """
    from sklearn.metrics import davies_bouldin_score, silhouette_score

    array = _labels(labels)
    points = np.asarray(space, dtype=np.float64)
    if points.ndim != 2 or len(points) != array.size:
        raise UserError(f"space must have one row per label ({array.size}), got shape {points.shape}")
    kept = array != OUTLIER
    points, array = points[kept], array[kept]
    n_clusters = np.unique(array).size
    if not 2 <= n_clusters < array.size:
        return {"silhouette": float("nan"), "davies_bouldin": float("nan")}
    sample = sample_size if array.size > sample_size else None
    try:
        silhouette = float(silhouette_score(points, array, sample_size=sample, random_state=random_state))
    except ValueError:  # the sample drew fewer than two clusters
        silhouette = float("nan")
    return {"silhouette": silhouette, "davies_bouldin": float(davies_bouldin_score(points, array))}
