"""Topic stability across runs (seeds): topics matched by top-word overlap.

Two runs' topics are compared by the overlap of their top-k words, Jaccard (default:
``|A ∩ B| / |A ∪ B|``, order-free) or extrapolated rank-biased overlap (``rbo``, p = 0.9, weighs
the first words most, as in :func:`runner.metrics.diversity.rbo_ext`). Each pair of runs is
matched one-to-one by the Hungarian algorithm (``scipy.optimize.linear_sum_assignment``,
maximising the summed similarity); a topic left without a partner (the runs have different
numbers of topics) scores 0.

* **Pair stability** of runs *a* and *b*: the summed similarity of the matched topics divided by
  the larger number of topics, in [0, 1]; 1 means the same topics (in any order).
* **Overall stability**: the mean pair stability over every pair of runs.
* **Per-topic stability** of a topic of the reference run (the first): the mean, over the other
  runs, of the similarity to the topic it is matched with there (0 when unmatched).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from runner.errors import UserError
from runner.metrics.diversity import rbo_ext

MEASURES: tuple[str, ...] = ("jaccard", "rbo")
DEFAULT_MEASURE = "jaccard"

Topics = Mapping[int, Sequence[str]]
"""One run's topics: topic id (outlier topic -1 excluded) to its words, best first."""


@dataclass(frozen=True)
class Match:
    """A topic of run *a* matched with a topic of run *b*, and their similarity."""

    topic_a: int
    topic_b: int
    similarity: float


@dataclass(frozen=True)
class TopicStability:
    """How stable one topic of the reference run is.

    Attributes:
        topic: Its id in the reference run.
        words: Its top-k words.
        matched: Per other run, the id of the topic matched to it (None: left unmatched).
        similarities: Per other run, the similarity to that topic (0.0 when unmatched).
    """

    topic: int
    words: tuple[str, ...]
    matched: tuple[int | None, ...]
    similarities: tuple[float, ...]

    @property
    def mean(self) -> float:
        """Mean similarity over the other runs."""
        return float(np.mean(self.similarities)) if self.similarities else float("nan")


@dataclass(frozen=True)
class Stability:
    """Stability of a set of runs.

    Attributes:
        measure: ``jaccard`` or ``rbo``.
        top_k: Words per topic compared.
        topics: Per topic of the reference run (the first run).
        pairwise: Runs × runs matrix of pair stability (1 on the diagonal).
        overall: Mean pair stability over every pair of runs.
    """

    measure: str
    top_k: int
    topics: tuple[TopicStability, ...]
    pairwise: np.ndarray
    overall: float


def check_measure(measure: str) -> str:
    """``measure`` if it is known, else a UserError naming the choices."""
    if measure not in MEASURES:
        raise UserError(f"unknown topic-matching measure '{measure}'; use {' or '.join(MEASURES)}")
    return measure


def similarity(words_a: Sequence[str], words_b: Sequence[str], measure: str = DEFAULT_MEASURE,
               top_k: int = 10, p: float = 0.9) -> float:
    """Similarity of two topics' top-k words (Jaccard or extrapolated RBO), in [0, 1]."""
    a, b = list(words_a[:top_k]), list(words_b[:top_k])
    if check_measure(measure) == "rbo":
        return float(rbo_ext(a, b, p))
    union = set(a) | set(b)
    return len(set(a) & set(b)) / len(union) if union else 0.0


def similarity_matrix(topics_a: Topics, topics_b: Topics, measure: str = DEFAULT_MEASURE, top_k: int = 10,
                      p: float = 0.9) -> np.ndarray:
    """Similarity of every topic of *a* (rows, in id order) to every topic of *b* (columns)."""
    ids_a, ids_b = sorted(topics_a), sorted(topics_b)
    matrix = np.zeros((len(ids_a), len(ids_b)))
    for i, j in itertools.product(range(len(ids_a)), range(len(ids_b))):
        matrix[i, j] = similarity(topics_a[ids_a[i]], topics_b[ids_b[j]], measure, top_k, p)
    return matrix


def assign(matrix: np.ndarray) -> list[tuple[int, int]]:
    """Row-column pairs that maximise the summed similarity, one-to-one (Hungarian algorithm)."""
    from scipy.optimize import linear_sum_assignment

    if matrix.size == 0:
        return []
    rows, columns = linear_sum_assignment(matrix, maximize=True)
    return [(int(r), int(c)) for r, c in zip(rows, columns)]


def match_topics(topics_a: Topics, topics_b: Topics, measure: str = DEFAULT_MEASURE, top_k: int = 10,
                 p: float = 0.9) -> list[Match]:
    """The one-to-one matching of *a*'s topics to *b*'s with the largest summed similarity."""
    ids_a, ids_b = sorted(topics_a), sorted(topics_b)
    matrix = similarity_matrix(topics_a, topics_b, measure, top_k, p)
    return [Match(ids_a[i], ids_b[j], float(matrix[i, j])) for i, j in assign(matrix)]


def pair_stability(topics_a: Topics, topics_b: Topics, measure: str = DEFAULT_MEASURE, top_k: int = 10,
                   p: float = 0.9) -> float:
    """Summed similarity of the matched topics / the larger number of topics (nan when both have none)."""
    size = max(len(topics_a), len(topics_b))
    if size == 0:
        return float("nan")
    return sum(m.similarity for m in match_topics(topics_a, topics_b, measure, top_k, p)) / size


def stability(runs: Sequence[Topics], measure: str = DEFAULT_MEASURE, top_k: int = 10, p: float = 0.9) -> Stability:
    """Per-topic (of the first run), pairwise and overall stability of two or more runs.

    Raises:
        UserError: Fewer than two runs, or an unknown measure.
    """
    check_measure(measure)
    if len(runs) < 2:
        raise UserError(f"topic stability needs at least 2 runs, got {len(runs)}")
    pairwise = np.eye(len(runs))
    for i, j in itertools.combinations(range(len(runs)), 2):
        pairwise[i, j] = pairwise[j, i] = pair_stability(runs[i], runs[j], measure, top_k, p)
    reference, others = runs[0], runs[1:]
    matches = [{m.topic_a: m for m in match_topics(reference, other, measure, top_k, p)} for other in others]
    topics = tuple(
        TopicStability(topic, tuple(reference[topic][:top_k]),
                       tuple(found[topic].topic_b if topic in found else None for found in matches),
                       tuple(found[topic].similarity if topic in found else 0.0 for found in matches))
        for topic in sorted(reference))
    upper = pairwise[np.triu_indices(len(runs), k=1)]
    return Stability(measure, top_k, topics, pairwise, float(np.mean(upper)))
