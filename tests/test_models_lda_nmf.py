"""LDA and NMF (``model=lda|nmf``; FASTopic in the CLI run too): the score-matrix seam, validation, the real CLI, determinism, seeds, figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from runner.config import compose, resolve
from runner.errors import UserError
from runner.models.base import result_from_scores, seed_key, with_seed
from runner.models.lda import LdaTopicModel, check_num_topics
from runner.models.nmf import NmfTopicModel
from runner.pipeline import Session
from tests.conftest import CliRunner
from tests.test_cli_run import mlflow_runs, run_dir_of

FAST_LDA = ["model=lda", "model.num_topics=8", "model.passes=2", "model.iterations=50"]


def test_result_from_scores_takes_the_argmax_and_marks_empty_documents_as_outliers() -> None:
    doc_topic = np.array([[0.1, 0.9, 0.0], [0.7, 0.2, 0.1], [0.0, 0.0, 0.0], [0.2, 0.2, 0.6]])
    topic_word = np.array([[0.5, 0.0, 0.3, 0.2], [0.0, 0.1, 0.0, 0.9], [0.25, 0.25, 0.5, 0.0]])
    texts = ["a", "b", "c", "d"]
    result = result_from_scores(doc_topic, topic_word, ["w0", "w1", "w2", "w3"], texts, top_n_words=3)
    assert result.labels.tolist() == [1, 0, -1, 2] and result.labels_before.tolist() == [1, 0, -1, 2]
    assert result.words == {0: ["w0", "w2", "w3"], 1: ["w3", "w1"], 2: ["w2", "w0", "w1"]}  # zero-score words left out
    assert result.word_scores[1] == [0.9, 0.1] and result.topic_vectors.shape == (3, 4)
    assert result.representative_docs[0] == ["b", "d", "a"]   # highest θ first, documents with θ = 0 left out
    assert result.names[0] == "0_w0_w2_w3" and result.names[-1] == "-1_outliers"


@pytest.mark.parametrize("value", [1, 0, -3, "20", 2.5, True, None])
def test_num_topics_must_be_an_integer_of_at_least_two(value: object) -> None:
    with pytest.raises(UserError, match="model.num_topics must be an integer of at least 2"):
        LdaTopicModel(num_topics=value)
    with pytest.raises(UserError, match="model.num_topics must be an integer of at least 2"):
        NmfTopicModel(num_topics=value)


def test_num_topics_above_the_corpus_size_is_refused() -> None:
    with pytest.raises(UserError, match="model.num_topics=301 is more than the corpus's 300 documents"):
        check_num_topics(301, 300)


def test_a_bad_num_topics_on_the_command_line_is_one_error_line(cli: CliRunner) -> None:
    done = cli("run", "model=nmf", "model.num_topics=1", "tracking=none")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == ("error: model.num_topics must be an integer of at least 2, "
                                                   "not 1")


@pytest.mark.parametrize("model", [FAST_LDA, ["model=nmf", "model.num_topics=8"],
                                   ["model=fastopic", "model.num_topics=8", "model.epochs=20", "model.device=cpu"]],
                         ids=["lda", "nmf", "fastopic"])
def test_run_through_the_cli_logs_to_mlflow_and_draws_the_figures(cli: CliRunner, output_dir: Path,
                                                                  model: list[str]) -> None:
    done = cli("run", *model, "outputs.figure_formats=[png]", "outputs.figure_dpi=60",
               "outputs.figures=[barchart,heatmap,distribution,intertopic]")
    assert done.returncode == 0, done.stderr
    run_dir = run_dir_of(done.stdout)
    topics = (run_dir / "topics.csv").read_text(encoding="utf-8").splitlines()
    assert topics[0] == "topic,size,name,words,representative_docs" and len(topics) >= 2
    stored = json.loads((run_dir / "metrics.json").read_text())
    assert stored["metrics"]["n_topics"] == 8 and stored["metrics"]["outlier_ratio"] == 0
    assert stored["figures"] == ["barchart", "heatmap", "distribution"]
    assert stored["figures_skipped"] == {"intertopic": f"needs a fitted BERTopic model (this run is {model[0]})"}
    assert {p.name for p in (run_dir / "figures").iterdir()} == {"barchart.png", "heatmap.png", "distribution.png"}
    assert (run_dir / "figures.html").is_file()
    _, runs = mlflow_runs(output_dir)
    assert len(runs) == 1
    logged = runs[0].data
    assert logged.params["model.name"] == model[0].split("=")[1] and logged.params["model.num_topics"] == "8"
    for metric in ("coherence_npmi", "coherence_cv", "diversity", "irbo", "n_topics", "outlier_ratio"):
        assert logged.metrics[metric] == pytest.approx(stored["metrics"][metric], nan_ok=True)


# NMF's default init (nndsvda) is deterministic: its seed only matters with init=random.
@pytest.mark.parametrize("model", [FAST_LDA, ["model=nmf", "model.num_topics=8", "model.init=random"]],
                         ids=["lda", "nmf"])
def test_the_same_config_twice_gives_bit_identical_metrics(session_cache: Path, tmp_path: Path,
                                                           model: list[str]) -> None:
    cfg = resolve(compose([*model, "tracking=none", f"paths.output_dir={tmp_path}", f"paths.cache_dir={session_cache}"]))
    first, second = Session(session_cache).run(cfg), Session(session_cache).run(cfg)
    assert first.metrics == second.metrics and first.topics.words == second.topics.words
    other = Session(session_cache).run(with_seed(cfg, 7))
    assert other.topics.words != first.topics.words   # the seed key really seeds the model


def test_the_seed_key_is_the_reducers_for_bertopic_and_the_models_otherwise() -> None:
    assert seed_key(resolve(compose([]))) == "reducer.random_state"
    lda = resolve(compose(["model=lda"]))
    assert seed_key(lda) == "model.random_state"
    assert with_seed(lda, 5).model.random_state == 5 and lda.model.random_state == 42


def test_sweep_over_num_topics_with_seeds_then_best_best_seeds_and_compare(cli: CliRunner, output_dir: Path,
                                                                          tmp_path: Path) -> None:
    nmf = tmp_path / "nmf.yaml"
    nmf.write_text("study: tiny-nmf\noverrides: [model=nmf, model.init=random, dataset=lee, "
                   "'metrics.coherence=[c_npmi]']\nparams:\n  model.num_topics: choice(5, 8)\n"
                   "objectives: {coherence_npmi: maximize}\nsampler: {_target_: optuna.samplers.GridSampler}\n"
                   "n_trials: 2\nseeds: 2\n", encoding="utf-8")
    done = cli("sweep", str(nmf), "tracking=none")
    assert done.returncode == 0, done.stderr
    assert "num_topics=5" in done.stderr and "num_topics=8" in done.stderr
    best = cli("best", "--study", "tiny-nmf", f"paths.output_dir={output_dir}")
    assert best.returncode == 0, best.stderr
    assert "reproduced its stored metrics exactly" in best.stdout   # over model.random_state 42, 43 again
    export = output_dir / "sweeps" / "tiny-nmf" / "best"
    methods = (export / "methods_en.md").read_text(encoding="utf-8")
    assert "non-negative matrix factorisation (NMF, scikit-learn)" in methods and "UMAP" not in methods
    assert "2 model seeds (model.random_state 42–43)" in methods and "reducer" not in methods
    chinese = (export / "methods_zh.md").read_text(encoding="utf-8")
    assert "非负矩阵分解" in chinese and "UMAP" not in chinese and "降维" not in chinese
    assert "NMF num_topics" in (export / "params.md").read_text(encoding="utf-8")
    seeds = cli("best", "--study", "tiny-nmf", "--seeds", "2", f"paths.output_dir={output_dir}")
    assert seeds.returncode == 0, seeds.stderr
    assert "model.random_state seeds 42, 43" in seeds.stdout

    bertopic = tmp_path / "bertopic.yaml"
    bertopic.write_text("study: tiny-bertopic\noverrides: [dataset=lee, embedding=hashing, "
                        "'metrics.coherence=[c_npmi]']\nparams:\n  clusterer.min_cluster_size: choice(8)\n"
                        "objectives: {coherence_npmi: maximize}\nsampler: {_target_: optuna.samplers.GridSampler}\n"
                        "n_trials: 1\n", encoding="utf-8")
    assert cli("sweep", str(bertopic), "tracking=none").returncode == 0
    table = cli("compare", "--studies", "tiny-bertopic,tiny-nmf", "--seeds", "2", f"paths.output_dir={output_dir}")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] == "| model | study | trial | runs | topics | NPMI | C_V | TD | outliers | NMI |"
    assert lines[2].startswith("| BERTopic | tiny-bertopic | 0 | 2 | ") and lines[3].startswith("| NMF | tiny-nmf | ")
    assert lines[2].count(" ± ") >= 3 and lines[3].count(" ± ") >= 3   # NPMI, TD, topics over 2 seeds each
    folder = output_dir / "compare" / "tiny-bertopic-tiny-nmf"
    assert r"\label{tab:compare-models}" in (folder / "comparison.tex").read_text(encoding="utf-8")
    assert "We compared 2 topic models on the lee corpus" in (folder / "methods.md").read_text(encoding="utf-8")
    assert (output_dir / "sweeps" / "tiny-bertopic" / "seeds" / "metrics.md").is_file()  # re-run by best --seeds
