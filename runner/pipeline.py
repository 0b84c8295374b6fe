"""One pipeline run: dataset → embeddings → reduction → tokens → clusters → topics → metrics.

A :class:`Session` keeps what does not change between runs of one process (corpora, embedders
and their loaded models, embeddings, reference tokens), so a sweep pays for each of them once;
the on-disk :class:`~runner.cache.Cache` makes the expensive ones survive across processes.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig

from runner.build import instantiate, kwargs_of
from runner.cache import Cache, cache_key
from runner.data import Corpus
from runner.errors import UserError
from runner.evaluate import CoherenceScorer, check_metrics, evaluate, window_size
from runner.figures_config import check_outputs
from runner.metrics import CoherenceIndex, CoherenceResult, gensim_coherence
from runner.models.base import ModelInputs, is_bertopic
from runner.stages.cluster import check_clusterer, cluster
from runner.stages.corpus_embed import CorpusTokens, CorpusTrainedEmbedder
from runner.stages.embed import Embedder
from runner.stages.reduce import check_reducer, reduce_embeddings
from runner.stages.topics import CLEAN_RULES, TopicModelResult, check_topics, ctfidf_clean, fit_topics
from runner.stages.vectorize import Vectorizer

# Cached stages in the order users read them (the cache line of `topicsweep run`), and their cache folders.
CACHED_STAGES = {"embed": "embeddings", "tokens": "tokens", "knn": "knn", "reduce": "reduced"}

StageReporter = Callable[[str], contextlib.AbstractContextManager[Any]]


@dataclass
class RunResult:
    """Everything one run produced.

    Attributes:
        corpus: The cleaned corpus.
        topics: Topic assignments, words, names and representative documents.
        metrics: Metric name to value (see README "Metrics").
        timings: Stage name to seconds spent in this run.
        cache_hits: Cached stage name to True (served from cache) or False (computed).
        embedding: Fingerprint of the model that actually embedded the texts (differs from the
            configured one when an embedding fallback was used).
        figures_skipped: Figure name to why it was not drawn (filled by :func:`runner.outputs.write_run_dir`).
    """

    corpus: Corpus
    topics: TopicModelResult
    metrics: dict[str, float]
    timings: dict[str, float] = field(default_factory=dict)
    cache_hits: dict[str, bool] = field(default_factory=dict)
    embedding: dict[str, Any] = field(default_factory=dict)
    figures_skipped: dict[str, str] = field(default_factory=dict)


class Session:
    """Runs pipelines, remembering corpora, embedders, embeddings and tokens between runs."""

    def __init__(self, cache_dir: Path, report: StageReporter | None = None) -> None:
        self.cache = Cache(Path(cache_dir))
        self._report = report or (lambda stage: contextlib.nullcontext())
        self._memo: dict[str, Any] = {}

    def run(self, cfg: DictConfig) -> RunResult:
        """Run the pipeline described by a resolved config."""
        check_topics(cfg.topics)
        check_metrics(cfg.metrics)
        check_outputs(cfg)
        if not is_bertopic(cfg):
            return self._run_model(cfg)
        timings: dict[str, float] = {}
        hits: dict[str, bool] = {}
        with self._stage("dataset", timings):
            corpus = self.corpus(cfg)
            check_reducer(cfg.reducer, len(corpus))
            check_clusterer(cfg.clusterer, len(corpus))
            vectorizer = instantiate(cfg.vectorizer)  # checks its settings (files, stop words) before embedding
        with self._stage("embed", timings), self._cache_probe("embeddings", hits, "embed"):
            embedder, embedding_key, embeddings = self._embedding(cfg, corpus)
        # The reduction first: parallel workers starting together fit their UMAPs while the first of
        # them to get there computes the shared tokens (the others find them cached afterwards).
        with self._stage("reduce", timings), self._cache_probe("reduced", hits, "reduce"), \
                self._cache_probe("knn", hits, "knn"):
            reduced = reduce_embeddings(cfg.reducer, cfg.knn, embeddings, embedding_key, self.cache)
        with self._stage("tokens", timings), self._cache_probe("tokens", hits, "tokens"):
            tokens, tokens_key = self._tokens(cfg, vectorizer, corpus.texts, corpus.content_hash)
            reference, reference_key = ((tokens, tokens_key) if cfg.metrics.reference is None
                                        else self._reference_file(cfg, vectorizer))
        with self._stage("cluster", timings):
            clusters = cluster(cfg.clusterer, reduced)
        with self._stage("topics", timings):
            topics = fit_topics(cfg, corpus.texts, tokens, vectorizer, embeddings, reduced, clusters, embedder)
        with self._stage("metrics", timings):
            metrics = evaluate(topics, self._coherence(cfg.metrics, reference, reference_key), corpus.labels,
                               cfg.metrics, reference, clustered=(reduced, clusters.labels_))
        return RunResult(corpus, topics, metrics, timings, hits, embedder.fingerprint())

    def _run_model(self, cfg: DictConfig) -> RunResult:
        """A run of a ``model`` other than BERTopic: tokens (and embeddings when it asks), fit, metrics.

        The model gets the same cached tokens and embeddings as BERTopic would, and is scored by the
        same metrics against the same reference.
        """
        timings: dict[str, float] = {}
        hits: dict[str, bool] = {}
        with self._stage("dataset", timings):
            corpus = self.corpus(cfg)
            vectorizer = instantiate(cfg.vectorizer)
            model = instantiate(cfg.model)
        with self._stage("tokens", timings), self._cache_probe("tokens", hits, "tokens"):
            tokens, tokens_key = self._tokens(cfg, vectorizer, corpus.texts, corpus.content_hash)
            reference, reference_key = ((tokens, tokens_key) if cfg.metrics.reference is None
                                        else self._reference_file(cfg, vectorizer))
        used: dict[str, Any] = {}

        def embeddings() -> np.ndarray:
            with self._cache_probe("embeddings", hits, "embed"):
                embedder, _, matrix = self._embedding(cfg, corpus)
            used.update(embedder.fingerprint())
            return matrix

        inputs = ModelInputs(corpus, tokens, embeddings, self.cache, cfg.topics.top_n_words)
        with self._stage("model", timings):
            topics = model.fit(inputs)
        with self._stage("metrics", timings):
            clustered = None if topics.space is None else (topics.space, topics.labels_before)
            metrics = evaluate(topics, self._coherence(cfg.metrics, reference, reference_key), corpus.labels,
                               cfg.metrics, reference, clustered=clustered)
        return RunResult(corpus, topics, metrics, timings, hits, used)

    def prepare(self, cfg: DictConfig, tokens: bool = True) -> None:
        """Compute (or find) what every trial of a sweep shares: corpus, embeddings and (with ``tokens``) tokens."""
        corpus = self.corpus(cfg)
        if is_bertopic(cfg):  # other models embed on their first run, if they use embeddings at all
            self._embedding(cfg, corpus)
        if tokens:
            self._tokens(cfg, instantiate(cfg.vectorizer), corpus.texts, corpus.content_hash)

    def corpus(self, cfg: DictConfig) -> Corpus:
        """The corpus of a resolved config, loaded once per session (later runs reuse it)."""
        return self._remember(("corpus", kwargs_of(cfg.dataset), cfg.dataset._target_),
                              lambda: self._load_corpus(cfg.dataset))

    @contextlib.contextmanager
    def _stage(self, name: str, timings: dict[str, float]) -> Iterator[None]:
        start = time.perf_counter()
        with self._report(name):
            yield
        timings[name] = time.perf_counter() - start

    @contextlib.contextmanager
    def _cache_probe(self, cache_stage: str, hits: dict[str, bool], name: str) -> Iterator[None]:
        """Record whether the stage computed anything (a miss) during the block."""
        misses_before = self.cache.misses.get(cache_stage, 0)
        yield
        hits[name] = self.cache.misses.get(cache_stage, 0) == misses_before

    def _remember(self, key: Any, compute: Callable[[], Any]) -> Any:
        memo_key = key if isinstance(key, str) else cache_key(*key)
        if memo_key not in self._memo:
            self._memo[memo_key] = compute()
        return self._memo[memo_key]

    @staticmethod
    def _load_corpus(dataset_cfg: DictConfig) -> Corpus:
        corpus = instantiate(dataset_cfg)
        if not isinstance(corpus, Corpus):
            raise UserError(f"dataset._target_ {dataset_cfg._target_} did not return a Corpus")
        return corpus

    def _embedding(self, cfg: DictConfig, corpus: Corpus) -> tuple[Embedder, str, np.ndarray]:
        """The configured embedder (built once per process), its cache key, and the corpus embeddings."""
        embedder = self._remember(("embedder", kwargs_of(cfg.embedding), cfg.embedding._target_),
                                  lambda: instantiate(cfg.embedding))
        if isinstance(embedder, CorpusTrainedEmbedder):  # word2vec_mean, doc2vec: trained on the cached tokens
            vectorizer = instantiate(cfg.vectorizer)
            tokens, tokens_key = self._tokens(cfg, vectorizer, corpus.texts, corpus.content_hash)
            embedder.use_corpus(CorpusTokens(tokens, tokens_key, lambda texts: vectorizer.tokenize(
                ctfidf_clean(texts, cfg.topics.language)), self.cache))
        key = embedding_key(corpus.content_hash, embedder.fingerprint())
        return embedder, key, self._remember(key, lambda: self._embeddings(embedder, corpus, key))

    def _embeddings(self, embedder: Embedder, corpus: Corpus, key: str) -> np.ndarray:
        def compute() -> np.ndarray:
            matrix = np.asarray(embedder.embed(corpus.texts), dtype=np.float32)
            if matrix.shape[0] != len(corpus):
                raise UserError(f"embedder returned {matrix.shape[0]} vectors for {len(corpus)} documents")
            return matrix

        return self.cache.array("embeddings", key, compute,
                                meta={"dataset": corpus.source, "dataset_hash": corpus.content_hash,
                                      "embedder": embedder.fingerprint()})

    def _tokens(self, cfg: DictConfig, vectorizer: Vectorizer, texts: list[str],
                texts_hash: str) -> tuple[list[list[str]], str]:
        """Tokens of ``texts`` as the vectorizer sees them (computed once per corpus and settings), and their key."""
        key = cache_key("tokens", texts_hash, cfg.topics.language, CLEAN_RULES.get(cfg.topics.language),
                        cfg.vectorizer._target_, vectorizer.token_settings(), version("scikit-learn"),
                        version("bertopic"))
        import bertopic  # noqa: F401  (ctfidf_clean needs it: imported before the cache entry's lock, not under it)

        tokens = self._remember(key, lambda: self.cache.json(
            "tokens", key, lambda: vectorizer.tokenize(ctfidf_clean(texts, cfg.topics.language))))
        return tokens, key

    def _coherence(self, metrics_cfg: DictConfig, reference: list[list[str]], reference_key: str) -> CoherenceScorer:
        """Coherence scorer: lookups in an index built once per reference and window, or gensim itself."""
        top_n = metrics_cfg.top_n
        if metrics_cfg.engine == "gensim":
            return lambda words, measure: gensim_coherence(words, reference, measure, top_n=top_n,
                                                           window_size=window_size(metrics_cfg, measure))

        def score(words: list[list[str]], measure: str) -> CoherenceResult:
            size = window_size(metrics_cfg, measure)
            index = self._remember(("coherence", reference_key, size, metrics_cfg.mode),
                                   lambda: self._coherence_index(reference, reference_key, size, metrics_cfg.mode))
            return index.score(words, measure, top_n=top_n, window_size=size)

        return score

    def _coherence_index(self, reference: list[list[str]], reference_key: str, size: int | None,
                         mode: str) -> CoherenceIndex:
        key = cache_key("coherence-index", reference_key, size, mode, version("topicsweep"))
        folder = self.cache.directory("coherence", key, lambda directory: CoherenceIndex.build(
            reference, window_size=size, mode=mode).save(directory))
        return CoherenceIndex.load(folder)

    def _reference_file(self, cfg: DictConfig, vectorizer: Vectorizer) -> tuple[list[list[str]], str]:
        """Coherence reference from ``metrics.reference`` (one document per line), same tokenization."""
        texts = _read_reference(Path(cfg.metrics.reference))
        return self._tokens(cfg, vectorizer, texts, cache_key(texts))


def embedding_key(content_hash: str, fingerprint: dict[str, Any]) -> str:
    """Cache key of a corpus's embeddings by one embedder (``fingerprint``: :meth:`Embedder.fingerprint`)."""
    return cache_key("embeddings", content_hash, fingerprint)


def _read_reference(path: Path) -> list[str]:
    if not path.is_file():
        raise UserError(f"coherence reference file not found: {path} (metrics.reference)")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise UserError(f"coherence reference {path} is not valid UTF-8") from error
    return [line for line in lines if line.strip()]
