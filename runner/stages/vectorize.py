"""Vectorizer stage: tokenize the corpus once, then count n-grams of those tokens for c-TF-IDF.

Tokenization (regex + stop words for English, jieba for Chinese) runs once per corpus and is
cached; the same token stream is the coherence reference, so every unigram topic word is found in
it. BERTopic receives the tokens joined by spaces and a whitespace CountVectorizer that only
builds n-grams and applies min_df/max_df, so no trial ever re-tokenizes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runner.errors import UserError


def load_extra_stop_words(spec: str | list[str] | None) -> tuple[frozenset[str], dict[str, Any] | None]:
    """``vectorizer.extra_stop_words``: corpus stop words ("reuters", "said") and what identifies them.

    Args:
        spec: A list of words, the path of a UTF-8 file with one word per line, or None.

    Returns:
        The lower-cased words, and their identity for the token cache key (None when there are none).

    Raises:
        UserError: A file that does not exist or is not UTF-8.
    """
    if spec is None:
        words: list[str] = []
    elif isinstance(spec, str):
        path = Path(spec).expanduser()
        if not path.is_file():
            raise UserError(f"extra stop-word file not found: {spec} (vectorizer.extra_stop_words: the path of a "
                            f"UTF-8 file with one word per line, or a list such as [reuters,said])")
        try:
            words = path.read_text(encoding="utf-8-sig").splitlines()
        except UnicodeDecodeError as error:
            raise UserError(f"extra stop-word file {path} is not valid UTF-8 (vectorizer.extra_stop_words)") from error
    else:
        words = [str(word) for word in spec]
    cleaned = frozenset(word.strip().lower() for word in words if word.strip())
    if not cleaned:
        return cleaned, None
    digest = hashlib.sha256("\n".join(sorted(cleaned)).encode("utf-8")).hexdigest()
    return cleaned, {"count": len(cleaned), "sha256": digest}


class Vectorizer:
    """Settings shared by every vectorizer option: n-grams, document-frequency limits, corpus stop words.

    Note that BERTopic fits the CountVectorizer on one concatenated document per topic, so
    ``min_df``/``max_df`` count topics, not documents. ``extra_stop_words`` (a list of words or a
    UTF-8 file, one word per line) are dropped from the tokens, ignoring case, after the option's
    own stop words; they are part of :meth:`token_settings` through ``extra_stop_words_identity``.
    """

    def __init__(self, min_df: int | float = 1, max_df: int | float = 1.0,
                 ngram_range: tuple[int, int] | list[int] = (1, 1),
                 extra_stop_words: str | list[str] | None = None) -> None:
        if len(ngram_range) != 2 or not 1 <= ngram_range[0] <= ngram_range[1]:
            raise UserError(f"vectorizer.ngram_range must be [low, high] with 1 <= low <= high, not {list(ngram_range)}")
        if isinstance(min_df, float) and not 0.0 <= min_df <= 1.0 or isinstance(min_df, int) and min_df < 1:
            raise UserError(f"vectorizer.min_df must be a count >= 1 or a share in [0, 1], not {min_df}")
        if isinstance(max_df, float) and not 0.0 < max_df <= 1.0 or isinstance(max_df, int) and max_df < 1:
            raise UserError(f"vectorizer.max_df must be a count >= 1 or a share in (0, 1], not {max_df}")
        self.min_df = min_df
        self.max_df = max_df
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        self.extra_stop_words, self.extra_stop_words_identity = load_extra_stop_words(extra_stop_words)

    def tokenize(self, texts: list[str]) -> list[list[str]]:
        """Unigram tokens per document, stop words removed (cached by the pipeline)."""
        analyze = self.analyzer()
        if not self.extra_stop_words:
            return [analyze(text) for text in texts]
        extra = self.extra_stop_words
        return [[token for token in analyze(text) if token.lower() not in extra] for text in texts]

    def analyzer(self) -> Callable[[str], list[str]]:
        """A function from one text to its unigram tokens."""
        raise NotImplementedError

    def token_settings(self) -> dict[str, Any]:
        """Everything that changes :meth:`tokenize`'s output (part of the token cache key)."""
        raise NotImplementedError

    def count_vectorizer(self) -> Any:
        """CountVectorizer over space-joined tokens: n-grams and df limits only."""
        from sklearn.feature_extraction.text import CountVectorizer

        return CountVectorizer(tokenizer=str.split, token_pattern=None, lowercase=False, min_df=self.min_df,
                               max_df=self.max_df, ngram_range=self.ngram_range)


class RegexVectorizer(Vectorizer):
    """scikit-learn's word tokenization (``token_pattern``), lower-casing and English stop words."""

    def __init__(self, stop_words: str | list[str] | None = "english", lowercase: bool = True,
                 token_pattern: str = r"(?u)\b\w\w+\b", **counting: Any) -> None:
        super().__init__(**counting)
        if isinstance(stop_words, str) and stop_words != "english":
            raise UserError(f"vectorizer.stop_words must be english, null or a list of words, not '{stop_words}'")
        self.stop_words = stop_words
        self.lowercase = lowercase
        self.token_pattern = token_pattern

    def token_settings(self) -> dict[str, Any]:
        return {"stop_words": self.stop_words, "lowercase": self.lowercase, "token_pattern": self.token_pattern,
                "extra_stop_words": self.extra_stop_words_identity}

    def analyzer(self) -> Callable[[str], list[str]]:
        from sklearn.feature_extraction.text import CountVectorizer

        return CountVectorizer(stop_words=self.stop_words, lowercase=self.lowercase,
                               token_pattern=self.token_pattern).build_analyzer()
