"""``model=dec``: deep embedded clustering (Xie, Girshick & Farhadi 2016) of the document embeddings.

Defaults follow XifengGuo/DEC-keras: an autoencoder ``d-500-500-2000-10`` pre-trained end to end
(:mod:`runner.models.autoencoder`), k-means with 20 initialisations on its codes for the initial
centres, then SGD (lr 0.01, momentum 0.9) on KL(P‖Q) over consecutive batches of 256, the target
P recomputed every 140 iterations, stopping when fewer than ``tol`` (0.1 %) of the documents change
cluster between two updates or after 20,000 iterations. Topics are described by c-TF-IDF of the
clusters over the cached tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from runner.errors import UserError
from runner.models.autoencoder import (
    DEFAULT_HIDDEN,
    AutoencoderSettings,
    check_settings,
    encode,
    pretrained_autoencoder,
    seeded_torch,
)
from runner.models.base import ModelInputs, result_from_scores
from runner.models.ctfidf import cluster_tfidf
from runner.models.lda import check_num_topics
from runner.stages.embed import pick_device
from runner.stages.topics import TopicModelResult


def soft_assignment(codes: Any, centres: Any, alpha: float = 1.0) -> Any:
    """Student-t soft assignment q_ij ∝ (1 + ‖z_i − μ_j‖²/α)^(−(α+1)/2), rows summing to 1 (torch)."""
    import torch

    kernel = (1.0 + torch.cdist(codes, centres).pow(2) / alpha).pow(-(alpha + 1.0) / 2.0)
    return kernel / kernel.sum(dim=1, keepdim=True)


def target_distribution(q: Any) -> Any:
    """DEC's auxiliary target p_ij ∝ q_ij² / f_j with cluster frequencies f_j = Σ_i q_ij (torch)."""
    weight = q.pow(2) / q.sum(dim=0)
    return weight / weight.sum(dim=1, keepdim=True)


class DecTopicModel:
    """Deep embedded clustering on ``inputs.embeddings()``; one topic per non-empty cluster.

    Args:
        num_topics: Number of clusters.
        hidden_dims: Encoder widths between the embeddings and the code (the decoder mirrors them).
        latent_dim: Width of the code the clusters live in.
        pretrain_epochs: Autoencoder pre-training passes (Adam, ``pretrain_lr``); cached per settings.
        pretrain_lr: Adam learning rate of pre-training.
        lr: SGD learning rate of the KL fine-tuning.
        momentum: SGD momentum of the KL fine-tuning.
        batch_size: Documents per step (pre-training and fine-tuning).
        update_interval: Fine-tuning iterations between recomputations of the target P.
        tol: Stop when this share of documents or fewer changed cluster between two updates.
        max_iter: Most fine-tuning iterations.
        alpha: Degrees of freedom of the Student-t kernel.
        kmeans_n_init: k-means initialisations for the initial centres.
        random_state: Seed of the weights, the batch order and k-means.
        device: ``auto`` (CUDA when present, else CPU) | ``cpu`` | ``cuda``.
    """

    def __init__(self, num_topics: int = 20, hidden_dims: Sequence[int] = DEFAULT_HIDDEN, latent_dim: int = 10,
                 pretrain_epochs: int = 200, pretrain_lr: float = 0.001, lr: float = 0.01, momentum: float = 0.9,
                 batch_size: int = 256, update_interval: int = 140, tol: float = 0.001, max_iter: int = 20000,
                 alpha: float = 1.0, kmeans_n_init: int = 20, random_state: int = 42, device: str = "auto",
                 name: str = "dec") -> None:
        self.num_topics = check_num_topics(num_topics)
        self.autoencoder = AutoencoderSettings(tuple(hidden_dims), latent_dim, pretrain_epochs, pretrain_lr,
                                               batch_size, random_state, device)
        check_settings(self.autoencoder, "model", {"epochs": "pretrain_epochs", "lr": "pretrain_lr"})
        for key, value in (("update_interval", update_interval), ("max_iter", max_iter),
                           ("kmeans_n_init", kmeans_n_init)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UserError(f"model.{key} must be a positive integer, not {value!r}")
        for key, value in (("lr", lr), ("alpha", alpha)):
            if not value > 0:
                raise UserError(f"model.{key} must be positive, not {value}")
        if not 0 <= momentum < 1:
            raise UserError(f"model.momentum must be in [0, 1), not {momentum}")
        if not 0 <= tol < 1:
            raise UserError(f"model.tol must be in [0, 1), not {tol}")
        self.lr, self.momentum, self.alpha, self.tol = lr, momentum, alpha, tol
        self.update_interval, self.max_iter, self.kmeans_n_init = update_interval, max_iter, kmeans_n_init

    def fit(self, inputs: ModelInputs) -> TopicModelResult:
        embeddings = np.asarray(inputs.embeddings(), dtype=np.float32)
        check_num_topics(self.num_topics, len(embeddings))
        encoder, _ = pretrained_autoencoder(embeddings, self.autoencoder, inputs.cache)
        q, codes = self.cluster(encoder, embeddings)
        labels = q.argmax(axis=1)
        kept = np.unique(labels)  # an emptied cluster is no topic
        q, labels = q[:, kept], np.searchsorted(kept, labels)
        weights, vocabulary = cluster_tfidf(inputs.tokens, labels, len(kept))
        result = result_from_scores(q, weights, vocabulary, inputs.corpus.texts, inputs.top_n_words)
        return TopicModelResult(result.labels_before, result.labels, result.words, result.names,
                                result.representative_docs, space=codes)

    def cluster(self, encoder: Any, embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fine-tune ``encoder`` and the centres by KL(P‖Q); (soft assignments Q, latent codes) at the end."""
        import torch
        from sklearn.cluster import KMeans

        device = pick_device(self.autoencoder.device)
        x = torch.tensor(embeddings, device=device)
        batch_size = self.autoencoder.batch_size
        kmeans = KMeans(self.num_topics, n_init=self.kmeans_n_init, random_state=self.autoencoder.random_state)
        last = kmeans.fit_predict(encode(encoder, embeddings))
        with seeded_torch(self.autoencoder.random_state, device):
            centres = torch.nn.Parameter(torch.as_tensor(kmeans.cluster_centers_, dtype=torch.float32, device=device))
            optimizer = torch.optim.SGD([*encoder.parameters(), centres], lr=self.lr, momentum=self.momentum)
            start = 0
            for iteration in range(self.max_iter):
                if iteration % self.update_interval == 0:
                    with torch.no_grad():
                        q = soft_assignment(encoder(x), centres, self.alpha)
                    p = target_distribution(q)
                    labels = q.argmax(dim=1).cpu().numpy()
                    changed = float(np.mean(labels != last))
                    last = labels
                    if iteration > 0 and changed < self.tol:
                        break
                rows = slice(start, min(start + batch_size, len(x)))
                q_batch = soft_assignment(encoder(x[rows]), centres, self.alpha)
                loss = torch.nn.functional.kl_div(q_batch.log(), p[rows], reduction="batchmean")
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                start = start + batch_size if start + batch_size < len(x) else 0
            with torch.no_grad():
                codes = encoder(x)
                q = soft_assignment(codes, centres, self.alpha)
        return q.cpu().numpy().astype(np.float64), codes.cpu().numpy()
