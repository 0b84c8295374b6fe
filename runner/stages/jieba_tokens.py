"""Chinese vectorizer: jieba segmentation, stop words from a maintained list, token filters.

Segmentation runs once per corpus (the pipeline caches :meth:`JiebaVectorizer.tokenize` by
:meth:`JiebaVectorizer.token_settings`); c-TF-IDF n-grams and coherence both use these tokens.
Each vectorizer has its own ``jieba.Tokenizer``, so a user dictionary never leaks into another run.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from runner.errors import UserError
from runner.stages.vectorize import Vectorizer

_ZH_EXTRA = "pip install 'topicsweep[zh]'"


@dataclass(frozen=True)
class StopWords:
    """A stop-word set and what identifies it (part of the token cache key)."""

    words: frozenset[str]
    identity: dict[str, Any]


def load_stop_words(spec: str | list[str] | None, lowercase: bool = True) -> StopWords:
    """Stop words from stopwordsiso language codes (``zh``, ``en``…) and/or word-list files.

    Args:
        spec: null (no stop words), one entry or a list of entries; an entry is the path of a
            UTF-8 file with one word per line, or a stopwordsiso language code.
        lowercase: Lower-case the words (as the tokens are).

    Raises:
        UserError: A file that does not exist or is not UTF-8, or an unknown list name.
    """
    entries = [] if spec is None else [spec] if isinstance(spec, str) else list(spec)
    words: set[str] = set()
    sources: list[dict[str, str]] = []
    for entry in entries:
        entry = str(entry)
        path = Path(entry).expanduser()
        if path.is_file():
            words.update(_read_word_file(path))
            sources.append({"file": str(path.resolve())})
        elif _looks_like_path(entry):
            raise UserError(f"stop-word file not found: {entry} (vectorizer.stop_words)")
        else:
            words.update(_stopwordsiso(entry))
            sources.append({"stopwordsiso": entry.lower(), "version": version("stopwordsiso")})
    if lowercase:
        words = {word.lower() for word in words}
    words = {word.strip() for word in words if word.strip()}
    digest = hashlib.sha256("\n".join(sorted(words)).encode("utf-8")).hexdigest()
    return StopWords(frozenset(words), {"sources": sources, "count": len(words), "sha256": digest})


def _looks_like_path(entry: str) -> bool:
    return "/" in entry or "\\" in entry or Path(entry).suffix != ""


def _read_word_file(path: Path) -> list[str]:
    try:
        return [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
    except UnicodeDecodeError as error:
        raise UserError(f"stop-word file {path} is not valid UTF-8 (vectorizer.stop_words)") from error


def _stopwordsiso(code: str) -> set[str]:
    try:
        import stopwordsiso
    except ImportError as error:
        raise UserError(f"vectorizer.stop_words={code} needs the stopwordsiso package: {_ZH_EXTRA}") from error
    if not stopwordsiso.has_lang(code):
        raise UserError(f"unknown stop-word list '{code}' (vectorizer.stop_words): use a stopwordsiso language code "
                        f"such as zh or en, the path of a UTF-8 file with one word per line, or null")
    return set(stopwordsiso.stopwords(code))


def has_letter(token: str) -> bool:
    """True when the token contains a letter (Unicode category L*: Han characters, Latin letters…)."""
    return any(unicodedata.category(char).startswith("L") for char in token)


class JiebaVectorizer(Vectorizer):
    """jieba word segmentation for Chinese text, with stop words and token filters.

    A token is kept when it contains at least one letter (so whitespace, Chinese and ASCII
    punctuation, symbols and pure numbers are dropped), has at least ``min_length`` characters
    and is not a stop word. Latin-script tokens are lower-cased when ``lowercase`` is set.

    Args:
        user_dict: Path of a jieba user dictionary (``word [freq] [tag]`` per line, UTF-8), or None.
        stop_words: stopwordsiso code(s) such as ``zh``, stop-word file path(s), or None.
        hmm: Let jieba's HMM find words missing from its dictionary.
        min_length: Minimum token length in characters.
        lowercase: Lower-case tokens (affects Latin script only).
        **counting: ``ngram_range``, ``min_df``, ``max_df``, ``extra_stop_words`` (see :class:`Vectorizer`).
    """

    def __init__(self, user_dict: str | None = None, stop_words: str | list[str] | None = "zh", hmm: bool = True,
                 min_length: int = 2, lowercase: bool = True, **counting: Any) -> None:
        super().__init__(**counting)
        if min_length < 1:
            raise UserError(f"vectorizer.min_length must be at least 1, not {min_length}")
        self.user_dict = Path(user_dict).expanduser() if user_dict is not None else None
        if self.user_dict is not None and not self.user_dict.is_file():
            raise UserError(f"jieba user dictionary not found: {user_dict} (vectorizer.user_dict)")
        self.user_dict_sha256 = (hashlib.sha256(self.user_dict.read_bytes()).hexdigest()
                                 if self.user_dict is not None else None)
        self.stop_words = load_stop_words(stop_words, lowercase)
        self.hmm = hmm
        self.min_length = min_length
        self.lowercase = lowercase

    def token_settings(self) -> dict[str, Any]:
        return {"tokenizer": "jieba", "jieba": _jieba_version(), "hmm": self.hmm,
                "user_dict_sha256": self.user_dict_sha256, "stop_words": self.stop_words.identity,
                "min_length": self.min_length, "lowercase": self.lowercase,
                "extra_stop_words": self.extra_stop_words_identity}

    def analyzer(self) -> Callable[[str], list[str]]:
        """Text to tokens, with one jieba Tokenizer initialised once (loading its dictionary takes ~1 s)."""
        tokenizer = self._tokenizer()
        return lambda text: self._keep(tokenizer.cut(text, HMM=self.hmm))

    def _keep(self, pieces: Any) -> list[str]:
        tokens = []
        for piece in pieces:
            for token in piece.split():  # jieba yields whitespace runs as tokens
                if self.lowercase:
                    token = token.lower()
                if len(token) >= self.min_length and has_letter(token) and token not in self.stop_words.words:
                    tokens.append(token)
        return tokens

    def _tokenizer(self) -> Any:
        """A fresh jieba Tokenizer with the user dictionary loaded (never jieba's global one)."""
        import jieba

        # jieba logs its dictionary loading at DEBUG on its own handler; show it only with --debug.
        logging.getLogger("jieba").setLevel(max(logging.getLogger().getEffectiveLevel(), logging.DEBUG))
        tokenizer = jieba.Tokenizer()
        if self.user_dict is not None:
            try:
                tokenizer.load_userdict(str(self.user_dict))
            except (ValueError, UnicodeDecodeError) as error:
                raise UserError(f"cannot read jieba user dictionary {self.user_dict} (vectorizer.user_dict): "
                                f"{str(error).splitlines()[0]}") from error
        return tokenizer


def _jieba_version() -> str:
    try:
        return version("jieba")
    except PackageNotFoundError:  # a jieba without metadata (vendored copy)
        import jieba

        return str(jieba.__version__)
