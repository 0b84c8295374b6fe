"""Topic diversity measures: topic diversity and inverted rank-biased overlap.

Both read the first ``top_k`` words of each topic and ignore empty words (BERTopic pads short
topics with empty strings); topic -1 (outliers) must be left out by the caller.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from runner.errors import UserError
from runner.metrics.topics import top_words

__all__ = ["inverted_rbo", "rbo_ext", "topic_diversity"]


def topic_diversity(topics: Sequence[Sequence[str]], top_k: int = 10) -> float:
    """Share of unique words among the top-k words of all topics (Dieng et al. 2020).

    ``len(unique words in the top k of every topic) / (k * n_topics)``, as OCTIS'
    ``TopicDiversity`` and the BERTopic paper compute it. The denominator is always
    ``k * n_topics``, even for topics with fewer than ``k`` (non-empty) words.

    Args:
        topics: Topics, each a sequence of words, best first.
        top_k: Number of top words per topic (10 in the BERTopic paper, 25 in the ETM paper).

    Returns:
        The diversity in [0, 1]; ``nan`` when there are no topics.

    Raises:
        UserError: If ``top_k`` or the topics are malformed.
    """
    words = top_words(topics, top_k)
    if not words:
        return float("nan")
    unique = set(itertools.chain.from_iterable(words))
    return len(unique) / (top_k * len(words))


def _agreement(list1: Sequence[str], list2: Sequence[str], depth: int) -> float:
    set1, set2 = set(list1[:depth]), set(list2[:depth])
    return 2 * len(set1 & set2) / (len(set1) + len(set2))


def _overlap(list1: Sequence[str], list2: Sequence[str], depth: int) -> float:
    return _agreement(list1, list2, depth) * min(depth, len(list1), len(list2))


def rbo_ext(list1: Sequence[str], list2: Sequence[str], p: float) -> float:
    """Extrapolated rank-biased overlap (Webber et al. 2010, eq. 32), as OCTIS computes it.

    This follows ``octis/evaluation_metrics/rbo.py`` (from github.com/dlukes/rbo): overlap at
    depth ``d`` is agreement × ``min(d, len1, len2)``. An empty list has no overlap with
    anything: 0.0 (OCTIS would divide by zero).

    Args:
        list1: First ranking (best first).
        list2: Second ranking.
        p: Persistence parameter in [0, 1].

    Returns:
        The extrapolated RBO, 1.0 for identical rankings.
    """
    short, long_ = sorted((list1, list2), key=len)
    s, l = len(short), len(long_)
    if s == 0:
        return 0.0
    x_l = _overlap(list1, list2, l)
    x_s = _overlap(list1, list2, s)
    sum1 = sum(p**d * _agreement(list1, list2, d) for d in range(1, l + 1))
    sum2 = sum(p**d * x_s * (d - s) / s / d for d in range(s + 1, l + 1))
    term1 = (1 - p) / p * (sum1 + sum2)
    term2 = p**l * ((x_l - x_s) / l + x_s / s)
    return term1 + term2


def inverted_rbo(topics: Sequence[Sequence[str]], top_k: int = 10, p: float = 0.9) -> float:
    """Inverted rank-biased overlap: 1 - mean pairwise extrapolated RBO (Bianchi et al. 2021).

    As OCTIS' ``InvertedRBO``: for every pair of topics,
    ``rbo_ext(topic1[:top_k], topic2[:top_k], p)``; the result is ``1 - mean``. Empty words are
    dropped after truncation.

    Args:
        topics: Topics, each a sequence of words, best first.
        top_k: Number of top words per topic.
        p: RBO persistence (weight of depth ``d`` is ``p ** (d - 1)``); in (0, 1].

    Returns:
        The inverted RBO (1 = no overlap at all); ``nan`` for fewer than 2 topics.

    Raises:
        UserError: If ``top_k``, ``p`` or the topics are malformed.
    """
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 < p <= 1:
        raise UserError(f"irbo weight p must be a number in (0, 1], got {p!r}")
    words = top_words(topics, top_k)
    if len(words) < 2:
        return float("nan")
    values = [rbo_ext(a, b, float(p)) for a, b in itertools.combinations(words, 2)]
    return float(1 - np.mean(values))
