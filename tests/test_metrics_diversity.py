"""Topic diversity and inverted RBO, against hand-computed values."""

from __future__ import annotations

import math

import pytest

from runner.errors import UserError
from runner.metrics import inverted_rbo, topic_diversity
from runner.metrics.diversity import rbo_ext


def test_topic_diversity_hand_computed() -> None:
    assert topic_diversity([["a", "b"], ["b", "c"]], top_k=2) == 3 / 4
    # truncation to top_k before counting: {a, b, d, e} / (2 * 2)
    assert topic_diversity([["a", "b", "c"], ["d", "e", "a"]], top_k=2) == 1.0
    # identical topics: 3 unique words / (3 * 2)
    assert topic_diversity([["a", "b", "c"], ["a", "b", "c"]], top_k=3) == 0.5


def test_topic_diversity_denominator_is_k_times_topics() -> None:
    """Short topics and empty (padding) words still count k slots each (BERTopic/OCTIS)."""
    assert topic_diversity([["a"], ["b"]], top_k=10) == 2 / 20
    assert topic_diversity([["a", "", ""], ["a", "b", "c"]], top_k=3) == 3 / 6
    assert topic_diversity([["", "", ""], ["", "x", ""]], top_k=3) == 1 / 6


def test_topic_diversity_no_topics_is_nan() -> None:
    assert math.isnan(topic_diversity([]))


def test_topic_diversity_default_k_is_10() -> None:
    topics = [[f"t{t}w{i}" for i in range(12)] for t in range(3)]
    topics[1][3] = "t0w0"  # one repeat within the top 10
    assert topic_diversity(topics) == 29 / 30


def test_rbo_ext_hand_computed() -> None:
    assert rbo_ext(list("abcdefg"), list("abcdefg"), 0.9) == pytest.approx(1.0, abs=1e-12)
    # depth 1 disagrees, every deeper prefix agrees: (1-p)/p * sum_{d=2..7} p^d + p^7 = p
    assert rbo_ext(list("abcdefg"), list("bacdefg"), 0.9) == pytest.approx(0.9, abs=1e-12)
    assert rbo_ext(list("abc"), list("xyz"), 0.9) == 0.0
    # unequal lengths, p = 0.5: x_l = 2/3, x_s = 1; sum1 = 1/2 + 1/4 * 2/3, sum2 = 1/4 * 1/2
    # term1 = (sum1 + sum2) = 19/24; term2 = 1/4 * ((2/3 - 1)/2 + 1) = 5/24 -> 1.0
    assert rbo_ext(["a", "b"], ["a"], 0.5) == pytest.approx(1.0, abs=1e-12)
    # p = 0.5, equal lengths 2: agreement(1) = 0, agreement(2) = 1/2, x_l = x_s = 1/2 * 2 = 1;
    # term1 = (1-p)/p * (p * 0 + p^2 * 1/2) = 1/8; term2 = p^2 * (0 / 2 + 1 / 2) = 1/8
    assert rbo_ext(["a", "b"], ["b", "c"], 0.5) == pytest.approx(0.25, abs=1e-12)
    assert rbo_ext([], ["a"], 0.9) == 0.0


def test_inverted_rbo_hand_computed() -> None:
    t1, t2, t3 = list("abcdefg"), list("bacdefg"), list("hijklmn")
    assert inverted_rbo([t1, t2, t3], top_k=7) == pytest.approx(1 - (0.9 + 0 + 0) / 3, abs=1e-12)
    assert inverted_rbo([t1, t1], top_k=7) == pytest.approx(0.0, abs=1e-12)
    assert inverted_rbo([t1, t3], top_k=7) == 1.0
    # top_k truncation: only "a b" vs "b a" are compared at top_k=2:
    # agreement(1) = 0, agreement(2) = 1 -> (1-p)/p * p^2 + p^2 * 1 = p(1-p) + p^2 = p
    assert inverted_rbo([t1, t2], top_k=2, p=0.5) == pytest.approx(0.5, abs=1e-12)


def test_inverted_rbo_ignores_empty_words_and_needs_two_topics() -> None:
    assert inverted_rbo([["a", "b", ""], ["c", "d", ""]], top_k=3) == 1.0
    assert math.isnan(inverted_rbo([["a", "b"]]))
    assert math.isnan(inverted_rbo([]))


@pytest.mark.parametrize("call", [
    lambda: inverted_rbo([["a"], ["b"]], p=0.0),
    lambda: inverted_rbo([["a"], ["b"]], p=1.5),
    lambda: inverted_rbo([["a"], ["b"]], top_k=0),
    lambda: topic_diversity([["a"]], top_k=-1),
    lambda: topic_diversity(["abc"]),
])
def test_bad_arguments_are_user_errors(call) -> None:
    with pytest.raises(UserError):
        call()
