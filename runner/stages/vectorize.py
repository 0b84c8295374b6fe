"""Vectorizer stage: the bag of words behind c-TF-IDF, and the tokens that coherence is scored on."""

from __future__ import annotations

from typing import Any

from runner.errors import UserError


def count_vectorizer(stop_words: str | list[str] | None = "english", lowercase: bool = True, min_df: int | float = 1,
                     max_df: int | float = 1.0, ngram_range: tuple[int, int] | list[int] = (1, 1),
                     token_pattern: str = r"(?u)\b\w\w+\b") -> Any:
    """scikit-learn's CountVectorizer with the settings BERTopic users tune.

    Note that BERTopic fits it on one concatenated document per topic, so ``min_df``/``max_df`` count
    topics, not documents.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    if len(ngram_range) != 2 or not 1 <= ngram_range[0] <= ngram_range[1]:
        raise UserError(f"vectorizer.ngram_range must be [low, high] with 1 <= low <= high, not {list(ngram_range)}")
    if isinstance(stop_words, str) and stop_words != "english":
        raise UserError(f"vectorizer.stop_words must be english, null or a list of words, not '{stop_words}'")
    return CountVectorizer(stop_words=stop_words, lowercase=lowercase, min_df=min_df, max_df=max_df,
                           ngram_range=tuple(ngram_range), token_pattern=token_pattern)


def reference_tokens(vectorizer: Any, texts: list[str]) -> list[list[str]]:
    """Unigram tokens per document as the vectorizer sees them (the coherence reference corpus).

    The vectorizer's own analyzer is used with ngram_range (1, 1), so every unigram topic word is
    found in the reference; n-gram topic words are not (they are dropped and counted as missing).
    """
    from sklearn.base import clone

    analyze = clone(vectorizer).set_params(ngram_range=(1, 1)).build_analyzer()
    return [analyze(text) for text in texts]
