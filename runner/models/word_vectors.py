"""Word vectors for ETM and the word2vec embedders: gensim Word2Vec trained on the corpus, or a file.

Word2Vec is trained on the session's cached vectorizer tokens and cached as ``vectors.npy`` +
``vocabulary.json`` (one cache directory per tokens and settings), so ETM and
``embedding=word2vec_mean`` share one training. It runs single-threaded with a seed, so the same
tokens and settings give the same vectors in every process (gensim ≥ 4 seeds its initial vectors
from the seed alone; the Python-hash-based ``hashfxn`` is replaced by a stable one anyway).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from runner.cache import Cache, cache_key
from runner.errors import UserError

VECTORS_FILE = "vectors.npy"
VOCABULARY_FILE = "vocabulary.json"
MISSING_WORD_SCALE = 0.6  # ETM's reference code draws vectors of words missing from the file from N(0, 0.6²)


def stable_hash(text: str) -> int:
    """A hash that, unlike Python's ``hash``, is the same in every process (gensim's ``hashfxn``)."""
    return zlib.crc32(text.encode("utf-8"))


@dataclass(frozen=True)
class Word2VecSettings:
    """gensim Word2Vec settings; the defaults are ETM's reference ``skipgram.py`` (skip-gram, 300-d).

    Attributes:
        vector_size: Dimension of the word vectors.
        window: Context window (words on each side).
        min_count: Words seen fewer times in the corpus get no vector.
        sg: 1 = skip-gram, 0 = CBOW.
        negative: Negative samples per positive one.
        epochs: Passes over the corpus.
        seed: Random seed (training runs on one worker thread, so the vectors are reproducible).
    """

    vector_size: int = 300
    window: int = 4
    min_count: int = 2
    sg: int = 1
    negative: int = 10
    epochs: int = 50
    seed: int = 42

    def __post_init__(self) -> None:
        for name in ("vector_size", "window", "min_count", "epochs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UserError(f"word2vec.{name} must be an integer of at least 1, not {value!r}")
        if self.sg not in (0, 1):
            raise UserError(f"word2vec.sg must be 1 (skip-gram) or 0 (CBOW), not {self.sg!r}")


@dataclass(frozen=True)
class WordVectors:
    """Word vectors: row ``i`` of ``vectors`` (float32) belongs to ``vocabulary[i]``."""

    vocabulary: list[str]
    vectors: np.ndarray

    def index(self) -> dict[str, int]:
        """Word to row."""
        return {word: row for row, word in enumerate(self.vocabulary)}


def corpus_word2vec(tokens: Sequence[Sequence[str]], cache: Cache, settings: Word2VecSettings) -> WordVectors:
    """Word2Vec trained on ``tokens`` (one sentence per document), computed once per tokens and settings.

    Args:
        tokens: The cached vectorizer tokens of the corpus.
        cache: Where the vectors are kept (the key is the tokens' content, the settings and gensim's version).
        settings: Word2Vec settings.
    """
    key = cache_key("word2vec", tokens_digest(tokens), asdict(settings), version("gensim"))
    folder = cache.directory("word_vectors", key, lambda directory: _train_word2vec(tokens, settings, directory))
    return read_word_vectors(folder)


def tokens_digest(tokens: Sequence[Sequence[str]]) -> str:
    """sha256 of a token stream: what a model trained on it is keyed by."""
    return cache_key("tokens-content", tokens)


def _train_word2vec(tokens: Sequence[Sequence[str]], settings: Word2VecSettings, directory: Path) -> None:
    from gensim.models import Word2Vec

    sentences = [list(doc) for doc in tokens if doc]
    counts: dict[str, int] = {}
    for doc in sentences:
        for word in doc:
            counts[word] = counts.get(word, 0) + 1
    if not any(count >= settings.min_count for count in counts.values()):
        raise UserError(f"word2vec: no word occurs {settings.min_count} times in the corpus tokens "
                        "(lower word2vec.min_count, or check vectorizer.stop_words)")
    model = Word2Vec(sentences, vector_size=settings.vector_size, window=settings.window,
                     min_count=settings.min_count, sg=settings.sg, negative=settings.negative,
                     epochs=settings.epochs, seed=settings.seed, workers=1, hashfxn=stable_hash)
    write_word_vectors(WordVectors(list(model.wv.index_to_key), model.wv.vectors.astype(np.float32)), directory)


def write_word_vectors(word_vectors: WordVectors, directory: Path) -> None:
    """Store word vectors as ``vectors.npy`` and ``vocabulary.json`` (no pickle)."""
    np.save(directory / VECTORS_FILE, np.ascontiguousarray(word_vectors.vectors, dtype=np.float32),
            allow_pickle=False)
    (directory / VOCABULARY_FILE).write_text(json.dumps(word_vectors.vocabulary, ensure_ascii=False),
                                             encoding="utf-8")


def read_word_vectors(directory: Path) -> WordVectors:
    """Word vectors written by :func:`write_word_vectors`."""
    vectors = np.load(directory / VECTORS_FILE, allow_pickle=False)
    vocabulary = json.loads((directory / VOCABULARY_FILE).read_text(encoding="utf-8"))
    return WordVectors(vocabulary, vectors)


def file_vectors_for(path: str, vocabulary: Sequence[str], cache: Cache, seed: int) -> np.ndarray:
    """Rows of a word2vec-format file (text, or binary when the name ends in ``.bin``) for ``vocabulary``.

    Words missing from the file get random vectors from N(0, 0.6²) (as ETM's reference code does),
    drawn with ``seed``. The (vocabulary × dim) matrix is cached by the file's content and the
    vocabulary, so a sweep reads a large file once.

    Raises:
        UserError: The file does not exist, cannot be parsed, or shares no word with the vocabulary.
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise UserError(f"word vectors file not found: {file} (model.word_vectors: word2vec, trained, "
                        "or the path of a word2vec-format file)")
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    key = cache_key("file-word-vectors", digest.hexdigest(), list(vocabulary), seed, MISSING_WORD_SCALE)
    return cache.array("word_vectors", key, lambda: _read_file_vectors(file, vocabulary, seed),
                       meta={"file": str(file), "vocabulary_size": len(vocabulary)})


def _read_file_vectors(file: Path, vocabulary: Sequence[str], seed: int) -> np.ndarray:
    from gensim.models import KeyedVectors

    try:
        keyed: Any = KeyedVectors.load_word2vec_format(str(file), binary=file.name.endswith(".bin"))
    except (ValueError, UnicodeDecodeError, EOFError) as error:
        raise UserError(f"cannot read word vectors from {file} (word2vec text format, or binary when the name "
                        f"ends in .bin): {str(error).splitlines()[0]}") from error
    rng = np.random.default_rng(seed)
    matrix = rng.normal(scale=MISSING_WORD_SCALE, size=(len(vocabulary), keyed.vector_size)).astype(np.float32)
    found = [row for row, word in enumerate(vocabulary) if word in keyed.key_to_index]
    if not found:
        raise UserError(f"{file} has a vector for none of the corpus's {len(vocabulary)} words")
    matrix[found] = keyed[[vocabulary[row] for row in found]]
    return matrix
