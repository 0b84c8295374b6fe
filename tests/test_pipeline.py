"""The pipeline in-process on the demo corpus with the hashing embedder (fast, deterministic)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from gensim.corpora import Dictionary
from gensim.models.coherencemodel import CoherenceModel
from sklearn.feature_extraction.text import CountVectorizer

from runner.config import compose, resolve
from runner.errors import UserError
from runner.pipeline import RunResult, Session


def config(*overrides: str):  # noqa: ANN201
    return resolve(compose(["embedding=hashing", "tracking=none", *overrides]))


@pytest.fixture(scope="module")
def session(session_cache: Path) -> Session:
    return Session(session_cache)


@pytest.fixture(scope="module")
def default_run(session: Session) -> RunResult:
    return session.run(config())


def test_run_gives_topics_and_every_metric(default_run: RunResult) -> None:
    metrics = default_run.metrics
    assert len(default_run.topics.labels) == 300
    assert metrics["n_topics"] == len(default_run.topics.words) >= 2
    assert 0 <= metrics["outlier_ratio"] < 1
    assert metrics["outlier_ratio"] == pytest.approx(float(np.mean(default_run.topics.labels == -1)))
    for name in ("coherence_npmi", "coherence_cv", "diversity", "irbo", "largest_topic_share"):
        assert np.isfinite(metrics[name]), name
    assert metrics["coherence_missing_words"] == 0
    assert "nmi" not in metrics  # the demo corpus has no labels
    assert set(default_run.timings) == {"dataset", "embed", "tokens", "reduce", "cluster", "topics", "metrics"}
    assert set(default_run.cache_hits) == {"embed", "tokens", "knn", "reduce"}


def test_a_second_session_reuses_every_cache_and_reproduces_the_run(default_run: RunResult,
                                                                     session_cache: Path) -> None:
    again = Session(session_cache).run(config())
    assert again.cache_hits == {"embed": True, "tokens": True, "knn": True, "reduce": True}
    np.testing.assert_array_equal(again.topics.labels, default_run.topics.labels)
    assert again.topics.words == default_run.topics.words
    assert again.metrics == default_run.metrics


def test_coherence_equals_a_direct_gensim_computation(default_run: RunResult) -> None:
    # The reference as a user would build it: hyphens/dashes/slashes between words split, BERTopic's English
    # cleaning, then scikit-learn's analyzer.
    analyze = CountVectorizer(stop_words="english").build_analyzer()
    split = [re.sub(r"(?<=\w)[-\u2010-\u2015/\\]+(?=\w)", " ", " ".join(text.split()))
             for text in default_run.corpus.texts]
    reference = [analyze(re.sub(r"[^A-Za-z0-9 ]+", "", text)) for text in split]
    topics = [default_run.topics.words[t][:10] for t in sorted(default_run.topics.words)]
    dictionary = Dictionary(reference)
    for measure, name in (("c_npmi", "coherence_npmi"), ("c_v", "coherence_cv")):
        expected = CoherenceModel(topics=topics, texts=reference, dictionary=dictionary, coherence=measure,
                                  topn=10, processes=1).get_coherence()
        assert default_run.metrics[name] == pytest.approx(expected, abs=1e-12)


def test_topic_words_exclude_the_outlier_topic_and_stop_words(default_run: RunResult) -> None:
    assert -1 not in default_run.topics.words
    words = {w for topic in default_run.topics.words.values() for w in topic}
    assert not words & {"the", "and", "of", "to"}


@pytest.mark.parametrize("strategy", ["c-tf-idf", "embeddings", "distributions"])
def test_outlier_reduction_lowers_the_outlier_ratio(session: Session, default_run: RunResult, strategy: str) -> None:
    result = session.run(config(f"topics.outliers.strategy={strategy}"))
    assert result.metrics["outlier_ratio_before_reduction"] == default_run.metrics["outlier_ratio"]
    assert result.metrics["outlier_ratio"] < result.metrics["outlier_ratio_before_reduction"]


def test_nr_topics_reduces_the_number_of_topics(session: Session, default_run: RunResult) -> None:
    result = session.run(config("clusterer.min_cluster_size=5", "topics.nr_topics=3"))
    assert result.metrics["n_topics"] <= 3
    assert session.run(config("clusterer.min_cluster_size=5", "topics.nr_topics=auto")).metrics["n_topics"] >= 1


@pytest.mark.parametrize("overrides", [
    ("reducer=pca", "clusterer=kmeans", "clusterer.n_clusters=8"),
    ("reducer=none", "clusterer=agglomerative", "clusterer.n_clusters=5"),
    ("representation=keybert",),
    ("representation=mmr",),
])
def test_other_parts_run(session: Session, overrides: tuple[str, ...]) -> None:
    result = session.run(config(*overrides))
    assert result.metrics["n_topics"] >= 2
    if "clusterer=kmeans" in overrides:
        assert result.metrics["n_topics"] == 8 and result.metrics["outlier_ratio"] == 0


def test_labels_enable_nmi_and_ari(session: Session, tmp_path: Path) -> None:
    texts = [f"{word} {word} market stocks" if i % 2 else f"{word} football goal match" for i, word in
             enumerate(["alpha", "beta", "gamma", "delta", "omega", "sigma"] * 10)]
    path = tmp_path / "labelled.tsv"
    path.write_text("text\tlabel\n" + "".join(f"{t}\t{'fin' if i % 2 else 'sport'}\n" for i, t in enumerate(texts)),
                    encoding="utf-8")
    result = session.run(config("dataset=tsv", f"dataset.path={path}", "dataset.label_column=label",
                                "reducer=pca", "clusterer=kmeans", "clusterer.n_clusters=2"))
    assert result.metrics["nmi"] == pytest.approx(1.0) and result.metrics["ari"] == pytest.approx(1.0)


def test_every_document_an_outlier_is_a_result_not_a_crash(session: Session, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    vectors = tmp_path / "noise.npy"
    np.save(vectors, rng.uniform(size=(300, 8)).astype(np.float32))
    result = session.run(config("embedding=precomputed", f"embedding.path={vectors}", "reducer=none",
                                "clusterer.min_cluster_size=100", "clusterer.min_samples=100"))
    assert result.metrics["n_topics"] == 0
    assert result.metrics["outlier_ratio"] == 1.0
    assert np.isnan(result.metrics["coherence_npmi"]) and np.isnan(result.metrics["diversity"])


@pytest.mark.parametrize("override, message", [
    ("clusterer.min_cluster_size=1", "clusterer.min_cluster_size must be at least 2, not 1"),
    ("reducer.min_dist=-0.1", "reducer.min_dist must be >= 0, not -0.1"),
    ("reducer.n_components=0", "reducer.n_components must be at least 1, not 0"),
    ("reducer.n_neighbors=400", "corpus too small: 300 documents for reducer.n_neighbors=400"),
    ("clusterer.min_cluster_size=500", "corpus too small: 300 documents for clusterer.min_cluster_size=500"),
    ("topics.nr_topics=1", "topics.nr_topics must be null, auto or an integer >= 2"),
    ("topics.outliers.strategy=magic", "topics.outliers.strategy must be one of"),
    ("metrics.coherence=[c_foo]", "unknown coherence measure 'c_foo'"),
])
def test_invalid_values_are_user_errors(session: Session, override: str, message: str) -> None:
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        session.run(config(override))


def test_a_reference_file_replaces_the_corpus_for_coherence(session: Session, default_run: RunResult,
                                                             tmp_path: Path) -> None:
    reference = tmp_path / "reference.txt"
    reference.write_text("\n".join(default_run.corpus.texts[:50]), encoding="utf-8")
    result = session.run(config(f"metrics.reference={reference}"))
    assert result.metrics["n_topics"] == default_run.metrics["n_topics"]
    assert result.metrics["coherence_npmi"] != default_run.metrics["coherence_npmi"]
    with pytest.raises(UserError, match="coherence reference file not found"):
        session.run(config(f"metrics.reference={tmp_path / 'missing.txt'}"))


def test_ngram_topic_words_are_counted_as_missing_not_a_crash(session: Session) -> None:
    result = session.run(config("vectorizer.ngram_range=[1,2]"))
    assert result.metrics["n_topics"] >= 2
    bigrams = sum(" " in w for words in result.topics.words.values() for w in words[:10])
    assert result.metrics["coherence_missing_words"] == bigrams


def test_index_engine_equals_gensim_engine_and_is_built_once(default_run: RunResult, session: Session,
                                                              session_cache: Path) -> None:
    by_gensim = session.run(config("metrics.engine=gensim", "metrics.coherence=[c_npmi,c_v,u_mass,c_uci]"))
    by_index = session.run(config("metrics.coherence=[c_npmi,c_v,u_mass,c_uci]"))
    for name in ("coherence_npmi", "coherence_cv", "coherence_umass", "coherence_uci"):
        assert by_index.metrics[name] == pytest.approx(by_gensim.metrics[name], abs=1e-9)
    built = sorted(p.name for p in (session_cache / "coherence").iterdir())
    fresh = Session(session_cache)
    fresh.run(config())
    assert fresh.cache.hits.get("coherence") == 2 and not fresh.cache.misses.get("coherence")
    assert sorted(p.name for p in (session_cache / "coherence").iterdir()) == built


def test_exact_window_mode_runs_and_needs_the_index(session: Session) -> None:
    result = session.run(config("metrics.mode=exact"))
    assert np.isfinite(result.metrics["coherence_npmi"])
    with pytest.raises(UserError, match="metrics.mode=exact needs metrics.engine=index"):
        session.run(config("metrics.mode=exact", "metrics.engine=gensim"))
