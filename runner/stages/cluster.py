"""Cluster stage: reduced embeddings to topic labels (-1 = outlier)."""

from __future__ import annotations

from typing import Any

import numpy as np
from omegaconf import DictConfig

from runner.build import instantiate, kwargs_of, require_numbers, target_of
from runner.errors import UserError


def check_clusterer(clusterer_cfg: DictConfig, n_docs: int) -> None:
    """Reject values the clusterer would fail on late or with an unclear message."""
    params = kwargs_of(clusterer_cfg)
    require_numbers("clusterer", params, ("min_cluster_size", "min_samples", "n_clusters"), integer=True)
    size = params.get("min_cluster_size")
    if size is not None and size < 2:
        raise UserError(f"clusterer.min_cluster_size must be at least 2, not {size}")
    if size is not None and size > n_docs:
        raise UserError(f"corpus too small: {n_docs} documents for clusterer.min_cluster_size={size}")
    samples = params.get("min_samples")
    if samples is not None and samples < 1:
        raise UserError(f"clusterer.min_samples must be at least 1 or null, not {samples}")
    method = params.get("cluster_selection_method")
    if method is not None and method not in ("eom", "leaf"):
        raise UserError(f"clusterer.cluster_selection_method must be eom or leaf, not '{method}'")
    require_numbers("clusterer", params, ("eps",))
    if params.get("eps") is not None and params["eps"] <= 0:
        raise UserError(f"clusterer.eps must be positive, not {params['eps']}")
    n_clusters = params.get("n_clusters")
    if n_clusters is not None and not 1 <= n_clusters <= n_docs:
        raise UserError(f"clusterer.n_clusters must be between 1 and the {n_docs} documents, not {n_clusters}")


def cluster(clusterer_cfg: DictConfig, reduced: np.ndarray) -> FittedClusters:
    """Fit the configured clusterer on the reduced embeddings."""
    check_clusterer(clusterer_cfg, len(reduced))
    model = instantiate(clusterer_cfg)
    try:
        model.fit(np.asarray(reduced))
    except TypeError as error:  # a setting of the wrong kind that the constructor accepted (e.g. an unknown key)
        raise UserError(f"clusterer {target_of(clusterer_cfg)} rejected its settings: {error}; check the "
                        f"clusterer.* values (topicsweep config shows them)") from error
    return FittedClusters(np.asarray(model.labels_, dtype=np.int64), getattr(model, "probabilities_", None))


class FittedClusters:
    """Clusterer handed to BERTopic: its labels were computed by :func:`cluster` already."""

    def __init__(self, labels: np.ndarray, probabilities: np.ndarray | None = None) -> None:
        self.labels_ = labels
        if probabilities is not None:
            self.probabilities_ = probabilities

    def fit(self, X: Any, y: Any = None) -> FittedClusters:  # noqa: N803 (scikit-learn signature)
        if len(X) != len(self.labels_):
            raise ValueError(f"FittedClusters holds {len(self.labels_)} labels, got {len(X)} rows")
        return self
