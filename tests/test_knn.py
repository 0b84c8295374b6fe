"""UMAP's neighbour graph: exact torch kNN, backend choice, and one computation per (embeddings, k, metric)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from runner.cache import Cache
from runner.config import compose, resolve
from runner.errors import UserError
from runner.stages.knn import exact_knn, pynndescent_knn, resolve_backend
from runner.stages.reduce import reduce_embeddings


@pytest.fixture(scope="module")
def points() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(500, 16)).astype(np.float32)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_exact_knn_equals_brute_force(points: np.ndarray, metric: str) -> None:
    indices, distances = exact_knn(points, 10, metric)
    expected_d, expected_i = NearestNeighbors(n_neighbors=10, metric=metric, algorithm="brute").fit(points) \
        .kneighbors(points)
    assert (indices[:, 0] == np.arange(len(points))).all() and (distances[:, 0] == 0).all()
    np.testing.assert_array_equal(indices, expected_i)
    np.testing.assert_allclose(distances, expected_d, atol=1e-4)


def test_pynndescent_backend_agrees_on_most_neighbours(points: np.ndarray) -> None:
    approximate, _ = pynndescent_knn(points, 10, "cosine")
    exact, _ = exact_knn(points, 10, "cosine")
    overlap = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approximate, exact)])
    assert overlap > 0.9


def test_auto_backend_choice() -> None:
    assert resolve_backend("auto", "cosine", 2_000, "cpu") == "umap"
    assert resolve_backend("auto", "cosine", 10_000, "cpu") == "exact"
    assert resolve_backend("auto", "cosine", 1_000_000, "cpu") == "pynndescent"
    assert resolve_backend("auto", "cosine", 200_000, "cuda") == "exact"
    assert resolve_backend("auto", "manhattan", 10_000, "cpu") == "pynndescent"
    with pytest.raises(UserError, match="knn.backend=exact supports metrics cosine, euclidean, not 'manhattan'"):
        resolve_backend("exact", "manhattan", 100, "cpu")
    with pytest.raises(UserError, match="knn.backend must be one of"):
        resolve_backend("faiss", "cosine", 100, "cpu")


def test_umap_backend_reproduces_plain_umap_bit_for_bit(points: np.ndarray, tmp_path: Path) -> None:
    from umap import UMAP

    cfg = resolve(compose(["reducer.random_state=3", "knn.backend=umap"]))
    ours = reduce_embeddings(cfg.reducer, cfg.knn, points, "points", Cache(tmp_path))
    plain = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=3).fit_transform(points)
    np.testing.assert_array_equal(ours, plain)


@pytest.mark.parametrize("backend", ["umap", "exact"])
def test_the_graph_is_computed_once_for_every_min_dist_and_seed(points: np.ndarray, tmp_path: Path,
                                                                backend: str) -> None:
    cache = Cache(tmp_path)
    reductions = []
    for min_dist, seed in [(0.0, 0), (0.1, 0), (0.0, 1), (0.5, 2)]:
        cfg = resolve(compose([f"reducer.min_dist={min_dist}", f"reducer.random_state={seed}", f"knn.backend={backend}"]))
        reductions.append(reduce_embeddings(cfg.reducer, cfg.knn, points, "points", cache))
    assert cache.misses == {"reduced": 4, "knn": 2}  # indices + distances, once
    assert cache.hits == {"knn": 6}
    assert not np.allclose(reductions[0], reductions[1])
    cfg = resolve(compose(["reducer.n_neighbors=5", f"knn.backend={backend}"]))
    reduce_embeddings(cfg.reducer, cfg.knn, points, "points", cache)
    assert cache.misses["knn"] == 4  # another n_neighbors is another graph


def test_seeded_umap_on_a_precomputed_graph_is_reproducible(points: np.ndarray, tmp_path: Path) -> None:
    cfg = resolve(compose(["reducer.random_state=7"]))
    first = reduce_embeddings(cfg.reducer, cfg.knn, points, "points", Cache(tmp_path / "a"))
    second = reduce_embeddings(cfg.reducer, cfg.knn, points, "points", Cache(tmp_path / "b"))
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "manhattan", "correlation"])
def test_all_pair_distances_equal_scikit_learn_with_umaps_metric(points: np.ndarray, metric: str) -> None:
    from sklearn.metrics import pairwise_distances
    from umap.distances import named_distances

    from runner.stages.knn import all_pair_distances

    expected = pairwise_distances(points[:200], metric=named_distances[metric])  # what UMAP itself does
    np.testing.assert_array_equal(all_pair_distances(points[:200], metric), expected)
