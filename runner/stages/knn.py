"""Nearest-neighbour graph for UMAP, computed once per (embeddings, n_neighbors, metric).

UMAP spends much of a fit finding neighbours; the graph does not depend on min_dist, n_components
or random_state, so trials that vary those reuse it (``precomputed_knn``). Backends:

- ``umap``: exactly UMAP's own search, so reductions are bit-identical to plain ``UMAP(...)``.
  Below ``UMAP_SMALL_DATA`` documents UMAP computes all pairwise distances (seed-independent),
  and that graph is computed once and shared; above it UMAP's search depends on the seed, so each
  fit searches on its own (nothing shared).
- ``exact``: exact neighbours by blocked matrix products in torch (on the GPU when present),
  for ``cosine`` and ``euclidean``; on 2 CPU cores it beats pynndescent (and its numba JIT) on
  corpora up to tens of thousands of documents.
- ``pynndescent``: UMAP's own approximate search, for other metrics and very large corpora.

``auto`` picks ``umap`` below ``UMAP_SMALL_DATA`` documents (identical to plain UMAP and shared),
``exact`` for cosine/euclidean up to ``EXACT_LIMIT_CPU`` documents (``EXACT_LIMIT_GPU`` with a GPU;
exact neighbours instead of UMAP's approximate ones, so reductions differ slightly from plain UMAP),
else ``pynndescent``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from runner.errors import UserError

BACKENDS = ("auto", "umap", "exact", "pynndescent")
UMAP_SMALL_DATA = 4096  # UMAP's own threshold for computing all pairwise distances
EXACT_METRICS = ("cosine", "euclidean")
EXACT_LIMIT_CPU = 60_000
EXACT_LIMIT_GPU = 500_000
_BLOCK_ELEMENTS = 2**25  # similarity block size (rows × documents)


def resolve_backend(backend: str, metric: str, n_docs: int, device: str) -> str:
    """The backend ``auto`` stands for, given the metric, corpus size and device."""
    if backend not in BACKENDS:
        raise UserError(f"knn.backend must be one of {', '.join(BACKENDS)}, not '{backend}'")
    if backend == "exact" and metric not in EXACT_METRICS:
        raise UserError(f"knn.backend=exact supports metrics {', '.join(EXACT_METRICS)}, not '{metric}'")
    if backend != "auto":
        return backend
    if n_docs < UMAP_SMALL_DATA:
        return "umap"
    limit = EXACT_LIMIT_GPU if device == "cuda" else EXACT_LIMIT_CPU
    return "exact" if metric in EXACT_METRICS and n_docs <= limit else "pynndescent"


def umap_small_data_knn(embeddings: np.ndarray, n_neighbors: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """UMAP's own small-data neighbours (all pairwise distances with UMAP's metric), bit for bit.

    UMAP hands its numba metric to scikit-learn's ``pairwise_distances``, which calls it once per
    pair from Python (4 s for 2,225 documents here); :func:`all_pair_distances` makes the same calls
    from compiled code on every core, with the same float32 results.
    """
    from umap.distances import named_distances
    from umap.umap_ import DISCONNECTION_DISTANCES, nearest_neighbors

    if metric not in named_distances:
        raise UserError(f"knn.backend=umap does not know reducer.metric '{metric}'")
    distances = all_pair_distances(np.asarray(embeddings, dtype=np.float32), metric)
    distances[distances >= DISCONNECTION_DISTANCES.get(metric, np.inf)] = np.inf
    indices, knn_distances, _ = nearest_neighbors(distances, n_neighbors, "precomputed", {}, False, None)
    return indices, knn_distances


def all_pair_distances(data: np.ndarray, metric: str) -> np.ndarray:
    """Distances between all rows under UMAP's metric ``metric``, as ``pairwise_distances`` computes them.

    Each pair is computed once, by the same numba function on the same float32 rows, and stored in
    ``data``'s dtype on both sides of the diagonal (what scikit-learn does for a callable metric).
    """
    return _all_pairs_kernel(metric)(data)


@functools.cache
def _all_pairs_kernel(metric: str) -> Callable[[np.ndarray], np.ndarray]:
    """A compiled all-pairs loop around UMAP's numba ``metric`` (compiled once per process and metric)."""
    import numba
    from umap.distances import named_distances

    distance = named_distances[metric]

    @numba.njit(parallel=True)
    def all_pairs(data: np.ndarray) -> np.ndarray:  # pragma: no cover (compiled)
        n_rows = data.shape[0]
        out = np.empty((n_rows, n_rows), dtype=data.dtype)
        for row in numba.prange(n_rows):
            for other in range(row, n_rows):
                value = distance(data[row], data[other])
                out[row, other] = value
                out[other, row] = value
        return out

    return all_pairs


def exact_knn(embeddings: np.ndarray, n_neighbors: int, metric: str, device: str = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """Exact neighbours (self first, distance 0) as UMAP expects: (indices int64, distances float32)."""
    import torch

    data = torch.as_tensor(np.array(embeddings, dtype=np.float32), device=device)  # a writable copy (cache is read-only)
    if metric == "cosine":
        data = torch.nn.functional.normalize(data, dim=1)
    squared_norms = (data * data).sum(dim=1)
    n_docs = data.shape[0]
    rows = max(1, _BLOCK_ELEMENTS // max(n_docs, 1))
    indices = np.empty((n_docs, n_neighbors), dtype=np.int64)
    distances = np.empty((n_docs, n_neighbors), dtype=np.float32)
    for start in range(0, n_docs, rows):
        block = data[start:start + rows]
        products = block @ data.T
        if metric == "cosine":
            scores = products  # larger is closer
        else:
            scores = -(squared_norms[start:start + rows, None] + squared_norms[None, :] - 2 * products)
        own = torch.arange(start, start + block.shape[0], device=device)
        scores[torch.arange(block.shape[0], device=device), own] = float("inf")  # self first, whatever the ties
        best_scores, best = torch.topk(scores, n_neighbors, dim=1)
        if metric == "cosine":
            best_distances = (1.0 - best_scores).clamp(min=0.0)
        else:
            best_distances = (-best_scores).clamp(min=0.0).sqrt()
        best_distances[:, 0] = 0.0
        indices[start:start + block.shape[0]] = best.cpu().numpy()
        distances[start:start + block.shape[0]] = best_distances.cpu().numpy()
    return indices, distances


def pynndescent_knn(embeddings: np.ndarray, n_neighbors: int, metric: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """UMAP's approximate neighbours (pynndescent), seeded for reproducibility."""
    from umap.umap_ import nearest_neighbors

    indices, distances, _ = nearest_neighbors(np.asarray(embeddings, dtype=np.float32), n_neighbors, metric, {}, False,
                                              np.random.RandomState(seed), low_memory=True, use_pynndescent=True)
    return indices.astype(np.int64), distances.astype(np.float32)
