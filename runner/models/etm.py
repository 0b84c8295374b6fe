"""``model=etm``: the embedded topic model (Dieng, Ruiz & Blei 2020, "Topic Modeling in Embedding Spaces").

Each document's topic proportions are θ = softmax(δ), δ ~ N(μ, σ²) given by a two-layer encoder of
its normalised bag of words (amortised variational inference); each topic is an embedding α_k in
the space of the word embeddings ρ, and its word distribution is β_k = softmax(ρ α_k). Training
maximises the ELBO: the bag of words' log-likelihood under θβ minus KL(q(δ) ‖ N(0, I)).

Defaults follow the reference implementation (github.com/adji-dieng/ETM, ``main.py`` and
``skipgram.py``); README "Models" lists them and where TopicSweep differs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from runner.errors import UserError
from runner.models.base import ModelInputs, result_from_scores
from runner.models.lda import check_num_topics
from runner.models.vocabulary import build_vocabulary, check_vocabulary
from runner.models.word_vectors import (
    MISSING_WORD_SCALE,
    Word2VecSettings,
    corpus_word2vec,
    file_vectors_for,
)
from runner.stages.embed import pick_device
from runner.stages.topics import TopicModelResult

ACTIVATIONS = ("relu", "softplus", "tanh", "elu", "leakyrelu", "selu")
WORD2VEC = "word2vec"
TRAINED = "trained"


class EtmTopicModel:
    """The embedded topic model in torch (CUDA when present with ``device: auto``).

    A document's topic is the largest entry of θ = softmax(μ) (the posterior mean of δ); documents
    without a vocabulary word are outliers (-1). After :meth:`fit`, ``losses`` holds the mean
    training loss (negative ELBO per document) of each epoch.

    Args:
        num_topics: K.
        epochs: Passes over the corpus.
        lr: Adam's learning rate.
        weight_decay: Adam's L2 penalty.
        hidden_size: Width of the encoder's two hidden layers.
        embedding_size: Dimension of ρ and α (Word2Vec's vector size; a word-vectors file sets its own).
        batch_size: Documents per gradient step.
        activation: Encoder non-linearity (one of ``ACTIVATIONS``).
        dropout: Dropout on the encoder's output.
        bow_norm: Feed the encoder bags of words divided by the document length.
        word_vectors: ``word2vec`` (trained on the corpus tokens and cached; fixed in training),
            ``trained`` (ρ learnt with the model), or the path of a word2vec-format file (fixed).
        word2vec: Word2Vec settings other than the vector size and seed (``Word2VecSettings``).
        min_df: Keep words in at least this many documents.
        max_df: Keep words in at most this share of the documents.
        device: ``auto`` (CUDA when present, else CPU), ``cpu``, ``cuda``, ...
        random_state: Seed of the weights, batches, noise and Word2Vec.
    """

    def __init__(self, num_topics: int = 20, epochs: int = 100, lr: float = 0.005, weight_decay: float = 1.2e-6,
                 hidden_size: int = 800, embedding_size: int = 300, batch_size: int = 1000,
                 activation: str = "relu", dropout: float = 0.0, bow_norm: bool = True,
                 word_vectors: str = WORD2VEC, word2vec: dict[str, Any] | None = None, min_df: int = 1,
                 max_df: float = 1.0, device: str = "auto", random_state: int = 42, name: str = "etm") -> None:
        self.num_topics = check_num_topics(num_topics)
        for key, value in (("epochs", epochs), ("hidden_size", hidden_size), ("embedding_size", embedding_size),
                           ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UserError(f"model.{key} must be an integer of at least 1, not {value!r}")
        if activation not in ACTIVATIONS:
            raise UserError(f"model.activation must be one of {', '.join(ACTIVATIONS)}, not {activation!r}")
        check_vocabulary(min_df, max_df)
        if not 0.0 <= float(dropout) < 1.0:
            raise UserError(f"model.dropout must be in [0, 1), not {dropout!r}")
        if float(lr) <= 0:
            raise UserError(f"model.lr must be positive, not {lr!r}")
        self.epochs = epochs
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.hidden_size = hidden_size
        self.embedding_size = embedding_size
        self.batch_size = batch_size
        self.activation = activation
        self.dropout = float(dropout)
        self.bow_norm = bow_norm
        self.word_vectors = word_vectors
        try:
            self.word2vec = Word2VecSettings(**{**(word2vec or {}), "vector_size": embedding_size,
                                                "seed": random_state})
        except TypeError as error:
            raise UserError(f"model.word2vec: {error} (allowed: window, min_count, sg, negative, epochs)") from error
        self.min_df = min_df
        self.max_df = float(max_df)
        self.device = device
        self.random_state = random_state
        self.losses: list[float] = []

    def fit(self, inputs: ModelInputs) -> TopicModelResult:
        import torch

        check_num_topics(self.num_topics, len(inputs.tokens))
        vocabulary = build_vocabulary(inputs.tokens, self.min_df, self.max_df)
        rho = self._word_embeddings(inputs, vocabulary.words)
        device = torch.device(pick_device(self.device))
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(self.random_state)
            network = _network(len(vocabulary.words), self.num_topics, self.hidden_size, self.embedding_size, rho,
                               self.activation, self.dropout).to(device)
            self.losses = self._train(network, vocabulary.counts, device)
            theta, beta = self._infer(network, vocabulary.counts, device)
        return result_from_scores(theta, beta, vocabulary.words, inputs.corpus.texts, inputs.top_n_words)

    def _word_embeddings(self, inputs: ModelInputs, words: list[str]) -> np.ndarray | None:
        """ρ (words × dimension) for fixed embeddings, None when ρ is trained with the model."""
        if self.word_vectors == TRAINED:
            return None
        if self.word_vectors != WORD2VEC:
            return file_vectors_for(self.word_vectors, words, inputs.cache, self.random_state)
        trained = corpus_word2vec(inputs.tokens, inputs.cache, self.word2vec)
        rows = trained.index()
        rng = np.random.default_rng(self.random_state)
        rho = rng.normal(scale=MISSING_WORD_SCALE, size=(len(words), trained.vectors.shape[1])).astype(np.float32)
        known = [i for i, word in enumerate(words) if word in rows]  # rarer than word2vec.min_count: random
        rho[known] = trained.vectors[[rows[words[i]] for i in known]]
        return rho

    def _train(self, network: Any, counts: Any, device: Any) -> list[float]:
        import torch

        optimizer = torch.optim.Adam(network.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        documents = np.flatnonzero(np.asarray(counts.sum(axis=1)).ravel() > 0)
        losses = []
        network.train()
        for _ in range(self.epochs):
            order = documents[torch.randperm(len(documents)).numpy()]
            total = 0.0
            for start in range(0, len(order), self.batch_size):
                bows = torch.from_numpy(counts[order[start:start + self.batch_size]].toarray()).to(device)
                optimizer.zero_grad()
                reconstruction, kl = network(bows, self._normalise(bows))
                loss = reconstruction + kl
                loss.backward()
                optimizer.step()
                total += loss.item() * len(bows)
            losses.append(total / len(order))
        return losses

    def _infer(self, network: Any, counts: Any, device: Any) -> tuple[np.ndarray, np.ndarray]:
        """θ = softmax(μ) per document (zero rows for empty documents) and β (topics × words)."""
        import torch

        network.eval()
        theta = np.zeros((counts.shape[0], self.num_topics), dtype=np.float64)
        with torch.no_grad():
            for start in range(0, counts.shape[0], self.batch_size):
                bows = torch.from_numpy(counts[start:start + self.batch_size].toarray()).to(device)
                mu, _ = network.encode(self._normalise(bows))
                theta[start:start + len(bows)] = torch.softmax(mu, dim=-1).double().cpu().numpy()
            beta = network.beta().double().cpu().numpy()
        theta[np.asarray(counts.sum(axis=1)).ravel() == 0] = 0.0
        return theta, beta

    def _normalise(self, bows: Any) -> Any:
        return bows / bows.sum(dim=1, keepdim=True).clamp(min=1.0) if self.bow_norm else bows


def _network(vocabulary_size: int, num_topics: int, hidden_size: int, embedding_size: int, rho: np.ndarray | None,
             activation: str, dropout: float) -> Any:
    """The ETM network (torch is imported here, not when the module loads)."""
    import torch
    from torch import nn

    activations = {"relu": nn.ReLU, "softplus": nn.Softplus, "tanh": nn.Tanh, "elu": nn.ELU,
                   "leakyrelu": nn.LeakyReLU, "selu": nn.SELU}

    class Etm(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            if rho is None:  # learnt with the model (the reference's train_embeddings=1)
                self.rho = nn.Parameter(nn.Linear(embedding_size, vocabulary_size, bias=False).weight.detach().clone())
                size = embedding_size
            else:  # fixed pre-trained embeddings
                self.register_buffer("rho", torch.from_numpy(np.ascontiguousarray(rho, dtype=np.float32)))
                size = rho.shape[1]
            self.alphas = nn.Linear(size, num_topics, bias=False)
            self.encoder = nn.Sequential(nn.Linear(vocabulary_size, hidden_size), activations[activation](),
                                         nn.Linear(hidden_size, hidden_size), activations[activation](),
                                         nn.Dropout(dropout))
            self.mu = nn.Linear(hidden_size, num_topics)
            self.log_variance = nn.Linear(hidden_size, num_topics)

        def beta(self) -> torch.Tensor:
            """Topic-word distributions (topics × words): softmax over the vocabulary of ρ α_kᵀ."""
            return torch.softmax(self.alphas(self.rho), dim=0).transpose(0, 1)

        def encode(self, normalised: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            """μ and log σ² of q(δ | bag of words)."""
            hidden = self.encoder(normalised)
            return self.mu(hidden), self.log_variance(hidden)

        def forward(self, bows: torch.Tensor, normalised: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            """Mean reconstruction loss and mean KL(q(δ|w) ‖ N(0, I)) over the batch."""
            mu, log_variance = self.encode(normalised)
            kl = -0.5 * (1 + log_variance - mu.pow(2) - log_variance.exp()).sum(dim=-1).mean()
            delta = mu + torch.randn_like(mu) * torch.exp(0.5 * log_variance)
            theta = torch.softmax(delta, dim=-1)
            log_likelihood = torch.log(theta @ self.beta() + 1e-6)
            return -(log_likelihood * bows).sum(dim=1).mean(), kl

    return Etm()
