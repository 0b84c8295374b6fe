"""`topicsweep trials` through the real CLI, on one small sweep (lee, hashing embedder, 4 COMPLETE trials).

The sweep has a failing trial (min_cluster_size 1), an infeasible one (min_cluster_size 40 leaves no
topic; the constraint asks for at least 2) and feasible ones, so every state and flag is shown.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from runner.display import fit_columns
from tests.conftest import PROJECT_ROOT

SWEEP = """
study: tt
overrides: [dataset=lee, embedding=hashing]
params:
  clusterer.min_cluster_size: choice(1, 5, 40)
  topics.nr_topics: choice(null, 5)
objectives: {coherence_npmi: maximize, diversity: maximize}
constraints: {n_topics: [2, 40]}
sampler: {_target_: optuna.samplers.RandomSampler, seed: 0}
n_trials: 4
"""


def topicsweep(*args: str, columns: int = 200) -> subprocess.CompletedProcess:
    """The real CLI with stdout and stderr on pipes."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "COLUMNS": str(columns)}
    return subprocess.run([sys.executable, "-m", "runner", *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=600, env=env)


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> tuple[Path, subprocess.CompletedProcess]:
    """The output directory of the sweep, and the sweep's own output."""
    folder = tmp_path_factory.mktemp("trials")
    (folder / "tt.yaml").write_text(SWEEP, encoding="utf-8")
    done = topicsweep("sweep", str(folder / "tt.yaml"), f"paths.output_dir={folder / 'out'}",
                      f"paths.cache_dir={session_cache}", "tracking=none")
    assert done.returncode == 0, done.stderr
    states = [t.state.name for t in study_of(folder / "out").trials]
    assert "FAIL" in states and states.count("COMPLETE") == 4, states
    feasible = {t.user_attrs.get("feasible") for t in study_of(folder / "out").trials if t.state.name == "COMPLETE"}
    assert feasible == {True, False}, "the sweep should have feasible and infeasible trials"
    return folder / "out", done


def study_of(output_dir: Path) -> optuna.Study:
    return optuna.load_study(study_name="tt", storage=f"sqlite:///{output_dir / 'optuna.db'}")


def trials(output_dir: Path, *args: str, columns: int = 200) -> subprocess.CompletedProcess:
    return topicsweep("trials", "--study", "tt", *args, f"paths.output_dir={output_dir}", columns=columns)


def csv_rows(output_dir: Path, *args: str) -> list[dict[str, str]]:
    done = trials(output_dir, "--format", "csv", *args)
    assert done.returncode == 0 and not done.stderr, done.stderr
    return list(csv.DictReader(io.StringIO(done.stdout)))


def test_the_live_line_says_why_a_trial_is_infeasible(swept) -> None:
    output_dir, done = swept
    infeasible = [t for t in study_of(output_dir).trials if t.user_attrs.get("feasible") is False]
    assert infeasible, "the sweep should have an infeasible trial"
    for trial in infeasible:
        line = next(line for line in done.stderr.splitlines() if line.startswith(f"trial {trial.number:>3}/"))
        assert f"infeasible: n_topics {trial.user_attrs['metrics']['n_topics']:g} < 2" in line, line
    feasible_lines = [line for line in done.stderr.splitlines() if "COMPLETE" in line and "infeasible" not in line]
    assert feasible_lines


def test_csv_has_every_trial_full_precision_and_the_flags(swept) -> None:
    output_dir, done = swept
    study = study_of(output_dir)
    rows = csv_rows(output_dir)
    assert [int(r["trial"]) for r in rows] == [t.number for t in study.trials]
    assert list(rows[0])[:4] == ["trial", "state", "clusterer.min_cluster_size", "topics.nr_topics"]
    assert list(rows[0])[4:6] == ["coherence_npmi", "diversity"]  # objectives first
    assert list(rows[0])[-4:] == ["feasible", "pareto", "chosen", "note"]
    for row, trial in zip(rows, study.trials):
        assert row["state"] == trial.state.name
        if trial.state.name == "FAIL":
            assert "min_cluster_size must be at least 2" in row["note"] and row["feasible"] == ""
        elif trial.user_attrs["metrics"]["coherence_npmi"] is not None:
            assert float(row["coherence_npmi"]) == trial.user_attrs["metrics"]["coherence_npmi"]
    assert [r["chosen"] for r in rows].count("True") == 1
    chosen = next(int(r["trial"]) for r in rows if r["chosen"] == "True")
    assert f"chosen trial: {chosen} " in done.stdout
    assert all(r["feasible"] == "True" for r in rows if r["pareto"] == "True")
    infeasible = [r for r in rows if r["feasible"] == "False"]
    assert infeasible and all(r["note"].startswith("infeasible: n_topics") for r in infeasible)


def test_table_rows_stay_on_one_line_on_a_pipe(swept) -> None:
    output_dir, _ = swept
    done = trials(output_dir, columns=60)  # a narrow $COLUMNS must not wrap a pipe
    assert done.returncode == 0 and not done.stderr, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("│")]
    assert len(rows) == len(study_of(output_dir).trials)
    assert all(re.match(r"│ +\d+ │ (COMPLETE|FAIL) ", line) for line in rows), done.stdout
    assert any("min_cluster_size must be at least 2" in line for line in rows)
    header = next(line for line in done.stdout.splitlines() if line.startswith("┃"))
    assert all(name in header for name in ("min_cluster_size", "coherence_npmi", "feasible", "pareto", "chosen"))


def test_markdown_and_latex_round_numbers_the_same_way(swept) -> None:
    output_dir, _ = swept
    md = trials(output_dir, "--format", "md")
    assert md.returncode == 0, md.stderr
    lines = md.stdout.splitlines()
    assert lines[0].startswith("| trial | state |") and len(lines) == 2 + len(study_of(output_dir).trials)
    decimals = {len(n.split(".")[1]) for n in re.findall(r"(?<=\| )-?\d+\.\d+(?= \|)", md.stdout)}
    assert decimals == {3}
    tex = trials(output_dir, "--format", "tex")
    assert tex.returncode == 0, tex.stderr
    assert r"\begin{tabular}" in tex.stdout and r"\caption{Trials of study tt}" in tex.stdout
    assert r"coherence\_npmi" in tex.stdout and "coherence_npmi" not in tex.stdout


def test_sort_uses_the_objective_direction_and_puts_missing_values_last(swept) -> None:
    output_dir, _ = swept
    rows = csv_rows(output_dir, "--sort", "coherence_npmi")
    values = [float(r["coherence_npmi"]) if r["coherence_npmi"] else math.nan for r in rows]
    known = [v for v in values if not math.isnan(v)]
    assert known == sorted(known, reverse=True) and all(math.isnan(v) for v in values[len(known):])
    ascending = [float(r["n_topics"]) for r in csv_rows(output_dir, "--sort", "n_topics:asc") if r["n_topics"]]
    assert ascending == sorted(ascending)

    wrong = trials(output_dir, "--sort", "coherence")
    errors = [line for line in wrong.stderr.splitlines() if line.startswith("error:")]
    assert wrong.returncode == 2 and len(errors) == 1, wrong.stderr
    assert "cannot sort by 'coherence'" in errors[0] and "coherence_npmi, diversity" in errors[0]


def test_feasible_keeps_feasible_complete_trials(swept) -> None:
    output_dir, _ = swept
    rows = csv_rows(output_dir, "--feasible")
    expected = [t.number for t in study_of(output_dir).trials if t.user_attrs.get("feasible") is True
                and t.state.name == "COMPLETE"]
    assert rows and [int(r["trial"]) for r in rows] == expected
    assert {r["state"] for r in rows} == {"COMPLETE"} and {r["feasible"] for r in rows} == {"True"}


def test_unknown_study_lists_the_studies(swept) -> None:
    output_dir, _ = swept
    done = topicsweep("trials", "--study", "nope", f"paths.output_dir={output_dir}")
    assert done.returncode == 2 and done.stderr.strip().endswith("studies there: tt"), done.stderr


def test_no_library_warning_reaches_the_user(swept, session_cache: Path) -> None:
    output_dir, done = swept
    best = topicsweep("best", "--study", "tt", f"paths.output_dir={output_dir}")
    assert best.returncode == 0, best.stderr
    for stderr in (done.stderr, best.stderr, trials(output_dir).stderr):
        assert "Warning" not in stderr and "warn(" not in stderr, stderr


def test_a_narrow_terminal_drops_optional_columns_instead_of_splitting_words() -> None:
    rows = [{"trial": "1", "coherence_npmi": "0.123", "irbo": "0.9", "note": "infeasible: n_topics 2 < 3"}]
    columns = ["trial", "coherence_npmi", "irbo", "note"]
    assert fit_columns(rows, columns, ["irbo", "note"], 200) == (columns, [])
    # trial 5+2, coherence_npmi 14+2, note's longest word "infeasible:" 11+2, 4 borders = 40
    assert fit_columns(rows, columns, ["irbo", "note"], 40) == (["trial", "coherence_npmi", "note"], ["irbo"])
