"""Topics over time (``dataset.timestamp_column``) and on-demand hierarchy tables in the run directory."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from runner.config import compose, resolve
from runner.data import load_lee_background
from runner.errors import UserError
from runner.outputs import write_run_dir
from runner.pipeline import Session


def dated_corpus(folder: Path, dates: list[str]) -> Path:
    texts = load_lee_background().texts
    path = folder / "dated.tsv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["text", "date"])
        writer.writerows((text, dates[i % len(dates)]) for i, text in enumerate(texts))
    return path


def config(corpus: Path, cache: Path, *overrides: str):  # noqa: ANN201
    return resolve(compose(["embedding=hashing", "tracking=none", "reducer=pca", "clusterer=kmeans",
                            "clusterer.n_clusters=4", "dataset=tsv", f"dataset.path={corpus}",
                            "dataset.timestamp_column=date", f"paths.cache_dir={cache}", "outputs.figures=[]",
                            *overrides]))


def test_topics_over_time_table_and_figure(session_cache: Path, tmp_path: Path) -> None:
    corpus = dated_corpus(tmp_path, [f"2024-{month:02d}-15" for month in range(1, 13)])
    cfg = config(corpus, session_cache, "topics.over_time.nr_bins=4", "topics.hierarchy=true")
    run_dir = write_run_dir(tmp_path / "run", cfg, Session(session_cache).run(cfg))
    with (run_dir / "topics_over_time.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["Topic"] for row in rows} == {"0", "1", "2", "3"}
    assert len({row["Timestamp"] for row in rows}) == 4
    assert sum(int(row["Frequency"]) for row in rows) == 300
    assert (run_dir / "figures" / "over_time.png").is_file()
    assert "Topics over time" in (run_dir / "figures.html").read_text(encoding="utf-8")
    assert (run_dir / "hierarchy.csv").is_file() and (run_dir / "topic_tree.txt").is_file()


def test_unreadable_timestamps_are_skipped_with_the_reason(session_cache: Path, tmp_path: Path) -> None:
    cfg = config(dated_corpus(tmp_path, ["soon", "later"]), session_cache)
    result = Session(session_cache).run(cfg)
    write_run_dir(tmp_path / "run", cfg, result)
    assert result.figures_skipped["over_time"].startswith("failed: UserError: dataset.timestamp_column")


def test_bad_over_time_bins_are_a_user_error(session_cache: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="topics.over_time.nr_bins must be an integer >= 1"):
        Session(session_cache).run(config(dated_corpus(tmp_path, ["2024"]), session_cache,
                                          "topics.over_time.nr_bins=0"))
