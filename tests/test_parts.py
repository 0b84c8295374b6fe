"""Pipeline parts usable with BERTopic: reducer=autoencoder, clusterer=dbscan, embedding=tfidf_svd, and
the silhouette / Davies–Bouldin metrics of the clusters."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf
from sklearn.metrics import davies_bouldin_score, silhouette_score

from runner.cache import Cache
from runner.errors import UserError
from runner.metrics import cluster_separation
from runner.metrics.clustering import silhouette
from runner.stages.cluster import check_clusterer
from runner.stages.embed import TfidfSvdEmbedder
from runner.stages.reduce import reduce_embeddings
from tests.conftest import CliRunner


def blobs(n_per: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    points = np.concatenate([rng.normal(c, 1.0, size=(n_per, 2)) for c in centres])
    return points, np.repeat(np.arange(3), n_per)


def test_cluster_separation_is_sklearns_on_the_clustered_documents() -> None:
    points, labels = blobs(40)
    labels[::7] = -1  # outliers are left out
    kept = labels != -1
    scores = cluster_separation(points, labels)
    assert scores["silhouette"] == pytest.approx(silhouette_score(points[kept], labels[kept]))
    assert scores["davies_bouldin"] == pytest.approx(davies_bouldin_score(points[kept], labels[kept]))
    assert scores["silhouette"] > 0.5 and scores["davies_bouldin"] < 1  # well-separated blobs


def test_cluster_separation_samples_silhouette_in_large_corpora_with_a_seed() -> None:
    points, labels = blobs(100)
    sampled = cluster_separation(points, labels, sample_size=50, random_state=3)
    assert sampled["silhouette"] == pytest.approx(silhouette_score(points, labels, sample_size=50, random_state=3),
                                                  abs=1e-12)  # the same sample
    assert sampled["silhouette"] != cluster_separation(points, labels)["silhouette"]
    assert sampled["davies_bouldin"] == pytest.approx(davies_bouldin_score(points, labels))  # never sampled


@pytest.mark.parametrize("block_bytes", [64 * 2**20, 8 * 300 * 7])  # one block; blocks of 7 rows, the last short
def test_silhouette_equals_sklearns_with_singleton_clusters_and_in_blocks(block_bytes: int) -> None:
    rng = np.random.default_rng(4)
    points = rng.normal(size=(300, 5))
    labels = rng.integers(0, 12, size=300)
    labels[:2] = [40, 41]  # singleton clusters: their documents score 0
    assert silhouette(points, labels, block_bytes) == pytest.approx(silhouette_score(points, labels), abs=1e-12)
    assert math.isnan(silhouette(points, np.zeros(300, dtype=int)))
    assert math.isnan(silhouette(points[:3], np.arange(3)))  # as many clusters as documents


@pytest.mark.parametrize("labels", [[0, 0, 0, 0], [-1, -1, 0, 1], [0, 1, -1, -1]])
def test_cluster_separation_is_nan_without_two_clusters_of_several_documents(labels: list[int]) -> None:
    scores = cluster_separation(np.arange(8.0).reshape(4, 2), labels)
    assert math.isnan(scores["silhouette"]) and math.isnan(scores["davies_bouldin"])


def test_cluster_separation_rejects_a_space_of_the_wrong_length() -> None:
    with pytest.raises(UserError, match="one row per label"):
        cluster_separation(np.zeros((3, 2)), [0, 1])


def test_tfidf_svd_embeds_deterministically_and_checks_its_size() -> None:
    texts = [f"topic {i % 3} words alpha{i % 3} beta{i % 5} gamma{i % 2} shared" for i in range(30)]
    vectors = TfidfSvdEmbedder(n_components=4, min_df=1, stop_words=None).embed(texts)
    assert vectors.shape == (30, 4) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert np.array_equal(vectors, TfidfSvdEmbedder(n_components=4, min_df=1, stop_words=None).embed(texts))
    fingerprint = TfidfSvdEmbedder(n_components=4).fingerprint()
    assert fingerprint["n_components"] == 4 and fingerprint != TfidfSvdEmbedder(n_components=5).fingerprint()
    with pytest.raises(UserError, match="n_components=400 needs a vocabulary larger"):
        TfidfSvdEmbedder(n_components=400, min_df=1).embed(texts)


def test_autoencoder_reduction_is_cached_like_umaps(tmp_path: Path) -> None:
    cfg = OmegaConf.create({"reducer": {"_target_": "runner.models.autoencoder.AutoencoderReducer", "n_components": 3,
                                        "hidden_dims": [16], "epochs": 3, "batch_size": 16, "random_state": 1,
                                        "device": "cpu"},
                            "knn": {"backend": "auto", "device": "cpu"}})
    embeddings = np.random.default_rng(0).normal(size=(40, 8)).astype(np.float32)
    cache = Cache(tmp_path)
    reduced = reduce_embeddings(cfg.reducer, cfg.knn, embeddings, "emb-key", cache)
    assert reduced.shape == (40, 3) and cache.misses == {"reduced": 1}
    again = reduce_embeddings(cfg.reducer, cfg.knn, embeddings, "emb-key", cache)
    assert np.array_equal(again, reduced) and cache.hits == {"reduced": 1}
    fresh = reduce_embeddings(cfg.reducer, cfg.knn, embeddings, "emb-key", Cache(tmp_path / "other"))
    assert np.array_equal(fresh, reduced)  # same seed, same codes


def test_dbscan_settings_are_checked() -> None:
    with pytest.raises(UserError, match="clusterer.eps must be positive"):
        check_clusterer(OmegaConf.create({"_target_": "sklearn.cluster.DBSCAN", "eps": 0, "min_samples": 5}), 100)
    with pytest.raises(UserError, match="clusterer.min_samples must be at least 1"):
        check_clusterer(OmegaConf.create({"_target_": "sklearn.cluster.DBSCAN", "eps": 0.5, "min_samples": 0}), 100)


def _metrics(cli: CliRunner, output_dir: Path, name: str, env: dict[str, str] | None,
             *overrides: str) -> dict[str, float]:
    done = cli("run", "tracking=none", f"run_name={name}", *overrides, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads((output_dir / "runs" / name / "metrics.json").read_text())["metrics"]


def test_tfidf_svd_embeddings_and_autoencoder_reducer_through_the_cli(cli: CliRunner, output_dir: Path) -> None:
    metrics = _metrics(cli, output_dir, "ae", {"OMP_NUM_THREADS": "1"}, "embedding=tfidf_svd", "embedding.n_components=20",
                       "reducer=autoencoder", "reducer.epochs=5", "reducer.hidden_dims=[64]", "clusterer=kmeans",
                       "clusterer.n_clusters=5")
    assert metrics["n_topics"] == 5 and metrics["outlier_ratio"] == 0
    assert -1 <= metrics["silhouette"] <= 1 and metrics["davies_bouldin"] > 0


def test_dbscan_clusterer_through_the_cli(cli: CliRunner, output_dir: Path) -> None:
    metrics = _metrics(cli, output_dir, "dbscan", None, "embedding=hashing", "reducer=pca", "clusterer=dbscan",
                       "clusterer.eps=0.1")
    assert metrics["n_topics"] >= 2 and 0 < metrics["outlier_ratio"] < 1  # dense regions and noise
    assert -1 <= metrics["silhouette"] <= 1 and metrics["davies_bouldin"] > 0
