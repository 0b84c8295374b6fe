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
    from sklearn.metrics import davies_bouldin_score
    from sklearn.utils import check_random_state

    array = _labels(labels)
    points = np.asarray(space, dtype=np.float64)
    if points.ndim != 2 or len(points) != array.size:
        raise UserError(f"space must have one row per label ({array.size}), got shape {points.shape}")
    kept = array != OUTLIER
    points, array = points[kept], array[kept]
    n_clusters = np.unique(array).size
    if not 2 <= n_clusters < array.size:
        return {"silhouette": float("nan"), "davies_bouldin": float("nan")}
    sampled_points, sampled_labels = points, array
    if array.size > sample_size:  # the sample scikit-learn's silhouette_score(sample_size=...) draws
        indices = check_random_state(random_state).permutation(array.size)[:sample_size]
        sampled_points, sampled_labels = points[indices], array[indices]
    return {"silhouette": silhouette(sampled_points, sampled_labels),
            "davies_bouldin": float(davies_bouldin_score(points, array))}


def silhouette(points: np.ndarray, labels: np.ndarray, block_bytes: int = 64 * 2**20) -> float:
    """Mean silhouette coefficient, Euclidean: scikit-learn's ``silhouette_score`` without its per-row loop.

    The distances from a block of rows to every point (SciPy's ``cdist``, exact where scikit-learn's
    dot-product expansion rounds) are summed per cluster by one matrix product with the one-hot
    cluster matrix, where scikit-learn calls ``np.bincount`` once per row: about 1.7 times faster on a
    trial's 2,000 documents, equal to about 1e-15. Documents in singleton clusters score 0, as in
    scikit-learn. Blocks hold at most ``block_bytes`` of distances.

    Returns:
        The mean over documents; nan unless there are 2 to n - 1 clusters.
    """
    _, codes, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    n, n_clusters = codes.size, sizes.size
    if not 2 <= n_clusters < n:
        return float("nan")
    from scipy.spatial.distance import cdist

    one_hot = np.zeros((n, n_clusters))
    one_hot[np.arange(n), codes] = 1.0
    step = max(1, block_bytes // (8 * n))
    scores = np.empty(n)
    for start in range(0, n, step):
        rows = np.arange(min(step, n - start))
        per_cluster = cdist(points[start:start + rows.size], points) @ one_hot
        own = codes[start:start + rows.size]
        with np.errstate(divide="ignore", invalid="ignore"):
            intra = per_cluster[rows, own] / (sizes[own] - 1)
            per_cluster[rows, own] = np.inf
            inter = (per_cluster / sizes).min(axis=1)
            scores[start:start + rows.size] = (inter - intra) / np.maximum(intra, inter)
    return float(np.mean(np.nan_to_num(scores)))  # nan: a singleton cluster's document, 0 as in scikit-learn
