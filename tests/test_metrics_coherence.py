"""CoherenceIndex must equal gensim's CoherenceModel (via gensim_coherence) to 1e-9.

Covers adversarial corpora (empty documents, documents shorter than / equal to / longer than
the window, repeated words), awkward topics (missing, empty, duplicated and n-gram words,
single-word and empty topics, unequal lengths), nan/inf propagation, and two real corpora
(BBC News as preprocessed by OCTIS; THUCNews headlines segmented with jieba).
"""

from __future__ import annotations

import collections
import logging
import math
import random
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from runner.errors import UserError
from runner.metrics import (
    DEFAULT_WINDOW,
    MEASURES,
    CoherenceIndex,
    CoherenceResult,
    gensim_coherence,
)
from runner.metrics.coherence import topic_value

DATA = Path(__file__).parents[1].parent / "shared" / "data"
BBC = DATA / "bbc_news_octis.tsv"
THUCNEWS = DATA / "thucnews_headlines.tsv"
TOL = 1e-9


def assert_same(expected: CoherenceResult, actual: CoherenceResult, tol: float = TOL) -> None:
    """Same counts; same numbers to ``tol``; nan where nan; the same inf where inf."""
    assert actual.missing_words == expected.missing_words
    assert actual.unscored_topics == expected.unscored_topics
    assert len(actual.per_topic) == len(expected.per_topic)
    pairs = [(expected.score, actual.score), *zip(expected.per_topic, actual.per_topic)]
    for want, got in pairs:
        if math.isnan(want):
            assert math.isnan(got), (want, got)
        elif math.isinf(want):
            assert got == want, (want, got)
        else:
            assert abs(want - got) <= tol, (want, got, expected, actual)


def build_for(texts, measure: str, window_size: int | None = None, mode: str = "gensim"):
    window = None if measure == "u_mass" else (window_size or DEFAULT_WINDOW[measure])
    return CoherenceIndex.build(texts, window_size=window, mode=mode)


# --------------------------------------------------------------------------- adversarial

ADVERSARIAL_TEXTS = [
    [],  # empty document: one (empty) window
    ["a"],  # shorter than every window but 1
    ["a", "b", "a", "c", "d"],  # repeated word: gensim's flag is cleared too early
    ["b"] * 12,  # a single word repeated, longer than the small windows
    list("abcdefghij"),  # exactly 10 tokens: one window at size 10
    [],
    ["c", "a", "a", "a", "b", "e", "a", "f", "a", "a", "g", "c"],
    ["x", "y"],
    ["new", "york", "a", "new", "york"],
]
_rng = random.Random(42)
ADVERSARIAL_TEXTS.append([_rng.choice("aabbcdefghxy") for _ in range(130)])  # > 110 tokens
ADVERSARIAL_TEXTS.append([_rng.choice("abc") for _ in range(111)])  # window 110 + 1

ADVERSARIAL_TOPICS = [
    ["a", "b", "c"],
    ["a", "a", "b", "zzz", "", "c"],  # duplicate, missing and empty words
    ["zzz", "a"],  # one usable word: unscored
    ["b"],  # single-word topic: unscored (gensim would give c_v = 1.0)
    [],  # empty topic
    ["new york", "a", "new", "york"],  # an n-gram is not in the vocabulary
    list("jihgfedcbaxy"),  # longer than top_n: truncated first
    ["b", "a"],
    ["x", "y", "a"],
    ["", "", "c", "g"],
]


@pytest.mark.parametrize(
    "measure, window_size",
    [("u_mass", None)]
    + [(m, w) for m in ("c_npmi", "c_v", "c_uci") for w in (None, 1, 2, 3, 5, 10)],
)
def test_adversarial_corpus_matches_gensim(measure: str, window_size: int | None) -> None:
    index = build_for(ADVERSARIAL_TEXTS, measure, window_size)
    for top_n in (10, 3):
        expected = gensim_coherence(
            ADVERSARIAL_TOPICS, ADVERSARIAL_TEXTS, measure, top_n=top_n, window_size=window_size
        )
        actual = index.score(ADVERSARIAL_TOPICS, measure, top_n=top_n, window_size=window_size)
        assert_same(expected, actual)
        assert expected.unscored_topics >= 3
        assert expected.missing_words >= 4


def test_adversarial_default_windows_c_v_110() -> None:
    """c_v with its default window 110: docs shorter than, equal to +1 and longer than it."""
    expected = gensim_coherence(ADVERSARIAL_TOPICS, ADVERSARIAL_TEXTS, "c_v")
    actual = CoherenceIndex.build(ADVERSARIAL_TEXTS, window_size=110).score(ADVERSARIAL_TOPICS, "c_v")
    assert_same(expected, actual)


def _random_case(seed: int):
    rng = random.Random(seed)
    vocab = list("abcdefghijkl")
    texts = [
        [rng.choice(vocab[: rng.randint(1, 12)]) for _ in range(rng.choice([0, 1, 2, 5, 9, 10, 11, 25, 40]))]
        for _ in range(rng.randint(1, 15))
    ]
    topics = [
        [rng.choice(vocab + ["zz", "", "a"]) for _ in range(rng.randint(0, 9))]
        for _ in range(rng.randint(1, 7))
    ]
    return texts, topics


@pytest.mark.parametrize("seed", range(12))
def test_random_adversarial_corpora_match_gensim(seed: int) -> None:
    texts, topics = _random_case(seed)
    window = random.Random(seed).choice([1, 2, 3, 4, 7, 10])
    for measure in MEASURES:
        expected = gensim_coherence(topics, texts, measure, top_n=7, window_size=window)
        index = build_for(texts, measure, window)
        assert_same(expected, index.score(topics, measure, top_n=7, window_size=window))


def test_no_scorable_topic_gives_nan_like_counts() -> None:
    topics = [["zzz", "a"], [], ["", ""], ["b"]]
    for measure in MEASURES:
        expected = gensim_coherence(topics, ADVERSARIAL_TEXTS, measure)
        actual = build_for(ADVERSARIAL_TEXTS, measure).score(topics, measure)
        assert math.isnan(expected.score) and math.isnan(actual.score)
        assert all(math.isnan(v) for v in actual.per_topic)
        assert actual.unscored_topics == expected.unscored_topics == 4
        assert actual.missing_words == expected.missing_words == 3


def test_topics_longer_than_48_words_and_wide_masks_match_gensim() -> None:
    """Topics too wide for one bit mask are swept block pair by block pair."""
    rng = random.Random(3)
    vocab = [f"w{i}" for i in range(90)]
    texts = [[rng.choice(vocab) for _ in range(rng.randint(0, 60))] for _ in range(120)]
    topics = [rng.sample(vocab, 70) for _ in range(3)] + [rng.sample(vocab, 20) for _ in range(4)]
    for measure, top_n in (("c_npmi", 70), ("c_v", 70), ("u_mass", 20), ("c_uci", 25)):
        expected = gensim_coherence(topics, texts, measure, top_n=top_n)
        assert_same(expected, build_for(texts, measure).score(topics, measure, top_n=top_n))


def test_explicit_window_size_matches_gensim() -> None:
    texts, topics = _random_case(99)
    index = CoherenceIndex.build(texts, window_size=4)
    for measure in ("c_npmi", "c_uci", "c_v"):
        expected = gensim_coherence(topics, texts, measure, window_size=4)
        assert_same(expected, index.score(topics, measure, window_size=4))


# --------------------------------------------------------------------------- nan / inf


class _StubAccumulator:
    """Hand-set counts in the shape gensim's confirmation measures read them."""

    def __init__(self, counts: np.ndarray, num_docs: int, as_python_int: bool) -> None:
        self.counts = counts
        self.num_docs = num_docs
        self.convert = int if as_python_int else np.uint32

    def __getitem__(self, key):
        if isinstance(key, tuple):
            return self.convert(self.counts[key[0], key[1]])
        return self.convert(self.counts[key, key])


def _gensim_topic_value(measure: str, counts: np.ndarray, n: int) -> float:
    from gensim.topic_coherence import (
        direct_confirmation_measure as direct,
        indirect_confirmation_measure as indirect,
        segmentation,
    )

    topic = np.arange(counts.shape[0])
    # CorpusAccumulator (u_mass) returns Python ints; WordOccurrenceAccumulator numpy uint32.
    acc = _StubAccumulator(counts, n, as_python_int=measure == "u_mass")
    with np.errstate(all="ignore"):
        if measure == "u_mass":
            return direct.log_conditional_probability(segmentation.s_one_pre([topic]), acc)[0]
        if measure == "c_v":
            return indirect.cosine_similarity(segmentation.s_one_set([topic]), acc, [topic])[0]
        return direct.log_ratio_measure(
            segmentation.s_one_one([topic]), acc, normalize=measure == "c_npmi"
        )[0]


COUNT_CASES = [
    (np.array([[5, 2, 0], [2, 3, 1], [0, 1, 4]]), 9),  # ordinary
    (np.array([[7, 7], [7, 7]]), 7),  # both words in every window
    (np.array([[0, 0], [0, 3]]), 4),  # a zero count: inf / 0.0 (u_mass) / nan
    (np.array([[0, 0], [0, 0]]), 4),  # all zero
    (np.array([[2, 0, 0], [0, 2, 0], [0, 0, 0]]), 2),
    (np.array([[4, 4, 0], [4, 4, 0], [0, 0, 4]]), 8),
]


@pytest.mark.parametrize("measure", MEASURES)
@pytest.mark.parametrize("case", range(len(COUNT_CASES)))
def test_formulas_match_gensim_including_nan_and_inf(measure: str, case: int) -> None:
    counts, n = COUNT_CASES[case]
    want = float(_gensim_topic_value(measure, counts, n))
    got = topic_value(measure, counts, n)
    if math.isnan(want):
        assert math.isnan(got)
    elif math.isinf(want):
        assert got == want
    else:
        assert abs(want - got) <= TOL


def test_degenerate_counts_do_produce_nan_and_inf() -> None:
    """The cases above really exercise nan and inf (guards the test itself)."""
    zero = COUNT_CASES[3][0]
    assert math.isinf(topic_value("c_uci", zero, 4))
    assert math.isnan(topic_value("c_v", zero, 4))
    assert topic_value("u_mass", zero, 4) == 0.0


# --------------------------------------------------------------------------- errors


def test_unknown_measure_is_a_user_error() -> None:
    index = CoherenceIndex.build([["a", "b"]], window_size=10)
    with pytest.raises(UserError, match="c_foo"):
        index.score([["a", "b"]], "c_foo")
    with pytest.raises(UserError, match="c_foo"):
        gensim_coherence([["a", "b"]], [["a", "b"]], "c_foo")


def test_window_mismatch_names_both_sizes() -> None:
    index = CoherenceIndex.build([["a", "b"]], window_size=10)
    with pytest.raises(UserError, match=r"window_size=110.*window_size=10"):
        index.score([["a", "b"]], "c_v")
    with pytest.raises(UserError, match="u_mass"):
        index.score([["a", "b"]], "u_mass")
    boolean = CoherenceIndex.build([["a", "b"]], window_size=None)
    with pytest.raises(UserError, match=r"window_size=10.*None"):
        boolean.score([["a", "b"]], "c_npmi")


@pytest.mark.parametrize(
    "call",
    [
        lambda: CoherenceIndex.build([["a"]], window_size=0),
        lambda: CoherenceIndex.build([["a"]], window_size=10, mode="approx"),
        lambda: CoherenceIndex.build(["a b c"], window_size=10),
        lambda: CoherenceIndex.build([[1, 2]], window_size=10),
        lambda: CoherenceIndex.build([["a"]], window_size=10).score([["a"]], "c_npmi", top_n=0),
        lambda: CoherenceIndex.build([["a"]], window_size=10).score(["a b"], "c_npmi"),
        lambda: CoherenceIndex.build([["a"]], window_size=10).score([["a", 3]], "c_npmi"),
        lambda: gensim_coherence([["a"]], "a b", "c_v"),
    ],
)
def test_bad_arguments_are_user_errors(call) -> None:
    with pytest.raises(UserError):
        call()


# --------------------------------------------------------------------------- real corpora

needs_bbc = pytest.mark.skipif(
    not BBC.exists(), reason=f"real corpus {BBC} is absent (../shared/data not available)"
)
needs_thucnews = pytest.mark.skipif(
    not THUCNEWS.exists(), reason=f"real corpus {THUCNEWS} is absent (../shared/data not available)"
)


def _topics_from(texts, labels, seed: int) -> list[list[str]]:
    """Top-10 words per label by frequency, random vocabulary draws, and awkward topics."""
    per_label: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for doc, label in zip(texts, labels):
        per_label[label].update(doc)
    topics = [[w for w, _ in counts.most_common(10)] for _, counts in sorted(per_label.items())]
    vocab = sorted({w for doc in texts for w in doc})
    rng = random.Random(seed)
    topics += [rng.sample(vocab, 10) for _ in range(15)]
    frequent = [w for w, _ in collections.Counter(w for d in texts for w in d).most_common(200)]
    topics += [rng.sample(frequent, 10) for _ in range(5)]
    topics += [
        [topics[0][0], "no-such-word", "", topics[0][1], topics[0][0], "new york"],
        [topics[1][0]],
        topics[2][:3] + topics[3][:9],
    ]
    return topics


@pytest.fixture(scope="module")
def bbc():
    with open(BBC, encoding="utf-8") as fh:
        rows = [line.rstrip("\n").split("\t") for line in fh]
    rows = rows[:400]  # keep gensim fast; ~45k tokens, docs far longer than 110 tokens
    return [r[0].split() for r in rows], [r[2] for r in rows]


@needs_bbc
@pytest.mark.parametrize("measure", MEASURES)
def test_bbc_matches_gensim(bbc, measure: str) -> None:
    texts, labels = bbc
    topics = _topics_from(texts, labels, seed=7)
    expected = gensim_coherence(topics, texts, measure)
    actual = build_for(texts, measure).score(topics, measure)
    assert_same(expected, actual)
    assert actual.unscored_topics == 1 and actual.missing_words == 3
    assert not math.isnan(actual.score)


def _tokenize_chinese(text: str) -> list[str]:
    import jieba

    def keep(token: str) -> bool:
        return bool(token.strip()) and not all(
            unicodedata.category(ch)[0] in "PSZ" for ch in token
        )

    return [tok for tok in jieba.lcut(text) if keep(tok)]


@pytest.fixture(scope="module")
def thucnews():
    pytest.importorskip("jieba")
    import jieba

    jieba.setLogLevel(logging.WARNING)
    with open(THUCNEWS, encoding="utf-8") as fh:
        lines = fh.read().splitlines()[1:]
    rows = [line.split("\t") for line in lines]
    rows = rows[::5]  # 2000 headlines, all 10 labels
    return [_tokenize_chinese(r[0]) for r in rows], [r[1] for r in rows]


@needs_thucnews
@pytest.mark.parametrize("measure", MEASURES)
def test_thucnews_jieba_matches_gensim(thucnews, measure: str) -> None:
    texts, labels = thucnews
    assert len(texts) == 2000 and len(set(labels)) == 10
    topics = _topics_from(texts, labels, seed=11)
    expected = gensim_coherence(topics, texts, measure)
    actual = build_for(texts, measure).score(topics, measure)
    assert_same(expected, actual)
    assert actual.unscored_topics == 1 and actual.missing_words == 3
