"""Topic coherence: definitions, the result type, and gensim's CoherenceModel as the reference.

The four measures are gensim's (Röder et al. 2015 pipelines as implemented in
``gensim.models.coherencemodel``), with ``EPSILON = 1e-12``:

``u_mass``
    Boolean-document counts; ``s_one_pre`` segmentation (pairs ``(w_i, w_j)``, ``i > j``);
    ``log(((co_ij / N) + eps) / (c_j / N))``; a zero ``c_j`` gives 0.0 (gensim catches the
    ``ZeroDivisionError``). Topic value = mean over pairs.
``c_uci``
    Boolean sliding-window counts (default window 10); ``s_one_one`` segmentation (all ordered
    pairs ``i != j``); PMI ``log(((co_ij / N) + eps) / ((c_i / N) * (c_j / N)))``.
``c_npmi``
    As ``c_uci`` but NPMI: ``PMI / -log((co_ij / N) + eps)``.
``c_v``
    Sliding window 110; ``s_one_set`` segmentation; each word ``w_i`` gets the context vector
    ``u_i = (NPMI(w_i, w_j))_j`` over the topic's own words (``NPMI(w, w)`` included, computed
    with ``co = c``); the topic gets ``v = sum_i u_i``; topic value = mean of ``cos(u_i, v)``.

``N`` is the number of documents (``u_mass``) or of windows. The model score is ``np.mean`` of
the per-topic values, so a ``nan``/``inf`` topic value propagates as in gensim.

:func:`topic_value` evaluates these formulas from a topic's co-occurrence count matrix; it is what
:class:`~runner.metrics.coherence_index.CoherenceIndex` uses, and it follows gensim's arithmetic
operation by operation so that both agree to rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from runner.errors import UserError
from runner.metrics.topics import PreparedTopics, check_top_n, prepare_topics

__all__ = [
    "DEFAULT_WINDOW",
    "EPSILON",
    "MEASURES",
    "CoherenceResult",
    "check_measure",
    "check_texts",
    "check_window_size",
    "gensim_coherence",
    "make_result",
    "required_window",
    "topic_value",
]

MEASURES: tuple[str, ...] = ("c_npmi", "c_v", "u_mass", "c_uci")
"""Supported coherence measures (gensim names)."""

DEFAULT_WINDOW: dict[str, int | None] = {"c_npmi": 10, "c_v": 110, "c_uci": 10, "u_mass": None}
"""gensim's default sliding-window sizes; ``None`` means boolean documents."""

EPSILON = 1e-12
"""gensim's ``direct_confirmation_measure.EPSILON``."""


@dataclass(frozen=True)
class CoherenceResult:
    """Coherence of a set of topics.

    Attributes:
        score: Mean over the scored topics (``nan`` when no topic could be scored).
        per_topic: One value per input topic, ``nan`` for unscored topics.
        missing_words: Topic words dropped (empty, or not in the reference vocabulary), counted
            over the first ``top_n`` words of each topic.
        unscored_topics: Topics left with fewer than two usable words.
    """

    score: float
    per_topic: tuple[float, ...]
    missing_words: int
    unscored_topics: int


def check_measure(measure: object) -> str:
    """Validate a coherence measure name.

    Args:
        measure: The name given by the caller.

    Returns:
        The name.

    Raises:
        UserError: If it is not one of :data:`MEASURES`.
    """
    if not isinstance(measure, str) or measure not in MEASURES:
        raise UserError(
            f"unknown coherence measure {measure!r}; expected one of {', '.join(MEASURES)}"
        )
    return measure


def check_window_size(window_size: object) -> int | None:
    """Validate a sliding-window size (``None`` allowed).

    Args:
        window_size: The value given by the caller.

    Returns:
        The window size, or ``None``.

    Raises:
        UserError: If it is neither ``None`` nor an integer >= 1.
    """
    if window_size is None:
        return None
    if isinstance(window_size, bool) or not isinstance(window_size, (int, np.integer)) or window_size < 1:
        raise UserError(f"window_size must be an integer >= 1 or None, got {window_size!r}")
    return int(window_size)


def required_window(measure: str, window_size: int | None = None) -> int | None:
    """Return the window a measure is computed with.

    Args:
        measure: A name from :data:`MEASURES`.
        window_size: An explicit sliding-window size, or ``None`` for the measure's default.
            Ignored for ``u_mass``, which always uses boolean documents.

    Returns:
        The window size, or ``None`` for boolean documents.
    """
    if check_measure(measure) == "u_mass":
        return None
    window_size = check_window_size(window_size)
    return DEFAULT_WINDOW[measure] if window_size is None else window_size


def check_texts(texts: Sequence[Sequence[str]]) -> list[Sequence[str]]:
    """Check that the reference texts are tokenized documents.

    Args:
        texts: Documents, each a sequence of tokens.

    Returns:
        The documents as a list.

    Raises:
        UserError: If ``texts`` or one of its documents is a plain string.
    """
    if isinstance(texts, (str, bytes)):
        raise UserError("reference texts must be a list of token lists, got a string")
    docs = list(texts)
    for d, doc in enumerate(docs):
        if isinstance(doc, (str, bytes)):
            raise UserError(
                f"reference document {d} is the string {doc[:50]!r}; documents must be token lists"
            )
    return docs


def _pair_pmi(co: np.ndarray, c1: np.ndarray, c2: np.ndarray, n: float) -> np.ndarray:
    """gensim's ``log_ratio_measure`` (normalize=False), element-wise."""
    numerator = (co / n) + EPSILON
    denominator = (c1 / n) * (c2 / n)
    return np.log(numerator / denominator)


def _pair_npmi(co: np.ndarray, c1: np.ndarray, c2: np.ndarray, n: float) -> np.ndarray:
    """gensim's ``log_ratio_measure`` (normalize=True), element-wise."""
    return _pair_pmi(co, c1, c2, n) / (-np.log((co / n) + EPSILON))


def topic_value(measure: str, counts: np.ndarray, n_windows: int) -> float:
    """Coherence of one topic from its co-occurrence counts, exactly as gensim computes it.

    Args:
        measure: A name from :data:`MEASURES`.
        counts: ``k x k`` integer matrix for the topic's ``k >= 2`` distinct words, in rank order:
            ``counts[i, j]`` = number of windows (documents for ``u_mass``) containing both
            words, ``counts[i, i]`` = number containing word ``i``.
        n_windows: Total number of windows (documents for ``u_mass``).

    Returns:
        The topic's coherence; may be ``nan`` or ``inf`` where gensim's is.
    """
    k = counts.shape[0]
    n = float(n_windows)
    diag = np.diagonal(counts)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if measure == "u_mass":
            # s_one_pre: (w_prime=i, w_star=j) for i > j, in gensim's order.
            i_idx, j_idx = np.tril_indices(k, -1)
            star = diag[j_idx]
            values = np.log(((counts[i_idx, j_idx] / n) + EPSILON) / (star / n))
            values[star == 0] = 0.0  # gensim: ZeroDivisionError -> 0.0
            return float(np.mean(values))
        if measure in ("c_uci", "c_npmi"):
            # s_one_one: all ordered pairs i != j, row by row.
            off = ~np.eye(k, dtype=bool)
            i_idx, j_idx = np.nonzero(off)
            pair = _pair_npmi if measure == "c_npmi" else _pair_pmi
            values = pair(counts[i_idx, j_idx], diag[i_idx], diag[j_idx], n)
            return float(np.mean(values))
        if measure == "c_v":
            npmi = _pair_npmi(counts, diag[:, None], diag[None, :], n)
            topic_vector = np.zeros(k)
            for row in npmi:  # gensim adds the segment words' vectors one at a time
                topic_vector += row
            dots = npmi @ topic_vector
            norms = np.sqrt(np.sum(npmi**2, axis=1)) * np.sqrt(np.sum(topic_vector**2))
            return float(np.mean(dots / norms))
    raise UserError(f"unknown coherence measure {measure!r}; expected one of {', '.join(MEASURES)}")


def make_result(prepared: PreparedTopics, values: Sequence[float]) -> CoherenceResult:
    """Assemble a :class:`CoherenceResult` from the values of the scored topics.

    Args:
        prepared: The prepared topics.
        values: One value per scored topic, in input order.

    Returns:
        The result; ``score`` is ``np.mean(values)`` (``nan`` if there are none).
    """
    it = iter(values)
    per_topic = tuple(float(next(it)) if ok else float("nan") for ok in prepared.scored)
    score = float(np.mean(np.asarray(values, dtype=float))) if len(values) else float("nan")
    return CoherenceResult(
        score=score,
        per_topic=per_topic,
        missing_words=prepared.missing_words,
        unscored_topics=prepared.unscored_topics,
    )


def gensim_coherence(
    topics: Sequence[Sequence[str]],
    texts: Sequence[Sequence[str]],
    measure: str,
    *,
    top_n: int = 10,
    window_size: int | None = None,
) -> CoherenceResult:
    """Coherence computed by gensim's ``CoherenceModel`` (the reference implementation).

    Topics are prepared as described in :mod:`runner.metrics.topics` (truncate to ``top_n``,
    drop empty and out-of-vocabulary words, de-duplicate, skip topics with < 2 words); the
    remaining topics go to ``CoherenceModel(topics=..., texts=texts,
    dictionary=Dictionary(texts), coherence=measure, topn=top_n, window_size=window_size,
    processes=1)`` and the per-topic values come from ``get_coherence_per_topic()``.

    This is slow (gensim slides a Python-level window over the whole corpus on every call); use
    :class:`~runner.metrics.coherence_index.CoherenceIndex` for repeated scoring.

    Args:
        topics: Topics, each a sequence of words, best first.
        texts: Reference corpus, tokenized.
        measure: One of :data:`MEASURES`.
        top_n: Number of top words per topic.
        window_size: Sliding-window size; ``None`` for gensim's default (:data:`DEFAULT_WINDOW`).

    Returns:
        The coherence result.

    Raises:
        UserError: On an unknown measure or malformed arguments.
    """
    from gensim.corpora import Dictionary
    from gensim.models.coherencemodel import CoherenceModel

    measure = check_measure(measure)
    top_n = check_top_n(top_n)
    window_size = check_window_size(window_size)
    docs = check_texts(texts)
    dictionary = Dictionary(docs)
    prepared = prepare_topics(topics, dictionary.token2id, top_n)
    scored = [list(words) for words in prepared.scored_words]
    if not scored:
        return make_result(prepared, [])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        model = CoherenceModel(
            topics=scored,
            texts=docs,
            dictionary=dictionary,
            coherence=measure,
            topn=top_n,
            window_size=window_size,
            processes=1,
        )
        values = [float(v) for v in model.get_coherence_per_topic()]
    return make_result(prepared, values)
