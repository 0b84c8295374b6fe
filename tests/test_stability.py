"""Topic stability across seeds: constructed topic sets whose overlap is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runner.errors import UserError
from runner.metrics.stability import assign, match_topics, pair_stability, similarity, stability

WORDS = [f"w{i}" for i in range(100)]


def topic(start: int, size: int = 10) -> list[str]:
    return WORDS[start:start + size]


def test_jaccard_of_known_overlap() -> None:
    assert similarity(topic(0), topic(5)) == pytest.approx(5 / 15)   # 5 shared of 15 distinct words
    assert similarity(topic(0), topic(0)[::-1]) == 1.0                # order-free
    assert similarity(topic(0), topic(10)) == 0.0
    assert similarity(topic(0), topic(0)[::-1], "rbo") < 1.0          # RBO weighs the order
    assert similarity(topic(0), topic(0), "rbo") == pytest.approx(1.0)
    assert similarity(topic(0, 20), topic(0, 10) + topic(50, 10)) == 1.0  # only the top 10 words count


def test_permuted_runs_are_perfectly_stable_and_matched_back() -> None:
    run_a = {0: topic(0), 1: topic(10), 2: topic(20)}
    run_b = {0: topic(20), 1: topic(0), 2: topic(10)}
    assert {(m.topic_a, m.topic_b) for m in match_topics(run_a, run_b)} == {(0, 1), (1, 2), (2, 0)}
    result = stability([run_a, run_b, run_b])
    assert result.overall == 1.0 and all(t.mean == 1.0 for t in result.topics)
    assert result.topics[0].matched == (1, 1)


def test_hungarian_beats_greedy_matching() -> None:
    # greedy would take the single best pair (0.6) and be left with 0.0; the optimum is 0.5 + 0.5
    matrix = np.array([[0.6, 0.5], [0.5, 0.0]])
    assert sorted(assign(matrix)) == [(0, 1), (1, 0)]


def test_known_partial_overlap_per_topic_and_overall() -> None:
    run_a = {0: topic(0), 1: topic(10)}
    run_b = {0: topic(5), 1: topic(10)}            # topic 0 shares 5 of 15 words, topic 1 is identical
    result = stability([run_a, run_b])
    assert [t.mean for t in result.topics] == pytest.approx([1 / 3, 1.0])
    assert result.overall == pytest.approx((1 / 3 + 1.0) / 2)
    assert result.pairwise[0, 1] == result.pairwise[1, 0] == pytest.approx(result.overall)


def test_a_topic_missing_from_another_run_scores_zero() -> None:
    run_a = {0: topic(0), 1: topic(10), 2: topic(20)}
    run_b = {5: topic(0), 7: topic(10)}            # topic 2 has no partner
    result = stability([run_a, run_b])
    assert [t.similarities for t in result.topics] == [(1.0,), (1.0,), (0.0,)]
    assert result.topics[2].matched == (None,)
    assert pair_stability(run_a, run_b) == pytest.approx(2 / 3)   # divided by the larger number of topics
    assert pair_stability(run_b, run_a) == pytest.approx(2 / 3)


def test_overall_is_the_mean_over_all_pairs() -> None:
    a, b, c = {0: topic(0)}, {0: topic(0)}, {0: topic(50)}
    result = stability([a, b, c])
    assert result.overall == pytest.approx((1.0 + 0.0 + 0.0) / 3)
    assert result.topics[0].similarities == (1.0, 0.0)


def test_bad_input() -> None:
    with pytest.raises(UserError, match="at least 2 runs"):
        stability([{0: topic(0)}])
    with pytest.raises(UserError, match="jaccard or rbo"):
        similarity(topic(0), topic(0), "cosine")
    assert math.isnan(pair_stability({}, {}))
