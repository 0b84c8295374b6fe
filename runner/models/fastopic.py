"""``model=fastopic``: FASTopic (Wu et al. 2024) from the ``fastopic`` package, on our cached parts.

FASTopic learns topic and word embeddings in the space of the document embeddings and links
documents, topics and words by two entropy-regularised optimal-transport plans (Dual Semantic-relation
Reconstruction). The package normally embeds the texts and builds its own vocabulary; here it is
given the cached document embeddings (``preset_doc_embeddings``) and a bag of words of the cached
vectorizer tokens (its ``preprocess`` hook), so it scores the same words as every other model.

The ``fastopic`` package declares ``topmost`` as its dependency, which requires ``torchvision`` and
would replace the CPU torch; FASTopic's own code needs only torch, sentence-transformers, scikit-learn,
plotly and tqdm, so ``scripts/setup_env.sh`` installs it with ``--no-deps``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from runner.errors import UserError
from runner.models.autoencoder import seeded_torch
from runner.models.base import ModelInputs, result_from_scores
from runner.models.lda import check_num_topics
from runner.models.vocabulary import Vocabulary, build_vocabulary, check_vocabulary
from runner.stages.embed import pick_device
from runner.stages.topics import TopicModelResult

INSTALL_HINT = "pip install --no-deps 'fastopic==1.0.1' (scripts/setup_env.sh does this)"


class CachedBagOfWords:
    """FASTopic's ``preprocess`` hook answered from the cached tokens instead of its own tokenizer."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary

    def preprocess(self, docs: Any) -> dict[str, Any]:
        """What FASTopic's ``Dataset`` reads: the (documents × words) counts and the words."""
        return {"train_bow": self.vocabulary.counts, "vocab": self.vocabulary.words}


class PresetEmbeddings:
    """Stands in for FASTopic's document embedder: the embeddings are always given, never computed."""

    def encode(self, docs: Any, **_: Any) -> np.ndarray:
        raise RuntimeError("FASTopic was asked to embed texts; TopicSweep passes the cached embeddings instead")


@contextlib.contextmanager
def seeded_numpy(seed: int) -> Iterator[None]:
    """Inside the block numpy's global generator (FASTopic shuffles with it) is seeded; restored afterwards."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


class FastopicTopicModel:
    """FASTopic on the cached document embeddings and the cached tokens' bag of words.

    A document's topic is the largest entry of FASTopic's θ (its ``transform`` of the training
    embeddings); a topic's words are the largest entries of its β. Documents without a vocabulary
    word keep their θ (FASTopic's θ comes from the embeddings, not the words), so there are no outliers.

    Args:
        num_topics: K.
        epochs: Full-batch training steps (FASTopic's default 200).
        learning_rate: Adam's learning rate (FASTopic's default 0.002).
        DT_alpha: Sinkhorn regularisation between documents and topics (3.0).
        TW_alpha: Sinkhorn regularisation between topics and words (2.0).
        theta_temp: Softmax temperature of θ at inference (1.0).
        normalize_embeddings: L2-normalise the document embeddings first (FASTopic's default: no).
        min_df: Keep words in at least this many documents.
        max_df: Keep words in at most this share of the documents.
        vocab_size: Keep at most this many words, the most frequent by document frequency (FASTopic's
            preprocessing keeps 5,000); null keeps all.
        device: ``auto`` (CUDA when present, else CPU), ``cpu``, ``cuda``, ...
        random_state: Seed of the topic and word embeddings' initialisation and of the batch order.
    """

    def __init__(self, num_topics: int = 20, epochs: int = 200, learning_rate: float = 0.002, DT_alpha: float = 3.0,  # noqa: N803
                 TW_alpha: float = 2.0, theta_temp: float = 1.0, normalize_embeddings: bool = False,  # noqa: N803
                 min_df: int = 1, max_df: float = 1.0, vocab_size: int | None = 5000, device: str = "auto",
                 random_state: int = 42, name: str = "fastopic") -> None:
        self.num_topics = check_num_topics(num_topics)
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise UserError(f"model.epochs must be an integer of at least 1, not {epochs!r}")
        if vocab_size is not None and (isinstance(vocab_size, bool) or not isinstance(vocab_size, int)
                                       or vocab_size < 2):
            raise UserError(f"model.vocab_size must be null or an integer of at least 2, not {vocab_size!r}")
        check_vocabulary(min_df, max_df)
        for key, value in (("learning_rate", learning_rate), ("DT_alpha", DT_alpha), ("TW_alpha", TW_alpha),
                           ("theta_temp", theta_temp)):
            if not float(value) > 0:
                raise UserError(f"model.{key} must be positive, not {value!r}")
        self.epochs = epochs
        self.learning_rate = float(learning_rate)
        self.transport = {"DT_alpha": float(DT_alpha), "TW_alpha": float(TW_alpha), "theta_temp": float(theta_temp)}
        self.normalize_embeddings = bool(normalize_embeddings)
        self.min_df = min_df
        self.max_df = float(max_df)
        self.vocab_size = vocab_size
        self.device = device
        self.random_state = random_state

    def fit(self, inputs: ModelInputs) -> TopicModelResult:
        try:
            from fastopic import FASTopic
        except ImportError as error:
            raise UserError(f"model=fastopic needs the fastopic package: {INSTALL_HINT}") from error

        check_num_topics(self.num_topics, len(inputs.tokens))
        vocabulary = build_vocabulary(inputs.tokens, self.min_df, self.max_df, keep_n=self.vocab_size)
        embeddings = np.array(inputs.embeddings(), dtype=np.float32)  # a writable copy for torch
        if self.normalize_embeddings:
            embeddings = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
        device = pick_device(self.device)
        with seeded_torch(self.random_state, device), seeded_numpy(self.random_state):
            model = FASTopic(self.num_topics, preprocess=CachedBagOfWords(vocabulary), num_top_words=inputs.top_n_words,
                             device=device, doc_embed_model=PresetEmbeddings(), **self.transport)
            _, theta = model.fit_transform(list(inputs.corpus.texts), epochs=self.epochs,
                                           learning_rate=self.learning_rate, preset_doc_embeddings=embeddings)
            beta = model.get_beta()
        return result_from_scores(theta, beta, vocabulary.words, inputs.corpus.texts, inputs.top_n_words)
