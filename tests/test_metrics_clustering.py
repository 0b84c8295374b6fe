"""Clustering measures on topic labels (-1 = outlier), against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runner.errors import UserError
from runner.metrics import label_agreement, largest_topic_share, n_topics, outlier_ratio


def test_counts_with_outliers() -> None:
    labels = [-1, 0, 0, 1, -1, 2]
    assert outlier_ratio(labels) == 2 / 6
    assert n_topics(labels) == 3
    assert largest_topic_share(labels) == 2 / 6


def test_numpy_labels() -> None:
    labels = np.array([3, 3, 3, 7, -1], dtype=np.int32)
    assert outlier_ratio(labels) == 0.2
    assert n_topics(labels) == 2
    assert largest_topic_share(labels) == 0.6


def test_all_outliers_and_no_documents() -> None:
    assert outlier_ratio([-1, -1]) == 1.0
    assert n_topics([-1, -1]) == 0
    assert largest_topic_share([-1, -1]) == 0.0
    assert math.isnan(outlier_ratio([]))
    assert n_topics([]) == 0
    assert largest_topic_share([]) == 0.0


def test_label_agreement_hand_computed() -> None:
    # contingency: topic 0 -> gold x twice; topic 1 -> gold x once, gold y once.
    result = label_agreement([0, 0, 1, 1], ["x", "x", "x", "y"])
    # ARI: sum C(n_ij,2) = 1, rows 1+1 = 2, cols 3+0 = 3, C(4,2) = 6 -> expected 1 -> ARI 0
    assert result["ari"] == pytest.approx(0.0, abs=1e-12)
    mi = 0.5 * math.log(4 / 3) + 0.25 * math.log(2 / 3) + 0.25 * math.log(2)
    h_topics = math.log(2)
    h_gold = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    assert result["nmi"] == pytest.approx(mi / ((h_topics + h_gold) / 2), abs=1e-12)


def test_label_agreement_keeps_outliers_as_a_cluster() -> None:
    assert label_agreement([-1, -1, 5, 5], ["a", "a", "b", "b"]) == {"nmi": 1.0, "ari": 1.0}
    assert label_agreement([-1, -1, -1, -1], ["a", "a", "b", "b"])["ari"] == 0.0


def test_label_agreement_errors_and_empty() -> None:
    with pytest.raises(UserError, match="3 entries.*2"):
        label_agreement([0, 1], ["a", "b", "c"])
    result = label_agreement([], [])
    assert math.isnan(result["nmi"]) and math.isnan(result["ari"])


@pytest.mark.parametrize("bad", [[0.5, 1.0], "0101", [[0, 1]]])
def test_bad_labels_are_user_errors(bad) -> None:
    with pytest.raises(UserError):
        outlier_ratio(bad)
