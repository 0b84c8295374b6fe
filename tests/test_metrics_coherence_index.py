"""CoherenceIndex window counts: gensim mode vs gensim's accumulator, exact mode vs brute force,
the documented example where they differ, and save/load."""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Sequence

import numpy as np
import pytest

from runner.errors import UserError
from runner.metrics import MEASURES, CoherenceIndex, gensim_coherence


def brute_force_counts(
    texts: Sequence[Sequence[str]], words: Sequence[str], window_size: int | None
) -> tuple[np.ndarray, int]:
    """True boolean windows, enumerated one by one (gensim's window rules).

    A document of L tokens gives L - W + 1 windows if L >= W, else one window (itself, even
    when empty); ``window_size=None`` gives one window per document. A window contains a word
    if any copy of the word is inside it.
    """
    windows: list[set[str]] = []
    for doc in texts:
        if window_size is None or len(doc) <= window_size:
            windows.append(set(doc))
        else:
            windows.extend(set(doc[i : i + window_size]) for i in range(len(doc) - window_size + 1))
    k = len(words)
    counts = np.zeros((k, k), dtype=np.int64)
    for a, b in itertools.product(range(k), repeat=2):
        counts[a, b] = sum(1 for w in windows if words[a] in w and words[b] in w)
    return counts, len(windows)


def gensim_counts(
    texts: Sequence[Sequence[str]], words: Sequence[str], window_size: int
) -> tuple[np.ndarray, int]:
    """Counts from gensim's own WordOccurrenceAccumulator."""
    from gensim.corpora import Dictionary
    from gensim.topic_coherence.text_analysis import WordOccurrenceAccumulator

    dictionary = Dictionary(texts)
    ids = {dictionary.token2id[w] for w in words}
    acc = WordOccurrenceAccumulator(ids, dictionary).accumulate(texts, window_size)
    k = len(words)
    counts = np.zeros((k, k), dtype=np.int64)
    for a, b in itertools.product(range(k), repeat=2):
        counts[a, b] = acc[words[a]] if a == b else acc[words[a], words[b]]
    return counts, acc.num_docs


def random_corpus(seed: int, vocab: str = "abcdef") -> list[list[str]]:
    rng = random.Random(seed)
    return [
        [rng.choice(vocab[: rng.randint(1, len(vocab))]) for _ in range(rng.randint(0, 30))]
        for _ in range(rng.randint(1, 10))
    ]


@pytest.mark.parametrize("seed", range(15))
def test_gensim_mode_counts_equal_gensim_accumulator(seed: int) -> None:
    texts = random_corpus(seed)
    words = sorted({w for doc in texts for w in doc})
    for window in (1, 2, 3, 5, 8):
        index = CoherenceIndex.build(texts, window_size=window, mode="gensim")
        want, n = gensim_counts(texts, words, window)
        assert index.n_windows == n
        np.testing.assert_array_equal(index.cooccurrence_counts(words), want)


@pytest.mark.parametrize("seed", range(15))
def test_exact_mode_counts_equal_brute_force(seed: int) -> None:
    texts = random_corpus(100 + seed)
    words = sorted({w for doc in texts for w in doc})
    for window in (None, 1, 2, 3, 5, 8, 40):
        index = CoherenceIndex.build(texts, window_size=window, mode="exact")
        want, n = brute_force_counts(texts, words, window)
        assert index.n_windows == n
        np.testing.assert_array_equal(index.cooccurrence_counts(words), want)


def test_modes_agree_without_repeated_words() -> None:
    """gensim's quirk only concerns words repeated within a window."""
    rng = random.Random(5)
    vocab = [f"w{i}" for i in range(200)]
    texts = [rng.sample(vocab, rng.randint(0, 30)) for _ in range(40)]  # no repeats in a doc
    words = sorted({w for doc in texts for w in doc})[:30]
    for window in (2, 5, 10):
        a = CoherenceIndex.build(texts, window_size=window, mode="gensim")
        b = CoherenceIndex.build(texts, window_size=window, mode="exact")
        np.testing.assert_array_equal(a.cooccurrence_counts(words), b.cooccurrence_counts(words))


def test_documented_example_where_gensim_and_exact_differ() -> None:
    """``a b a c d`` with window 3: windows [a b a], [b a c], [a c d].

    ``a`` is in all three windows, but gensim clears its flag when the first ``a`` leaves
    (window 2) although the second ``a`` is still inside, and never sets it again: gensim
    counts ``a`` in 1 window and never together with ``c``; exact counts 3 and 2.
    """
    texts = [["a", "b", "a", "c", "d"]]
    gensim_index = CoherenceIndex.build(texts, window_size=3, mode="gensim")
    exact_index = CoherenceIndex.build(texts, window_size=3, mode="exact")
    assert gensim_index.n_windows == exact_index.n_windows == 3
    np.testing.assert_array_equal(gensim_index.cooccurrence_counts(["a", "c"]), [[1, 0], [0, 2]])
    np.testing.assert_array_equal(exact_index.cooccurrence_counts(["a", "c"]), [[3, 2], [2, 2]])
    np.testing.assert_array_equal(gensim_counts(texts, ["a", "c"], 3)[0], [[1, 0], [0, 2]])

    topics = [["a", "c"]]
    reference = gensim_coherence(topics, texts, "c_npmi", window_size=3)
    via_gensim_mode = gensim_index.score(topics, "c_npmi", window_size=3)
    via_exact_mode = exact_index.score(topics, "c_npmi", window_size=3)
    assert abs(reference.score - via_gensim_mode.score) <= 1e-12
    # gensim: a and c never co-occur -> NPMI close to -1; exact: P(a,c) = 2/3, P(a) = 1 -> 0.
    assert reference.score == pytest.approx(-1 + math.log(1 / 3 * 2 / 3) / math.log(1e-12), abs=1e-9)
    assert via_exact_mode.score == pytest.approx(0.0, abs=1e-9)


def test_boolean_documents_count_documents() -> None:
    texts = [["a", "a", "b"], [], ["b", "c"], ["a", "c", "c"]]
    index = CoherenceIndex.build(texts, window_size=None)
    assert index.n_windows == 4 and index.n_docs == 4 and index.n_tokens == 8
    np.testing.assert_array_equal(
        index.cooccurrence_counts(["a", "b", "c"]), [[2, 1, 1], [1, 2, 1], [1, 1, 2]]
    )


def test_short_documents_are_one_window_each() -> None:
    texts = [["a", "b"], ["b"], [], ["a", "b", "c"]]  # all shorter than or equal to 3
    index = CoherenceIndex.build(texts, window_size=3)
    assert index.n_windows == 4
    np.testing.assert_array_equal(index.cooccurrence_counts(["a", "b"]), [[2, 2], [2, 3]])


def test_vocabulary_and_errors() -> None:
    index = CoherenceIndex.build([["b", "a", "b"], ["c"]], window_size=2)
    assert dict(index.vocabulary) == {"b": 0, "a": 1, "c": 2}
    with pytest.raises(TypeError):
        index.vocabulary["d"] = 3  # read-only
    with pytest.raises(UserError, match="'zz'"):
        index.cooccurrence_counts(["a", "zz"])
    with pytest.raises(UserError, match="distinct"):
        index.cooccurrence_counts(["a", "a"])
    assert "window_size=2" in repr(index)
    assert index.cooccurrence_counts([]).shape == (0, 0)
    np.testing.assert_array_equal(index.cooccurrence_counts(["b"]), [[2]])  # [b a] and [a b]


def test_empty_corpus() -> None:
    index = CoherenceIndex.build([], window_size=10)
    assert index.n_windows == 0 and len(index.vocabulary) == 0
    result = index.score([["a", "b"]], "c_npmi")
    assert math.isnan(result.score) and result.missing_words == 2 and result.unscored_topics == 1


@pytest.mark.parametrize("window, mode", [(None, "gensim"), (3, "gensim"), (3, "exact"), (110, "exact")])
def test_save_load_round_trip(tmp_path, window, mode) -> None:
    texts = random_corpus(7, vocab="abcdefgh") + [["é", "中文", "a", "中文"]]
    topics = [list("abcd"), ["中文", "é", "a"], ["h", "g", "zz"], ["a"]]
    index = CoherenceIndex.build(texts, window_size=window, mode=mode)
    index.save(tmp_path / "idx")
    loaded = CoherenceIndex.load(tmp_path / "idx")

    files = sorted(p.name for p in (tmp_path / "idx").iterdir())
    assert files == ["counts.npy", "ends.npy", "meta.json", "starts.npy", "vocabulary.json", "word_ptr.npy"]
    for name in ("counts", "ends", "starts", "word_ptr"):
        array = np.load(tmp_path / "idx" / f"{name}.npy", allow_pickle=False)  # no pickle inside
        assert array.dtype == np.int64
        assert isinstance(getattr(loaded, f"_{name}"), np.memmap)
    meta = json.loads((tmp_path / "idx" / "meta.json").read_text())
    assert meta["window_size"] == window and meta["mode"] == mode

    assert dict(loaded.vocabulary) == dict(index.vocabulary)
    assert (loaded.n_windows, loaded.window_size, loaded.mode) == (index.n_windows, window, mode)
    for measure in MEASURES:
        if (measure == "u_mass") != (window is None):
            continue
        kwargs = {} if window is None else {"window_size": window}
        before = index.score(topics, measure, **kwargs)
        after = loaded.score(topics, measure, **kwargs)
        assert before.missing_words == after.missing_words
        np.testing.assert_array_equal(before.per_topic, after.per_topic)  # identical, nan included


def test_load_rejects_missing_or_foreign_directories(tmp_path) -> None:
    with pytest.raises(UserError, match="cannot read coherence index"):
        CoherenceIndex.load(tmp_path / "nothing-here")
    index = CoherenceIndex.build([["a", "b"]], window_size=2)
    index.save(tmp_path / "idx")
    meta = json.loads((tmp_path / "idx" / "meta.json").read_text())
    meta["format"] = "something-else"
    (tmp_path / "idx" / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(UserError, match="not a topicsweep-coherence-index"):
        CoherenceIndex.load(tmp_path / "idx")
