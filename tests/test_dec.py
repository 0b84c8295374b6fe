"""model=dec: deep embedded clustering beats k-means on BBC, is deterministic, checks its settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from runner.config import compose, resolve
from runner.errors import UserError
from runner.models.dec import DecTopicModel, soft_assignment, target_distribution
from runner.pipeline import Session
from tests.conftest import BBC, shared_corpus

SMALL = ["model=dec", "tracking=none", "model.hidden_dims=[128,128,256]", "model.device=cpu"]


def test_soft_assignment_is_the_student_t_kernel_and_the_target_sharpens_it() -> None:
    codes = torch.tensor([[0.0, 0.0], [1.0, 0.0], [4.0, 4.0]])
    centres = torch.tensor([[0.0, 0.0], [4.0, 4.0]])
    q = soft_assignment(codes, centres, alpha=1.0)
    kernel = 1 / (1 + np.array([[0, 32], [1, 25], [32, 0]], dtype=np.float64))
    assert np.allclose(q.numpy(), kernel / kernel.sum(axis=1, keepdims=True), atol=1e-6)
    p = target_distribution(q)
    assert torch.allclose(p.sum(dim=1), torch.ones(3))
    assert (p.max(dim=1).values > q.max(dim=1).values).all()  # more confident than Q
    assert torch.equal(p.argmax(dim=1), q.argmax(dim=1))


def test_dec_improves_nmi_over_kmeans_on_the_same_bbc_embeddings(tmp_path: Path, one_torch_thread: None) -> None:
    from sklearn.cluster import KMeans
    from sklearn.metrics import normalized_mutual_info_score

    bbc = shared_corpus(BBC)
    cfg = resolve(compose([*SMALL, "dataset=tsv", f"dataset.path={bbc}", "dataset.text_column=0",
                           "dataset.label_column=2", "embedding=tfidf_svd", "model.num_topics=5",
                           "model.pretrain_epochs=20", "model.update_interval=30"]))
    session = Session(tmp_path)
    result = session.run(cfg)
    corpus = session.corpus(cfg)
    _, _, embeddings = session._embedding(cfg, corpus)  # the cached embeddings DEC clustered
    kmeans = KMeans(5, n_init=20, random_state=42).fit_predict(np.asarray(embeddings))
    baseline = normalized_mutual_info_score(corpus.labels, kmeans)
    assert result.metrics["nmi"] > baseline + 0.005, (result.metrics["nmi"], baseline)
    assert result.metrics["n_topics"] == 5 and result.metrics["outlier_ratio"] == 0
    assert result.metrics["silhouette"] > 0 and result.metrics["davies_bouldin"] > 0  # on the latent codes
    assert all(len(words) == 10 for words in result.topics.words.values())


def test_dec_is_bit_identical_on_rerun_and_from_cached_weights(tmp_path: Path, one_torch_thread: None) -> None:
    cfg = resolve(compose([*SMALL, "embedding=hashing", "model.num_topics=4", "model.hidden_dims=[32,32]",
                           "model.pretrain_epochs=3", "model.update_interval=5", "model.max_iter=40"]))
    first = Session(tmp_path / "a").run(cfg)
    fresh = Session(tmp_path / "b").run(cfg)  # pretrained again
    cached = Session(tmp_path / "a").run(cfg)  # weights from the cache (safetensors)
    assert first.metrics == fresh.metrics == cached.metrics
    assert np.array_equal(first.topics.labels, cached.topics.labels)
    assert list((tmp_path / "a" / "autoencoder").glob("*/weights.safetensors"))
    other_seed = Session(tmp_path / "a").run(resolve(compose([*SMALL, "embedding=hashing", "model.num_topics=4",
                                                              "model.hidden_dims=[32,32]", "model.pretrain_epochs=3",
                                                              "model.update_interval=5", "model.max_iter=40",
                                                              "model.random_state=7"])))
    assert not np.array_equal(other_seed.topics.labels, first.topics.labels)


@pytest.mark.parametrize(("settings", "message"), [
    ({"num_topics": 1}, "model.num_topics must be an integer of at least 2"),
    ({"hidden_dims": [500, 0]}, "model.hidden_dims must be positive widths"),
    ({"tol": 1.5}, r"model.tol must be in \[0, 1\)"),
    ({"update_interval": 0}, "model.update_interval must be a positive integer"),
    ({"pretrain_epochs": 0}, "model.pretrain_epochs must be a positive integer"),
])
def test_dec_rejects_bad_settings(settings: dict, message: str) -> None:
    with pytest.raises(UserError, match=message):
        DecTopicModel(**settings)
