"""Topic stage: BERTopic's c-TF-IDF, representations, topic reduction and outlier reduction.

BERTopic gets the full embeddings plus adapters that answer from TopicSweep's caches
(:class:`~runner.stages.reduce.CachedReduction`, :class:`~runner.stages.cluster.FittedClusters`).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from omegaconf import DictConfig

from runner.build import instantiate
from runner.errors import UserError
from runner.stages.cluster import FittedClusters
from runner.stages.embed import Embedder
from runner.stages.reduce import CachedReduction
from runner.stages.vectorize import Vectorizer

OUTLIER_STRATEGIES = ("none", "c-tf-idf", "embeddings", "distributions")


@dataclass(frozen=True)
class FittedModel:
    """The fitted BERTopic model with what it was fitted on (for figures and saving the model).

    Attributes:
        model: The fitted ``bertopic.BERTopic``.
        documents: The documents BERTopic saw (space-joined tokens), aligned with the corpus.
        embeddings: The full document embeddings.
    """

    model: Any
    documents: list[str]
    embeddings: np.ndarray


@dataclass(frozen=True)
class TopicModelResult:
    """What the rest of TopicSweep needs from a fitted topic model.

    Attributes:
        labels_before: Topic per document before outlier reduction (-1 = outlier).
        labels: Final topic per document.
        words: Topic id (excluding -1) to its top words, best first.
        names: Topic id to BERTopic's topic name.
        representative_docs: Topic id to up to three representative documents.
        fitted: The fitted model, or None when there is none (every document an outlier).
        space: The points a clustering model clustered (e.g. DEC's latent codes), one row per
            document, scored by silhouette and Davies–Bouldin with ``labels_before``; None for
            models that do not cluster (the BERTopic path passes its reduced embeddings itself).
        word_scores: Topic id to the scores of its ``words`` (same order), for the figures of models
            other than BERTopic (BERTopic's figures read its fitted model); empty when not given.
        topic_vectors: (topics × vocabulary) topic-word scores of such a model, row i = topic i
            (topic similarity in the heatmap); None when not given.
    """

    labels_before: np.ndarray
    labels: np.ndarray
    words: dict[int, list[str]]
    names: dict[int, str]
    representative_docs: dict[int, list[str]]
    fitted: FittedModel | None = field(default=None, compare=False, repr=False)
    space: np.ndarray | None = field(default=None, compare=False, repr=False)
    word_scores: dict[int, list[float]] = field(default_factory=dict, compare=False, repr=False)
    topic_vectors: np.ndarray | None = field(default=None, compare=False, repr=False)


def parse_nr_topics(value: Any) -> int | str | None:
    """``topics.nr_topics``: null/none (keep all), auto, or an integer >= 2."""
    if value is None or value == "none":
        return None
    if value == "auto":
        return "auto"
    if isinstance(value, int) and not isinstance(value, bool) and value >= 2:
        return value
    raise UserError(f"topics.nr_topics must be null, auto or an integer >= 2, not '{value}'")


def check_topics(topics_cfg: DictConfig) -> None:
    """Validate the topic settings before any expensive stage runs."""
    parse_nr_topics(topics_cfg.nr_topics)
    strategy = topics_cfg.outliers.strategy
    if strategy not in OUTLIER_STRATEGIES:
        raise UserError(f"topics.outliers.strategy must be one of {', '.join(OUTLIER_STRATEGIES)}, not '{strategy}'")
    if topics_cfg.top_n_words < 1:
        raise UserError(f"topics.top_n_words must be at least 1, not {topics_cfg.top_n_words}")


def fit_topics(cfg: DictConfig, texts: list[str], tokens: list[list[str]], vectorizer: Vectorizer,
               embeddings: np.ndarray, reduced: np.ndarray, clusters: FittedClusters,
               embedder: Embedder) -> TopicModelResult:
    """Fit BERTopic on cached parts and apply the configured topic and outlier reduction.

    BERTopic's documents are the space-joined tokens (so nothing is tokenized again); its
    representative documents are mapped back to the original texts.
    """
    from bertopic import BERTopic

    labels_before = clusters.labels_
    if (labels_before == -1).all():
        return TopicModelResult(labels_before, labels_before, {}, {}, {})
    embeddings = np.asarray(embeddings)
    model = BERTopic(
        language=cfg.topics.language,
        top_n_words=cfg.topics.top_n_words,
        nr_topics=parse_nr_topics(cfg.topics.nr_topics),
        embedding_model=_backend(embedder) if cfg.representation.model is not None else None,
        umap_model=CachedReduction(embeddings, reduced),
        hdbscan_model=clusters,
        vectorizer_model=vectorizer.count_vectorizer(),
        ctfidf_model=instantiate(cfg.representation.ctfidf),
        representation_model=instantiate(cfg.representation.model) if cfg.representation.model is not None else None,
    )
    documents = [" ".join(doc_tokens) for doc_tokens in tokens]
    labels_before = np.asarray(model.fit_transform(documents, embeddings=embeddings)[0], dtype=np.int64)
    labels = labels_before
    strategy = cfg.topics.outliers.strategy
    if strategy != "none" and (labels_before == -1).any() and (labels_before != -1).any():
        reduced_labels = model.reduce_outliers(documents, list(labels_before), strategy=strategy,
                                               threshold=cfg.topics.outliers.threshold, embeddings=embeddings)
        # BERTopic warns that custom assignments must be the last step; here they are, so drop that message.
        with _without_log_message("BERTopic", "Using a custom list of topic assignments"):
            model.update_topics(documents, topics=reduced_labels, top_n_words=cfg.topics.top_n_words,
                                vectorizer_model=vectorizer.count_vectorizer(),
                                ctfidf_model=instantiate(cfg.representation.ctfidf),
                                representation_model=model.representation_model)
        labels = np.asarray(model.topics_, dtype=np.int64)
    original = dict(zip(reversed(documents), reversed(texts)))  # first text for each token string
    return _summarise(model, labels_before, labels, original, FittedModel(model, documents, embeddings))


@contextlib.contextmanager
def _without_log_message(logger_name: str, fragment: str) -> Iterator[None]:
    """Inside the block, drop the records of one logger whose message contains ``fragment``."""
    logger = logging.getLogger(logger_name)

    def keep(record: logging.LogRecord) -> bool:
        return fragment not in record.getMessage()

    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)


def _summarise(model: Any, labels_before: np.ndarray, labels: np.ndarray,
               original: dict[str, str], fitted: FittedModel) -> TopicModelResult:
    info = model.get_topic_info()
    names = dict(zip(info["Topic"].astype(int), info["Name"].astype(str)))
    words = {int(topic): [word for word, _ in pairs if word]
             for topic, pairs in model.get_topics().items() if topic != -1}
    representative = {int(topic): [original.get(doc, doc) for doc in docs]
                      for topic, docs in (model.representative_docs_ or {}).items()}
    return TopicModelResult(labels_before, labels, words, names, representative, fitted)


def _backend(embedder: Embedder) -> Any:
    from runner.stages.bertopic_backend import EmbedderBackend

    return EmbedderBackend(embedder)


# Hyphens, dashes and slashes between word characters: "third-quarter", "peer-to-peer", "U.S./China".
_WORD_JOINERS = re.compile(r"(?<=\w)[-\u2010-\u2015/\\]+(?=\w)")
# What ctfidf_clean does beyond BERTopic's own cleaning (part of the token cache key: change it with the rule).
CLEAN_RULES = {"english": "split-hyphens-slashes-1"}


def ctfidf_clean(texts: list[str], language: str) -> list[str]:
    """The text BERTopic's vectorizer sees (BERTopic strips non-ASCII characters for "english").

    For English, hyphens, dashes and slashes between words become spaces first, so BERTopic's
    cleaning (which deletes every character that is not an ASCII letter, digit or space) splits
    "third-quarter" into "third quarter" instead of gluing it into "thirdquarter". Other
    languages get BERTopic's cleaning only.
    """
    from bertopic import BERTopic

    if language == "english":
        texts = [_WORD_JOINERS.sub(" ", text) for text in texts]
    return BERTopic(language=language)._preprocess_text(np.asarray(texts, dtype=object))
