"""Embedders trained on the corpus itself (gensim): ``embedding=word2vec_mean`` and ``embedding=doc2vec``.

They learn from the vectorizer's cached tokens, so the session hands them the corpus
(:meth:`CorpusTrainedEmbedder.use_corpus`) before asking for a fingerprint or vectors; the tokens'
cache key is part of the fingerprint, so other tokenization settings give other embeddings.
Texts outside the corpus (BERTopic's representation models embed topic words and documents) are
tokenized the same way. Training is single-threaded with a seed: the same corpus and settings
give bit-identical vectors in every process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from runner.cache import Cache, cache_key
from runner.errors import UserError
from runner.models.word_vectors import (
    Word2VecSettings,
    WordVectors,
    corpus_word2vec,
    read_word_vectors,
    stable_hash,
    tokens_digest,
    write_word_vectors,
)

DOC_VECTORS_FILE = "documents.npy"


@dataclass(frozen=True)
class CorpusTokens:
    """The corpus as the configured vectorizer tokenizes it.

    Attributes:
        tokens: Tokens per document (the session's cached tokens).
        key: Their cache key (corpus content and tokenization settings).
        tokenize: The same tokenization for other texts.
        cache: The session's cache, for the trained model.
    """

    tokens: list[list[str]]
    key: str
    tokenize: Callable[[list[str]], list[list[str]]]
    cache: Cache


class CorpusTrainedEmbedder:
    """An embedder that trains on the corpus's tokens; the session calls :meth:`use_corpus` first."""

    kind = ""

    def __init__(self) -> None:
        self._corpus: CorpusTokens | None = None

    def use_corpus(self, corpus: CorpusTokens) -> None:
        """The corpus to train on (and to embed, when ``embed`` is given its texts)."""
        self._corpus = corpus

    @property
    def corpus(self) -> CorpusTokens:
        if self._corpus is None:
            raise RuntimeError(f"embedding={self.kind} needs the corpus tokens: call use_corpus first")
        return self._corpus

    def settings(self) -> dict[str, Any]:
        """What, besides the tokens and gensim's version, determines the vectors."""
        raise NotImplementedError

    def fingerprint(self) -> dict[str, Any]:
        return {"kind": self.kind, "tokens": self.corpus.key, "gensim": version("gensim"), **self.settings()}


def mean_vectors(documents: list[list[str]], words: WordVectors) -> np.ndarray:
    """Each document's mean word vector (zeros when none of its words has one), float32."""
    rows = words.index()
    matrix = np.zeros((len(documents), words.vectors.shape[1]), dtype=np.float32)
    for i, document in enumerate(documents):
        known = [rows[word] for word in document if word in rows]
        if known:
            matrix[i] = words.vectors[known].mean(axis=0, dtype=np.float64)
    return matrix


class Word2VecMeanEmbedder(CorpusTrainedEmbedder):
    """Mean of the corpus Word2Vec vectors of a document's tokens (the Word2Vec ETM uses, cached once).

    Args:
        vector_size, window, min_count, sg, negative, epochs, seed: Word2Vec settings
            (:class:`~runner.models.word_vectors.Word2VecSettings`; defaults: ETM's ``skipgram.py``).
    """

    kind = "word2vec_mean"

    def __init__(self, vector_size: int = 300, window: int = 4, min_count: int = 2, sg: int = 1, negative: int = 10,
                 epochs: int = 50, seed: int = 42) -> None:
        super().__init__()
        self.word2vec = Word2VecSettings(vector_size, window, min_count, sg, negative, epochs, seed)

    def settings(self) -> dict[str, Any]:
        return {"word2vec": asdict(self.word2vec)}

    def embed(self, texts: list[str]) -> np.ndarray:
        words = corpus_word2vec(self.corpus.tokens, self.corpus.cache, self.word2vec)
        return mean_vectors(self.corpus.tokenize(texts), words)


class Doc2VecEmbedder(CorpusTrainedEmbedder):
    """gensim Doc2Vec trained on the corpus tokens; a corpus document's vector is its trained vector.

    The defaults are PV-DBOW with jointly trained word vectors (``dm: 0``, ``dbow_words: 1``), as
    Lau & Baldwin (2016) recommend for document similarity and Top2Vec uses. Texts outside the
    corpus get the mean of their word vectors, which PV-DBOW trains in the same space (no
    ``infer_vector``, whose start is seeded by Python's per-process string hash).
    """

    kind = "doc2vec"

    def __init__(self, vector_size: int = 300, dm: int = 0, dbow_words: int = 1, window: int = 15,
                 min_count: int = 2, sample: float = 1e-5, negative: int = 5, epochs: int = 40,
                 seed: int = 42) -> None:
        super().__init__()
        for name, value in (("vector_size", vector_size), ("window", window), ("min_count", min_count),
                            ("epochs", epochs)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UserError(f"embedding.{name} must be an integer of at least 1, not {value!r}")
        if dm not in (0, 1) or dbow_words not in (0, 1):
            raise UserError(f"embedding.dm and embedding.dbow_words must be 0 or 1, not {dm!r} and {dbow_words!r}")
        self.params: dict[str, Any] = {"vector_size": vector_size, "dm": dm, "dbow_words": dbow_words,
                                       "window": window, "min_count": min_count, "sample": sample,
                                       "negative": negative, "epochs": epochs, "seed": seed}

    def settings(self) -> dict[str, Any]:
        return {"doc2vec": self.params}

    def embed(self, texts: list[str]) -> np.ndarray:
        corpus = self.corpus
        key = cache_key("doc2vec", tokens_digest(corpus.tokens), self.params, version("gensim"))
        folder = corpus.cache.directory("word_vectors", key, self._train)
        documents = corpus.tokenize(texts)
        if documents == corpus.tokens:
            return np.load(folder / DOC_VECTORS_FILE, allow_pickle=False)
        return mean_vectors(documents, read_word_vectors(folder))

    def _train(self, directory: Path) -> None:
        from gensim.models.doc2vec import Doc2Vec, TaggedDocument

        tagged = [TaggedDocument(list(doc), [i]) for i, doc in enumerate(self.corpus.tokens)]
        if not any(tagged_doc.words for tagged_doc in tagged):
            raise UserError("embedding=doc2vec: the corpus has no tokens after the vectorizer "
                            "(check vectorizer.stop_words)")
        model = Doc2Vec(tagged, workers=1, hashfxn=stable_hash, **self.params)
        np.save(directory / DOC_VECTORS_FILE, np.ascontiguousarray(model.dv.vectors, dtype=np.float32),
                allow_pickle=False)
        write_word_vectors(WordVectors(list(model.wv.index_to_key), model.wv.vectors.astype(np.float32)), directory)
