"""Nearest-neighbour graph for UMAP, computed once per (embeddings, n_neighbors, metric).

UMAP spends much of a fit finding neighbours; the graph does not depend on min_dist, n_components
or random_state, so trials that vary those reuse it (``precomputed_knn``). Two backends:

- ``exact``: exact neighbours by blocked matrix products in torch (on the GPU when present),
  for ``cosine`` and ``euclidean``; on 2 CPU cores it beats pynndescent (and its numba JIT) on
  corpora up to tens of thousands of documents.
- ``pynndescent``: UMAP's own approximate search, for other metrics and very large corpora.

``auto`` picks ``exact`` for cosine/euclidean when the corpus has at most ``EXACT_LIMIT_CPU``
documents (``EXACT_LIMIT_GPU`` with a GPU), else ``pynndescent``.
"""

from __future__ import annotations

import numpy as np

from runner.errors import UserError

BACKENDS = ("auto", "exact", "pynndescent")
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
    limit = EXACT_LIMIT_GPU if device == "cuda" else EXACT_LIMIT_CPU
    return "exact" if metric in EXACT_METRICS and n_docs <= limit else "pynndescent"


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
