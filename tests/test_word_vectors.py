"""Corpus-trained word vectors: Word2Vec/Doc2Vec reproducible across processes; word2vec_mean and doc2vec end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from runner.config import compose, resolve
from runner.models.word_vectors import WordVectors
from runner.pipeline import Session
from runner.stages.corpus_embed import mean_vectors
from tests.conftest import PROJECT_ROOT

TRAIN_BOTH = """
import sys
from pathlib import Path
import numpy as np
from runner.cache import Cache
from runner.models.word_vectors import Word2VecSettings, corpus_word2vec
from runner.stages.corpus_embed import CorpusTokens, Doc2VecEmbedder
tokens = [line.split() for line in Path(sys.argv[1]).read_text().splitlines()]
cache = Cache(Path(sys.argv[2]))
words = corpus_word2vec(tokens, cache, Word2VecSettings(vector_size=16, epochs=3, min_count=1))
doc2vec = Doc2VecEmbedder(vector_size=16, epochs=3, min_count=1, sample=0.0)
doc2vec.use_corpus(CorpusTokens(tokens, "key", lambda texts: [t.split() for t in texts], cache))
np.save(Path(sys.argv[2]) / "out.npy", np.concatenate([words.vectors.ravel(), doc2vec.embed([" ".join(t) for t in tokens]).ravel()]))
"""


def test_word2vec_and_doc2vec_are_identical_across_python_hash_seeds(tmp_path: Path) -> None:
    from gensim.test.utils import datapath

    lee = Path(datapath("lee_background.cor")).read_text(encoding="utf-8").lower().splitlines()[:120]
    corpus = tmp_path / "tokens.txt"
    corpus.write_text("\n".join(lee), encoding="utf-8")
    outputs = []
    for seed in ("1", "2"):
        cache = tmp_path / f"cache{seed}"
        subprocess.run([sys.executable, "-c", TRAIN_BOTH, str(corpus), str(cache)], cwd=PROJECT_ROOT, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed})
        outputs.append(np.load(cache / "out.npy"))
    assert outputs[0].size > 0 and np.array_equal(outputs[0], outputs[1])


def test_mean_vectors_average_known_words_and_leave_unknown_documents_zero() -> None:
    words = WordVectors(["a", "b"], np.array([[1.0, 0.0], [0.0, 3.0]], dtype=np.float32))
    matrix = mean_vectors([["a", "b", "zzz"], ["zzz"], ["b"]], words)
    assert matrix.dtype == np.float32
    assert np.array_equal(matrix, np.array([[0.5, 1.5], [0.0, 0.0], [0.0, 3.0]], dtype=np.float32))


@pytest.mark.parametrize("embedding", [
    ["embedding=word2vec_mean", "embedding.vector_size=24", "embedding.epochs=3"],
    ["embedding=doc2vec", "embedding.vector_size=24", "embedding.epochs=3", "embedding.window=5"],
])
def test_corpus_trained_embeddings_run_end_to_end_and_are_cached(tmp_path: Path, embedding: list[str]) -> None:
    cfg = resolve(compose(["tracking=none", "reducer=pca", "clusterer=kmeans", *embedding]))
    session = Session(tmp_path)
    result = session.run(cfg)
    n_docs = len(result.corpus)
    arrays = [np.load(file) for file in (tmp_path / "embeddings").glob("*.npy")]
    assert [(array.shape, array.dtype) for array in arrays] == [((n_docs, 24), np.float32)]
    assert np.abs(arrays[0]).sum(axis=1).min() > 0  # every document has a vector
    assert result.metrics["n_topics"] >= 1 and "coherence_npmi" in result.metrics
    assert result.embedding["tokens"]  # the tokenization is part of the fingerprint (and the cache key)
    again = Session(tmp_path).run(cfg)
    assert again.cache_hits["embed"] and again.metrics == result.metrics
    other_tokens = Session(tmp_path).run(resolve(compose(["tracking=none", "reducer=pca", "clusterer=kmeans", *embedding,
                                                             "vectorizer.stop_words=null"])))
    assert other_tokens.embedding["tokens"] != result.embedding["tokens"] and not other_tokens.cache_hits["embed"]
