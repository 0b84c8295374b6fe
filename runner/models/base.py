"""The seam every non-BERTopic topic model plugs into: inputs in, a TopicModelResult out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from omegaconf import DictConfig, OmegaConf

from runner.cache import Cache
from runner.data import Corpus
from runner.stages.topics import TopicModelResult

BERTOPIC = "bertopic"


def is_bertopic(cfg: DictConfig) -> bool:
    """Whether a run uses the default BERTopic pipeline (configs written before ``model`` existed do)."""
    model = cfg.get("model")
    return model is None or model.get("name", BERTOPIC) == BERTOPIC


SEED_KEYS = ("reducer.random_state", "model.random_state")


def seed_key(cfg: DictConfig) -> str:
    """The key ``seeds: K`` and ``best --seeds`` vary: BERTopic's reducer seed, else the model's own seed."""
    return SEED_KEYS[0] if is_bertopic(cfg) else SEED_KEYS[1]


def with_seed(cfg: DictConfig, seed: int) -> DictConfig:
    """A copy of ``cfg`` with its :func:`seed_key` set to ``seed``."""
    copy = OmegaConf.create(OmegaConf.to_container(cfg))
    OmegaConf.update(copy, seed_key(cfg), seed, merge=False)
    return copy


@dataclass(frozen=True)
class ModelInputs:
    """What a topic model may use, all cached by the session.

    Attributes:
        corpus: The cleaned corpus (texts, labels).
        tokens: The vectorizer's tokens per document (the same stream is the coherence reference).
        embeddings: Returns the document embeddings of the configured ``embedding`` (computed and
            cached on the first call; models that do not call it never embed).
        cache: The on-disk cache, for what a model derives and wants to keep (e.g. word vectors).
        top_n_words: How many words to report per topic (``topics.top_n_words``).
    """

    corpus: Corpus
    tokens: list[list[str]]
    embeddings: Callable[[], np.ndarray]
    cache: Cache
    top_n_words: int


class TopicModel(Protocol):
    """A topic model option of the ``model`` group (built from its config node by ``instantiate``)."""

    def fit(self, inputs: ModelInputs) -> TopicModelResult:
        """Fit on the inputs and describe the topics (labels per document, top words per topic)."""
        ...


def result_from_scores(doc_topic: np.ndarray, topic_word: np.ndarray, vocabulary: Sequence[str],
                       texts: Sequence[str], top_n_words: int, fitted: Any = None) -> TopicModelResult:
    """A TopicModelResult from a document-topic and a topic-word score matrix.

    Each document's topic is its highest-scoring one; a document whose scores are all zero (no
    known word) is an outlier (-1). Every topic keeps its top words, assigned documents or not, as
    topic-model papers score all K topics; its representative documents are the three documents
    with the highest scores for it.

    Args:
        doc_topic: (documents × topics) non-negative scores (θ for LDA/ETM, W for NMF).
        topic_word: (topics × vocabulary) scores (β, or H).
        vocabulary: Word of each column of ``topic_word``.
        texts: The corpus texts (for representative documents).
        top_n_words: Words per topic.
        fitted: The fitted model, kept for analyses (None when there is nothing to keep).
    """
    doc_topic = np.asarray(doc_topic, dtype=np.float64)
    labels = np.where(doc_topic.max(axis=1) > 0, doc_topic.argmax(axis=1), -1).astype(np.int64)
    topic_word = np.asarray(topic_word, dtype=np.float64)
    words: dict[int, list[str]] = {}
    word_scores: dict[int, list[float]] = {}
    representative: dict[int, list[str]] = {}
    for topic, scores in enumerate(topic_word):
        order = [i for i in np.argsort(-scores, kind="stable")[:top_n_words] if scores[i] > 0]
        words[topic] = [vocabulary[i] for i in order]
        word_scores[topic] = [float(scores[i]) for i in order]
        best_docs = np.argsort(-doc_topic[:, topic], kind="stable")[:3]
        representative[topic] = [texts[i] for i in best_docs if doc_topic[i, topic] > 0]
    names = {topic: "_".join([str(topic), *topic_words[:4]]) for topic, topic_words in words.items()}
    if (labels == -1).any():
        names[-1] = "-1_outliers"
    return TopicModelResult(labels, labels, words, names, representative, fitted, word_scores=word_scores,
                            topic_vectors=topic_word)
