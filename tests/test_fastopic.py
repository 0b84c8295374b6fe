"""model=fastopic: the FASTopic package on our cached embeddings and tokens — it learns, is seeded, checks input."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from runner.config import compose, resolve
from runner.errors import UserError
from runner.models.fastopic import CachedBagOfWords, FastopicTopicModel
from runner.models.vocabulary import build_vocabulary
from runner.pipeline import Session
from tests.conftest import BBC, shared_corpus

pytest.importorskip("fastopic", reason="fastopic is installed by scripts/setup_env.sh (pip install --no-deps)")

SMALL = ["model=fastopic", "tracking=none", "model.device=cpu", "embedding=tfidf_svd"]


@pytest.fixture(scope="module")
def bbc_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every fourth BBC document (556, all five labels): big enough to learn topics, small enough to be quick."""
    lines = shared_corpus(BBC).read_text(encoding="utf-8").splitlines()
    sample = tmp_path_factory.mktemp("bbc") / "bbc_sample.tsv"
    sample.write_text("\n".join(lines[::4]) + "\n", encoding="utf-8")
    return sample


def bbc_config(sample: Path, cache: Path, *extra: str) -> list[str]:
    return [*SMALL, "dataset=tsv", f"dataset.path={sample}", "dataset.text_column=0", "dataset.label_column=2",
            "model.num_topics=5", "model.vocab_size=1500", f"paths.cache_dir={cache}", *extra]


def test_the_bag_of_words_hook_hands_fastopic_our_tokens_and_vocabulary() -> None:
    vocabulary = build_vocabulary([["a", "b", "a"], ["b", "c"], ["a"]], min_df=1, max_df=1.0, keep_n=2)
    assert sorted(vocabulary.words) == ["a", "b"]   # keep_n keeps the words in the most documents
    given = CachedBagOfWords(vocabulary).preprocess(["ignored"])
    assert given["vocab"] == vocabulary.words and given["train_bow"].shape == (3, 2)
    assert given["train_bow"][0].sum() == 3 and given["train_bow"][1].sum() == 1   # "c" was dropped


def test_training_makes_topics_that_match_the_bbc_labels_and_read_coherently(
        bbc_sample: Path, session_cache: Path, one_torch_thread: None) -> None:
    session = Session(session_cache)
    untrained = session.run(resolve(compose(bbc_config(bbc_sample, session_cache, "model.epochs=1"))))
    trained = session.run(resolve(compose(bbc_config(bbc_sample, session_cache, "model.epochs=150"))))
    assert trained.metrics["n_topics"] == 5 and trained.metrics["outlier_ratio"] == 0
    assert all(len(words) == 10 for words in trained.topics.words.values())
    assert trained.metrics["nmi"] > untrained.metrics["nmi"] + 0.1, (trained.metrics, untrained.metrics)
    assert trained.metrics["coherence_npmi"] > untrained.metrics["coherence_npmi"] + 0.05
    assert trained.metrics["coherence_missing_words"] == 0   # its words are the cached tokens' words


def test_the_same_seed_gives_bit_identical_metrics_and_another_seed_other_topics(
        bbc_sample: Path, session_cache: Path, one_torch_thread: None) -> None:
    state = np.random.get_state()
    cfg = bbc_config(bbc_sample, session_cache, "model.epochs=20")
    first = Session(session_cache).run(resolve(compose(cfg)))
    second = Session(session_cache).run(resolve(compose(cfg)))
    assert first.metrics == second.metrics and np.array_equal(first.topics.labels, second.topics.labels)
    other = Session(session_cache).run(resolve(compose([*cfg, "model.random_state=7"])))
    assert other.topics.words != first.topics.words
    assert np.array_equal(np.random.get_state()[1], state[1])   # numpy's global generator is restored


def test_without_the_package_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "fastopic", None)   # import fastopic now raises ImportError
    cfg = resolve(compose(["model=fastopic", "tracking=none", "embedding=hashing", "model.num_topics=4"]))
    with pytest.raises(UserError, match=r"model=fastopic needs the fastopic package: pip install --no-deps"):
        Session(tmp_path).run(cfg)


@pytest.mark.parametrize(("settings", "message"), [
    ({"num_topics": 1}, "model.num_topics must be an integer of at least 2"),
    ({"epochs": 0}, "model.epochs must be an integer of at least 1, not 0"),
    ({"vocab_size": 1}, "model.vocab_size must be null or an integer of at least 2, not 1"),
    ({"max_df": 0}, r"model.max_df must be a share of the documents in \(0, 1\], not 0"),
    ({"DT_alpha": -1.0}, "model.DT_alpha must be positive, not -1.0"),
])
def test_fastopic_rejects_bad_settings(settings: dict, message: str) -> None:
    with pytest.raises(UserError, match=message):
        FastopicTopicModel(**settings)
