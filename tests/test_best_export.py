"""`topicsweep best` end to end: the single export, `--trials a,b` side by side, and `--pareto`.

The sweep runs as a subprocess; the three exports call the same CLI entry point in this process, so
BERTopic and its libraries are imported once instead of once per command.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from types import SimpleNamespace

import optuna
import pytest

from runner.cli import main
from tests.conftest import CliRunner
from tests.test_export_tables import english_outside_names

SWEEP = """
study: e
overrides: [dataset=lee, embedding=hashing, tracking=none]
params:
  reducer.random_state: range(0, 2)
  clusterer.min_cluster_size: int(interval(5, 15))
  topics.nr_topics: choice(null, 5)
objectives: {coherence_npmi: maximize, diversity: maximize}
constraints: {n_topics: [2, 40]}
sampler: {_target_: optuna.samplers.RandomSampler, seed: 3}
n_trials: 4
reducer_budget: 2
"""


def test_best_exports_a_reviewer_accepts(cli: CliRunner, output_dir: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "e.yaml"
    path.write_text(SWEEP, encoding="utf-8")
    done = cli("sweep", str(path))
    assert done.returncode == 0, done.stderr
    study = optuna.load_study(study_name="e", storage=f"sqlite:///{output_dir / 'optuna.db'}")
    complete = [t.number for t in study.trials if t.state.name == "COMPLETE"]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def cli_best(*args: str) -> SimpleNamespace:
        capsys.readouterr()
        returncode = main(["best", "--study", "e", *args, f"paths.output_dir={output_dir}"])
        captured = capsys.readouterr()
        return SimpleNamespace(returncode=returncode, stdout=captured.out, stderr=captured.err)

    best = cli_best()
    assert best.returncode == 0, best.stderr
    assert "reproduced its stored metrics exactly" in best.stdout
    assert "warning: reducer.random_state was searched with seeds: 1" in best.stderr and "seeds: K" in best.stderr
    chosen = int(best.stdout.split("exported trial ")[1].split()[0])
    folder = output_dir / "sweeps" / "e" / "best"
    space_md = (folder / "search_space.md").read_text()
    for fact in ("| UMAP random_state | reducer.random_state | range(0, 2) |",
                 "| HDBSCAN min_cluster_size | clusterer.min_cluster_size | int(interval(5, 15)) |",
                 "| BERTopic nr_topics | topics.nr_topics | choice(null, 5) |", "RandomSampler (seed=3)",
                 "| n_trials | 4 / 4 |", "| reducer_budget | 2 configurations |", "(2 configurations × 1 seed)",
                 "1 (random_state searched)"):
        assert fact in space_md, fact
    space_tex = (folder / "search_space.tex").read_text()
    assert r"\caption{Search space and search settings of study e}" in space_tex
    assert r"\label{tab:e-search-space}" in space_tex and r"UMAP random\_state" in space_tex
    metrics_md = (folder / "metrics.md").read_text()
    assert "| NPMI |" in metrics_md and "| topic diversity (TD) |" in metrics_md
    assert not re.search(r"time_|cache_hit|missing_words", metrics_md)  # diagnostics left out
    assert re.search(r"\| NPMI \| -?\d\.\d{3} \|", metrics_md)  # 3 decimals
    assert r"\label{tab:e-trial-" in (folder / "metrics.tex").read_text()
    assert "| UMAP random_state | reducer.random_state |" in (folder / "params.md").read_text()
    topics = (folder / "topics.md").read_text()
    assert re.search(r"\| 0 \| \d+ \| 0_\w+ \|", topics) and "## Representative documents" in topics
    english = (folder / "methods_en.md").read_text()
    assert f"trial {chosen}, MLflow run trial-{chosen:03d}" in english and "luckiest seed" in english
    assert "UMAP random_state: integers 0–1" in english and "2 distinct reducer fits" in english
    chinese = (folder / "methods_zh.md").read_text()
    assert f"试验 {chosen}，MLflow 运行 trial-{chosen:03d}" in chinese and "最幸运" in chinese
    assert english_outside_names(chinese) == []

    pair = [n for n in complete if n != chosen][:1] + [chosen]
    side = cli_best("--trials", ",".join(map(str, pair)))
    assert side.returncode == 0, side.stderr
    assert side.stdout.count("reproduced its stored metrics exactly") == 2
    compare = output_dir / "sweeps" / "e" / "compare"
    table = (compare / "comparison.md").read_text()
    assert f"| | trial {pair[0]} | trial {chosen} (chosen) |" in table.replace("|  |", "| |")
    assert "| UMAP random_state |" in table and "| NPMI |" in table and "| feasible |" in table
    tex = (compare / "comparison.tex").read_text()
    assert r"\label{tab:e-comparison}" in tex and tex.count(r"\midrule") == 2
    records = list(csv.DictReader((compare / "comparison.csv").open()))
    assert [int(r["trial"]) for r in records] == pair and "coherence_npmi" in records[0]
    for number in pair:
        assert "## Representative documents" in (compare / f"trial-{number:03d}" / "topics.md").read_text()
        assert (compare / f"trial-{number:03d}" / "config.yaml").is_file()
    assert (compare / "search_space.tex").is_file()

    front = cli_best("--pareto")
    assert front.returncode == 0, front.stderr
    pareto = [int(r["trial"]) for r in csv.DictReader((folder / "pareto.csv").open())]
    assert [int(r["trial"]) for r in csv.DictReader((compare / "comparison.csv").open())] == pareto
    assert sorted(p.name for p in compare.glob("trial-*")) == [f"trial-{n:03d}" for n in pareto]  # stale ones gone

    bad = cli_best("--trials", "1,x")
    assert bad.returncode == 2 and bad.stderr.startswith("error: --trials 1,x")
