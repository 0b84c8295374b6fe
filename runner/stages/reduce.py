"""Reducer stage: full embeddings to reduced embeddings, cached per embedding and reducer config.

BERTopic keeps the full embeddings (topic embeddings, embedding-based outlier reduction and
representations work in the full space) and gets a :class:`CachedReduction` whose fit/transform
answer from the cache instead of refitting UMAP.
"""

from __future__ import annotations

import warnings
from importlib.metadata import version
from typing import Any

import numpy as np
from omegaconf import DictConfig

from runner.build import instantiate, kwargs_of, require_numbers, target_of
from runner.cache import Cache, cache_key
from runner.errors import UserError
from runner.stages.compiled_cache import cache_compiled_umap
from runner.stages.embed import pick_device
from runner.stages.knn import UMAP_SMALL_DATA, exact_knn, pynndescent_knn, resolve_backend, umap_small_data_knn

_LIBRARY_OF_TARGET = {"umap.": "umap-learn", "sklearn.": "scikit-learn", "bertopic.": "bertopic",
                      "runner.models.autoencoder.": "torch"}


def reducer_key(reducer_cfg: DictConfig, embedding_key: str, knn_backend: str | None) -> str:
    """Cache key of a reduction: embedding key + reducer target, kwargs, kNN backend and library version."""
    target = target_of(reducer_cfg)
    library = next((lib for prefix, lib in _LIBRARY_OF_TARGET.items() if target.startswith(prefix)), None)
    return cache_key("reduced", embedding_key, target, kwargs_of(reducer_cfg), knn_backend,
                     version(library) if library else None)


def check_reducer(reducer_cfg: DictConfig, n_docs: int) -> None:
    """Reject values the reducer would fail on late or silently misuse."""
    params = kwargs_of(reducer_cfg)
    require_numbers("reducer", params, ("n_components", "n_neighbors"), integer=True)
    require_numbers("reducer", params, ("min_dist",))
    n_components = params.get("n_components")
    if n_components is not None and n_components < 1:
        raise UserError(f"reducer.n_components must be at least 1, not {n_components}")
    if params.get("min_dist") is not None and params["min_dist"] < 0:
        raise UserError(f"reducer.min_dist must be >= 0, not {params['min_dist']}")
    n_neighbors = params.get("n_neighbors")
    if n_neighbors is not None and n_neighbors < 2:
        raise UserError(f"reducer.n_neighbors must be at least 2, not {n_neighbors}")
    if n_neighbors is not None and n_neighbors >= n_docs:
        raise UserError(f"corpus too small: {n_docs} documents for reducer.n_neighbors={n_neighbors}; "
                        f"use fewer neighbours or more documents")
    if n_components is not None and target_of(reducer_cfg).startswith("umap.") and n_components >= n_docs - 1:
        raise UserError(f"corpus too small: {n_docs} documents for reducer.n_components={n_components}")


def reduce_embeddings(reducer_cfg: DictConfig, knn_cfg: DictConfig, embeddings: np.ndarray, embedding_key: str,
                      cache: Cache) -> np.ndarray:
    """Reduced embeddings for this reducer config, from the cache or by fitting the reducer once.

    UMAP gets its neighbour graph from :func:`knn_graph` (cached apart, shared by every
    min_dist/n_components/random_state of the same n_neighbors and metric).
    """
    check_reducer(reducer_cfg, len(embeddings))
    is_umap = target_of(reducer_cfg) == "umap.UMAP"
    params = kwargs_of(reducer_cfg)
    device = pick_device(knn_cfg.device)
    backend = resolve_backend(knn_cfg.backend, params.get("metric", "euclidean"), len(embeddings), device) \
        if is_umap else None

    def fit() -> np.ndarray:
        if is_umap:
            cache_compiled_umap()  # a new process loads UMAP's compiled code instead of compiling it again
        extra = {}
        if is_umap and not (backend == "umap" and len(embeddings) >= UMAP_SMALL_DATA):
            extra["precomputed_knn"] = knn_graph(embeddings, embedding_key, params.get("n_neighbors", 15),
                                                 params.get("metric", "euclidean"), backend, device, cache)
        reducer = instantiate(reducer_cfg, **extra)
        with warnings.catch_warnings():
            # UMAP says that a seed forces single-threaded optimisation: expected, seeds are the point.
            warnings.filterwarnings("ignore", message="n_jobs value .* overridden to 1 by setting random_state")
            # A sweep never transforms new documents, so the graph needs no search index.
            warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\] \(knn_search_index\)")
            reduced = reducer.fit_transform(np.asarray(embeddings))
        return np.asarray(reduced, dtype=np.float32)

    return cache.array("reduced", reducer_key(reducer_cfg, embedding_key, backend), fit,
                       meta={"embedding_key": embedding_key, "reducer": params, "target": target_of(reducer_cfg),
                             "knn_backend": backend})


def knn_graph(embeddings: np.ndarray, embedding_key: str, n_neighbors: int, metric: str, backend: str, device: str,
              cache: Cache) -> tuple[np.ndarray, np.ndarray]:
    """(indices, distances) of each document's neighbours, computed once per embeddings, k, metric, backend."""
    key = cache_key("knn", embedding_key, n_neighbors, metric, backend, version("umap-learn"))
    computed: dict[str, np.ndarray] = {}

    def compute(part: str) -> np.ndarray:
        if not computed:
            if backend == "exact":
                computed["indices"], computed["distances"] = exact_knn(embeddings, n_neighbors, metric, device)
            elif backend == "umap":
                computed["indices"], computed["distances"] = umap_small_data_knn(embeddings, n_neighbors, metric)
            else:
                computed["indices"], computed["distances"] = pynndescent_knn(embeddings, n_neighbors, metric)
        return computed[part]

    meta = {"embedding_key": embedding_key, "n_neighbors": n_neighbors, "metric": metric, "backend": backend}
    indices = cache.array("knn", f"{key}-indices", lambda: compute("indices"), meta=meta, mmap=False)
    distances = cache.array("knn", f"{key}-distances", lambda: compute("distances"), mmap=False)
    return indices, distances


class CachedReduction:
    """Reducer handed to BERTopic: fit does nothing, transform returns the cached reduction.

    Only the documents it was built for can be transformed; predicting new documents needs a
    fitted reducer, which a sweep deliberately does not keep.
    """

    def __init__(self, embeddings: np.ndarray, reduced: np.ndarray) -> None:
        self._embeddings = embeddings
        self._reduced = reduced

    def fit(self, X: Any, y: Any = None) -> CachedReduction:  # noqa: N803 (scikit-learn signature)
        self._check(X)
        return self

    def transform(self, X: Any) -> np.ndarray:  # noqa: N803
        self._check(X)
        return np.asarray(self._reduced)

    def _check(self, X: Any) -> None:  # noqa: N803
        if X is not self._embeddings and (np.shape(X) != self._embeddings.shape or not np.array_equal(X, self._embeddings)):
            raise ValueError("CachedReduction only answers for the embeddings it was built from")


class IdentityReducer:
    """Null reducer (``reducer=none``): cluster the full embeddings."""

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:  # noqa: N803 (scikit-learn signature)
        return np.asarray(X)
