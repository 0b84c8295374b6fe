"""Run figures (runner/figures.py): every figure on the demo corpus and on Chinese headlines, degenerate runs
skip figures with a reason instead of failing, and the saved model loads in BERTopic."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from runner.config import compose, resolve
from runner.errors import UserError
from runner.figures_config import FIGURES
from runner.outputs import write_run_dir
from runner.pipeline import Session
from runner.run import run_tags
from tests.conftest import THUCNEWS, shared_corpus

ALL = f"outputs.figures=[{','.join(FIGURES)}]"


def config(*overrides: str):  # noqa: ANN201
    return resolve(compose(["embedding=hashing", "tracking=none", "reducer=pca", *overrides]))


@pytest.fixture(scope="module")
def session(session_cache: Path) -> Session:
    return Session(session_cache)


def write(session: Session, folder: Path, *overrides: str, figure: bool = True) -> tuple[Path, dict]:
    cfg = config(f"paths.cache_dir={session.cache.root}", *overrides)
    result = session.run(cfg)
    run_dir = write_run_dir(folder, cfg, result, figure=figure)
    return run_dir, {"metrics": json.loads((run_dir / "metrics.json").read_text(encoding="utf-8")),
                     "tags": run_tags(cfg, result)}


def assert_figures(run_dir: Path, names: list[str]) -> None:
    for name in names:
        png = run_dir / "figures" / f"{name}.png"
        assert png.is_file() and (run_dir / "figures" / f"{name}.pdf").is_file(), name
        with Image.open(png) as image:
            assert [round(d) for d in image.info["dpi"]] == [300, 300], name
    page = (run_dir / "figures.html").read_text(encoding="utf-8")
    assert page.count("plotly.js v") == 1  # plotly.js inlined once for every figure
    assert page.count("Plotly.newPlot") == len(names)


@pytest.fixture(scope="module")
def lee_run(session: Session, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    return write(session, tmp_path_factory.mktemp("lee") / "run", ALL, "clusterer=kmeans", "clusterer.n_clusters=6",
                 "topics.hierarchy_level=2", "outputs.save_model=true")


def test_every_figure_on_the_demo_corpus(lee_run: tuple[Path, dict]) -> None:
    run_dir, written = lee_run
    assert_figures(run_dir, list(FIGURES))
    assert written["metrics"]["figures"] == list(FIGURES)
    assert "figures_skipped" not in written["metrics"]
    assert written["metrics"]["figures_notes"]["documents"] == "all 300 documents"
    assert "Topic: 0" in (run_dir / "topic_tree.txt").read_text(encoding="utf-8")
    with (run_dir / "merged_topics.csv").open(encoding="utf-8") as handle:
        merged = list(csv.DictReader(handle))
    assert len(merged) == 6 and {row["merged_topic"] for row in merged} == {"0", "1"}


def test_saved_model_loads_in_bertopic(lee_run: tuple[Path, dict]) -> None:
    from bertopic import BERTopic

    run_dir, _ = lee_run
    assert not list((run_dir / "model").glob("*.pkl")) and (run_dir / "model" / "ctfidf.safetensors").is_file()
    model = BERTopic.load(str(run_dir / "model"))
    words = json.loads((run_dir / "topic_words.json").read_text(encoding="utf-8"))
    assert {str(t): [w for w, _ in model.get_topic(t)] for t in range(6)} == words


def test_every_figure_on_chinese_headlines(session: Session, tmp_path: Path) -> None:
    with shared_corpus(THUCNEWS).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    corpus = tmp_path / "headlines.tsv"
    with corpus.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter="\t").writerows(rows[:1] + rows[1::len(rows) // 300][:300])
    run_dir, written = write(session, tmp_path / "run", ALL, "dataset=tsv", f"dataset.path={corpus}", "language=zh",
                             "clusterer=kmeans", "clusterer.n_clusters=5")
    assert_figures(run_dir, list(FIGURES))
    assert "figures_skipped" not in written["metrics"]


@pytest.mark.parametrize("clusters, skipped", [
    (2, {"intertopic": "needs at least 3 topics (this run has 2)"}),
    (1, {"intertopic": "needs at least 3 topics (this run has 1)", "hierarchy": "needs at least 2 topics (this run "
         "has 1)", "heatmap": "needs at least 2 topics (this run has 1)"}),
])
def test_too_few_topics_skip_figures_with_a_reason(session: Session, tmp_path: Path, clusters: int,
                                                   skipped: dict[str, str]) -> None:
    run_dir, written = write(session, tmp_path / "run", "outputs.figures=[barchart,intertopic,hierarchy,heatmap]",
                             "clusterer=kmeans", f"clusterer.n_clusters={clusters}")
    assert written["metrics"]["figures_skipped"] == skipped
    assert {k: v for k, v in written["tags"].items() if k.startswith("figures_skipped.")} == {
        f"figures_skipped.{name}": reason for name, reason in skipped.items()}
    assert_figures(run_dir, [name for name in ("barchart", "intertopic", "hierarchy", "heatmap") if name not in skipped])


def test_all_outliers_skip_every_figure_and_the_model(session: Session, tmp_path: Path) -> None:
    vectors = tmp_path / "noise.npy"
    np.save(vectors, np.random.default_rng(0).uniform(size=(300, 8)).astype(np.float32))
    run_dir, written = write(session, tmp_path / "run", "embedding=precomputed", f"embedding.path={vectors}",
                             "reducer=none", "clusterer.min_cluster_size=100", "clusterer.min_samples=100",
                             "outputs.figures=[barchart,distribution]", "outputs.save_model=true")
    reason = "every document is an outlier (no topics)"
    assert written["metrics"]["figures_skipped"] == {"barchart": reason, "distribution": reason, "model": reason}
    assert not (run_dir / "figures.html").exists() and not (run_dir / "model").exists()


def test_sweep_trials_draw_no_figures(session: Session, tmp_path: Path) -> None:
    run_dir, written = write(session, tmp_path / "run", ALL, "outputs.save_model=true", "clusterer=kmeans",
                             figure=False)
    assert not (run_dir / "figures").exists() and not (run_dir / "figures.html").exists()
    assert not (run_dir / "model").exists() and "figures" not in written["metrics"]


@pytest.mark.parametrize("override, message", [
    ("outputs.figures=[pie]", "outputs.figures: unknown pie; choose from barchart"),
    ("outputs.figure_formats=[jpg]", "outputs.figure_formats: unknown jpg"),
    ("topics.hierarchy_level=0", "topics.hierarchy_level must be an integer >= 1"),
])
def test_bad_figure_settings_are_user_errors(session: Session, override: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        session.run(config(override))
