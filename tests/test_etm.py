"""model=etm: the ELBO improves in training, runs are reproducible, word vectors from every source.

ETM vs LDA NPMI on the whole BBC corpus is scripts/bench_etm.py (too slow for the suite).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from runner.cache import Cache
from runner.config import compose, resolve
from runner.data import Corpus
from runner.errors import UserError
from runner.models.base import ModelInputs
from runner.models.etm import EtmTopicModel
from runner.pipeline import Session
from tests.conftest import BBC, shared_corpus

SMALL = ["model=etm", "tracking=none", "model.num_topics=5", "model.epochs=5", "model.hidden_size=64",
         "model.embedding_size=32", "model.word2vec.epochs=2", "model.device=cpu"]


def bbc_documents(limit: int) -> list[list[str]]:
    lines = shared_corpus(BBC).read_text(encoding="utf-8").splitlines()[:limit]
    return [line.split("\t", 1)[0].split() for line in lines]


def test_the_training_loss_negative_elbo_decreases(tmp_path: Path, one_torch_thread: None) -> None:
    tokens = bbc_documents(400)
    corpus = Corpus("bbc", str(BBC), [" ".join(doc) for doc in tokens])
    model = EtmTopicModel(num_topics=5, epochs=12, hidden_size=128, embedding_size=32, batch_size=100,
                          word2vec={"epochs": 2}, device="cpu")
    result = model.fit(ModelInputs(corpus, tokens, lambda: np.empty(0), Cache(tmp_path), 10))
    losses = model.losses
    assert len(losses) == 12 and all(np.isfinite(losses))
    assert losses[-1] < losses[0] - 10  # nats per document
    assert np.mean(losses[-3:]) < np.mean(losses[:3])
    assert len(result.words) == 5 and all(len(words) == 10 for words in result.words.values())


def test_etm_is_bit_identical_on_rerun(tmp_path: Path, one_torch_thread: None) -> None:
    cfg = resolve(compose(SMALL))
    first = Session(tmp_path / "a").run(cfg)
    again = Session(tmp_path / "b").run(cfg)  # Word2Vec retrained too: a fresh cache
    assert first.metrics == again.metrics
    assert first.topics.words == again.topics.words and np.array_equal(first.topics.labels, again.topics.labels)
    other_seed = Session(tmp_path / "a").run(resolve(compose([*SMALL, "model.random_state=7"])))
    assert other_seed.topics.words != first.topics.words


def test_word_vectors_from_a_file_or_trained_with_the_model(tmp_path: Path, one_torch_thread: None) -> None:
    session = Session(tmp_path / "cache")
    words = ["government", "election", "game", "music", "film", "market", "bank", "player"]
    vectors = tmp_path / "vectors.txt"
    rng = np.random.default_rng(0)
    vectors.write_text(f"{len(words)} 8\n" + "".join(f"{word} {' '.join(f'{x:.4f}' for x in rng.normal(size=8))}\n"
                                                    for word in words), encoding="utf-8")
    from_file = session.run(resolve(compose([*SMALL, f"model.word_vectors={vectors}"])))
    trained = session.run(resolve(compose([*SMALL, "model.word_vectors=trained"])))
    for result in (from_file, trained):
        assert result.metrics["n_topics"] >= 1 and len(result.topics.words) == 5
    with pytest.raises(UserError, match="word vectors file not found"):
        session.run(resolve(compose([*SMALL, f"model.word_vectors={tmp_path / 'missing.txt'}"])))


@pytest.mark.parametrize(("override", "message"), [
    ("model.activation=gelu", "model.activation must be one of"),
    ("model.max_df=1.5", "model.max_df must be a share"),
    ("model.min_df=100000", "no word is left in the vocabulary"),
    ("model.num_topics=1", "model.num_topics must be an integer of at least 2"),
])
def test_bad_settings_are_user_errors(tmp_path: Path, override: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        Session(tmp_path).run(resolve(compose([*SMALL, override])))
