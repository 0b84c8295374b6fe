"""Topic-word preparation shared by every topic-level measure.

All measures read topics the same way (DESIGN.md §4):

1. a topic is a sequence of words, best first; only its first ``top_n`` entries are used;
2. empty strings (and ``None``) are dropped and counted as missing; for coherence, words that are
   not in the reference vocabulary are dropped and counted as missing too;
3. a word repeated inside a topic is kept once, at its first occurrence;
4. a coherence topic left with fewer than two usable words is *unscored*: it is reported, never
   scored (gensim would score a one-word topic as 1.0 under ``c_v`` and ``nan`` elsewhere).
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass

from runner.errors import UserError

__all__ = ["PreparedTopics", "check_top_n", "prepare_topics", "top_words", "validate_topics"]


@dataclass(frozen=True)
class PreparedTopics:
    """Topics ready for a coherence measure.

    Attributes:
        words: One tuple per input topic: its usable words, in rank order, without duplicates.
        scored: One flag per input topic: True when it has at least two usable words.
        missing_words: Topic words dropped because they were empty or not in the vocabulary,
            counted over the first ``top_n`` entries of each topic.
    """

    words: tuple[tuple[str, ...], ...]
    scored: tuple[bool, ...]
    missing_words: int

    @property
    def unscored_topics(self) -> int:
        """Number of topics with fewer than two usable words."""
        return self.scored.count(False)

    @property
    def scored_words(self) -> list[tuple[str, ...]]:
        """The word tuples of the scored topics, in input order."""
        return [words for words, ok in zip(self.words, self.scored) if ok]


def check_top_n(value: object, name: str = "top_n") -> int:
    """Validate a "number of top words" argument.

    Args:
        value: The value given by the caller.
        name: Its name, used in the error message.

    Returns:
        The value as an ``int``.

    Raises:
        UserError: If the value is not an integer >= 1.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def validate_topics(topics: Sequence[Sequence[str]]) -> list[list[str]]:
    """Check the shape of a topic list and return it as lists of words.

    ``None`` words are turned into empty strings (they are dropped later like them).

    Args:
        topics: Topics, each a sequence of words, best first.

    Returns:
        The topics as a list of lists of ``str``.

    Raises:
        UserError: If ``topics`` or one of its topics is a string rather than a sequence of
            words, or if a topic word is neither a string nor ``None``.
    """
    if isinstance(topics, (str, bytes)):
        raise UserError(f"topics must be a list of word lists, got the string {topics[:50]!r}")
    result: list[list[str]] = []
    for t, topic in enumerate(topics):
        if isinstance(topic, (str, bytes)):
            raise UserError(
                f"topic {t} must be a list of words, got the string {topic[:50]!r}"
            )
        words: list[str] = []
        for word in topic:
            if word is None:
                words.append("")
            elif isinstance(word, str):
                words.append(str(word))
            else:
                raise UserError(
                    f"topic {t} contains {word!r} ({type(word).__name__}); topic words must be strings"
                )
        result.append(words)
    return result


def prepare_topics(
    topics: Sequence[Sequence[str]], vocabulary: Container[str], top_n: int
) -> PreparedTopics:
    """Prepare topics for a coherence measure.

    Each topic is truncated to its first ``top_n`` words; then empty words and words not in
    ``vocabulary`` are dropped (and counted); then repeated words are kept once (first
    occurrence). Topics left with fewer than two words are flagged as unscored.

    Args:
        topics: Topics, each a sequence of words, best first.
        vocabulary: The reference vocabulary (anything supporting ``in``).
        top_n: Number of top words per topic to use.

    Returns:
        The prepared topics.

    Raises:
        UserError: If ``top_n`` or the topics are malformed.
    """
    top_n = check_top_n(top_n)
    kept_topics: list[tuple[str, ...]] = []
    scored: list[bool] = []
    missing = 0
    for topic in validate_topics(topics):
        kept: dict[str, None] = {}
        for word in topic[:top_n]:
            if word == "" or word not in vocabulary:
                missing += 1
            else:
                kept.setdefault(word, None)
        words = tuple(kept)
        kept_topics.append(words)
        scored.append(len(words) >= 2)
    return PreparedTopics(words=tuple(kept_topics), scored=tuple(scored), missing_words=missing)


def top_words(topics: Sequence[Sequence[str]], top_k: int) -> list[list[str]]:
    """Return the first ``top_k`` words of each topic, without empty words.

    Truncation happens first, so a topic padded with empty strings (as BERTopic pads short
    topics) simply yields fewer words. Duplicates are kept; callers decide how to treat them.

    Args:
        topics: Topics, each a sequence of words, best first.
        top_k: Number of top words per topic.

    Returns:
        One list of words per topic.

    Raises:
        UserError: If ``top_k`` or the topics are malformed.
    """
    top_k = check_top_n(top_k, "top_k")
    return [[w for w in topic[:top_k] if w != ""] for topic in validate_topics(topics)]
