"""The vocabulary of the bag-of-words models (ETM, FASTopic): a gensim Dictionary of the cached tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from runner.errors import UserError


def check_vocabulary(min_df: Any, max_df: Any) -> None:
    """``model.min_df`` an integer of at least 1, ``model.max_df`` a share in (0, 1]; else a UserError."""
    if isinstance(min_df, bool) or not isinstance(min_df, int) or min_df < 1:
        raise UserError(f"model.min_df must be an integer of at least 1, not {min_df!r}")
    if not 0.0 < float(max_df) <= 1.0:
        raise UserError(f"model.max_df must be a share of the documents in (0, 1], not {max_df!r}")


@dataclass(frozen=True)
class Vocabulary:
    """The model's words and the corpus as a (documents × words) count matrix (scipy CSR)."""

    words: list[str]
    counts: Any


def build_vocabulary(tokens: list[list[str]], min_df: int, max_df: float, keep_n: int | None = None) -> Vocabulary:
    """A gensim Dictionary of the tokens, filtered by document frequency, and the bag-of-words matrix.

    Args:
        tokens: Tokens per document.
        min_df: Keep words in at least this many documents.
        max_df: Keep words in at most this share of the documents.
        keep_n: Then keep at most this many words, those in the most documents (None: all).
    """
    from gensim.corpora import Dictionary
    from scipy.sparse import csr_matrix

    dictionary = Dictionary(tokens)
    if min_df > 1 or max_df < 1.0 or (keep_n is not None and len(dictionary) > keep_n):
        dictionary.filter_extremes(no_below=min_df, no_above=max_df, keep_n=keep_n)
    if len(dictionary) == 0:
        raise UserError(f"model: no word is left in the vocabulary (model.min_df={min_df}, "
                        f"model.max_df={max_df}; lower min_df or raise max_df, or check vectorizer.stop_words)")
    rows: list[int] = []
    columns: list[int] = []
    values: list[int] = []
    for row, doc in enumerate(tokens):
        for column, count in dictionary.doc2bow(doc):
            rows.append(row)
            columns.append(column)
            values.append(count)
    counts = csr_matrix((np.asarray(values, dtype=np.float32), (rows, columns)),
                        shape=(len(tokens), len(dictionary)))
    return Vocabulary([dictionary[i] for i in range(len(dictionary))], counts)
