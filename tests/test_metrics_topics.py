"""Topic-word preparation shared by the coherence measures."""

from __future__ import annotations

import pytest

from runner.errors import UserError
from runner.metrics import prepare_topics
from runner.metrics.topics import top_words

VOCAB = {"a", "b", "c", "d", "new", "york"}


def test_truncate_then_drop_then_deduplicate() -> None:
    prepared = prepare_topics(
        [["a", "zz", "", "a", "b", "c"], ["new york", "new", "york"], ["d"], [], ["b", "c", "d"]],
        VOCAB,
        top_n=5,
    )
    assert prepared.words == (("a", "b"), ("new", "york"), ("d",), (), ("b", "c", "d"))
    assert prepared.scored == (True, True, False, False, True)
    assert prepared.missing_words == 3  # "zz", "" and the n-gram "new york"
    assert prepared.unscored_topics == 2
    assert prepared.scored_words == [("a", "b"), ("new", "york"), ("b", "c", "d")]


def test_missing_words_are_counted_within_top_n_only() -> None:
    prepared = prepare_topics([["a", "zz", "b", "yy", "xx"]], VOCAB, top_n=2)
    assert prepared.words == (("a",),) and prepared.missing_words == 1
    assert prepared.unscored_topics == 1


def test_none_is_an_empty_word() -> None:
    prepared = prepare_topics([["a", None, "b"]], VOCAB, top_n=10)
    assert prepared.words == (("a", "b"),) and prepared.missing_words == 1


def test_top_words_truncates_then_drops_empty() -> None:
    assert top_words([["a", "", "b", "c"], ["", ""]], 3) == [["a", "b"], []]


@pytest.mark.parametrize(
    "topics, top_n",
    [("abc", 10), (["abc"], 10), ([["a", 1]], 10), ([["a"]], 0), ([["a"]], 2.5), ([["a"]], True)],
)
def test_malformed_input_is_a_user_error(topics, top_n) -> None:
    with pytest.raises(UserError):
        prepare_topics(topics, VOCAB, top_n)
