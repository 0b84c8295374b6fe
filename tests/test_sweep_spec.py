"""Sweep files: Hydra sweep grammar to Optuna distributions, validation errors, selection rules."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from runner.cli import split_sweep_arguments
from runner.errors import UserError
from runner.selection import TrialRow, choose, pareto_front
from runner.sweep import aggregate, param_override
from runner.sweep_spec import Constraint, SelectRule, distribution_of, load_spec, sweeps_dir

VALID = """
study: s
params:
  reducer.min_dist: choice(0.0, 0.1)
objectives: {coherence_npmi: maximize}
n_trials: 3
"""


@pytest.mark.parametrize("expression, expected", [
    ("range(0, 10)", IntDistribution(0, 9)),
    ("range(0, 10, 3)", IntDistribution(0, 9, step=3)),
    ("choice(0.0, 0.05, 0.1)", CategoricalDistribution([0.0, 0.05, 0.1])),
    ("int(tag(log, interval(5, 200)))", IntDistribution(5, 200, log=True)),
    ("int(interval(1, 50))", IntDistribution(1, 50)),
    ("interval(0.0, 0.5)", FloatDistribution(0.0, 0.5)),
    ("tag(log, interval(0.001, 1.0))", FloatDistribution(0.001, 1.0, log=True)),
    ("choice(null, auto, 10, 20)", CategoricalDistribution([None, "auto", 10, 20])),
    ("choice(none, embeddings)", CategoricalDistribution(["none", "embeddings"])),
    ("choice(minilm, hf_transformer)", CategoricalDistribution(["minilm", "hf_transformer"])),
])
def test_hydra_sweep_grammar_becomes_optuna_distributions(expression: str, expected: object) -> None:
    assert distribution_of("a.b", expression) == expected


def test_sampled_values_become_hydra_overrides() -> None:
    assert param_override("topics.nr_topics", None) == "topics.nr_topics=null"
    assert param_override("topics.nr_topics", "auto") == "topics.nr_topics=auto"
    assert param_override("reducer.min_dist", 0.25) == "reducer.min_dist=0.25"
    assert param_override("dataset.path", "a b.tsv") == "dataset.path='a b.tsv'"


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "sweep.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_valid_file_loads_with_defaults_and_cli_changes(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, VALID), {"n_trials": 7, "seeds": 2})
    assert spec.study == "s" and spec.n_trials == 7 and spec.seeds == 2
    assert spec.sampler["_target_"] == "optuna.samplers.TPESampler"
    assert spec.select == SelectRule("lexicographic", order=("coherence_npmi",))


def test_shipped_sweep_files_are_valid() -> None:
    for path in sweeps_dir().glob("*.yaml"):
        assert load_spec(str(path)).n_trials >= 1


@pytest.mark.parametrize("text, message", [
    (VALID.replace("reducer.min_dist: choice(0.0, 0.1)", "reducer.min_dist: choice(0.0, 0.1"),
     "malformed sweep expression for reducer.min_dist"),
    (VALID.replace("choice(0.0, 0.1)", "0.1"), "is a single value"),
    (VALID.replace("coherence_npmi: maximize", "coherence_xyz: maximize"), "objective 'coherence_xyz'"),
    (VALID.replace("coherence_npmi: maximize", "coherence_npmi: up"), "must be maximize or minimize, not 'up'"),
    (VALID + "constraints: {n_topics: [60, 10]}\n", "contradictory constraint"),
    (VALID + "constraints: {outlier_ratio: 'about 0.3'}\n", "is not like '<= 0.35'"),
    (VALID + "colour: blue\n", "unknown key 'colour'"),
    (VALID + "select: {rule: weighted}\n", "needs weights"),
    (VALID.replace("n_trials: 3", "n_trials: 0"), "n_trials must be at least 1"),
    (VALID.replace("reducer.min_dist", "reducer.random_state") + "seeds: 3\n", "remove reducer.random_state"),
])
def test_bad_sweep_files_are_user_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace("[", r"\[")):
        load_spec(write(tmp_path, text))


def test_missing_sweep_file_lists_the_available_ones() -> None:
    with pytest.raises(UserError, match=r"sweep file not found: .*available sweeps: .*default"):
        load_spec("no-such-sweep")


def test_command_line_splits_name_sweep_keys_and_overrides() -> None:
    name, changes, overrides = split_sweep_arguments(["bbc", "n_trials=60", "storage=sqlite:///x.db",
                                                      "clusterer.min_samples=3", "sampler.seed=1"])
    assert name == "bbc"
    assert changes == {"n_trials": 60, "storage": "sqlite:///x.db", "sampler": {"seed": 1}}
    assert overrides == ["clusterer.min_samples=3"]
    assert split_sweep_arguments(["n_trials=2"])[0] == "default"


def row(number: int, npmi: float, diversity: float, feasible: bool = True) -> TrialRow:
    return TrialRow(number, {}, {"coherence_npmi": npmi, "diversity": diversity}, feasible)


OBJECTIVES = {"coherence_npmi": "maximize", "diversity": "maximize"}


def test_pareto_front_keeps_only_non_dominated_trials() -> None:
    rows = [row(0, 0.1, 0.9), row(1, 0.2, 0.8), row(2, 0.05, 0.5), row(3, 0.2, 0.8)]
    assert [r.number for r in pareto_front(rows, OBJECTIVES)] == [0, 1, 3]


def test_choose_prefers_feasible_trials_and_applies_the_rule() -> None:
    rows = [row(0, 0.1, 0.9), row(1, 0.2, 0.8), row(2, 0.5, 1.0, feasible=False)]
    assert choose(rows, OBJECTIVES, SelectRule("lexicographic", order=("coherence_npmi",))).number == 1
    assert choose(rows, OBJECTIVES, SelectRule("lexicographic", order=("diversity",))).number == 0
    weighted = SelectRule("weighted", weights={"coherence_npmi": 1.0, "diversity": 0.5})
    assert choose(rows, OBJECTIVES, weighted).number == 1  # 0.6 beats 0.55
    assert choose([row(0, 0.1, 0.9, False)], OBJECTIVES, weighted).number == 0  # none feasible: best of all


def test_constraint_violations_follow_optunas_sign_convention() -> None:
    constraint = Constraint("n_topics", 10, 60)
    assert constraint.violation(30) < 0 and constraint.violation(70) == 10 and constraint.violation(math.nan) == 1


def test_seed_aggregation_reports_mean_and_sd() -> None:
    merged = aggregate([{"coherence_npmi": 0.1}, {"coherence_npmi": 0.3}])
    assert merged["coherence_npmi"] == pytest.approx(0.2)
    assert merged["coherence_npmi_sd"] == pytest.approx(math.sqrt(0.02))


def test_reducer_budget_is_a_count_or_a_fraction(tmp_path: Path) -> None:
    assert load_spec(write(tmp_path, VALID + "reducer_budget: 2\n")).reducer_fits() == 2
    assert load_spec(write(tmp_path, VALID.replace("n_trials: 3", "n_trials: 100") + "reducer_budget: 0.1\n")) \
        .reducer_fits() == 10
    assert load_spec(write(tmp_path, VALID)).reducer_fits() is None
    with pytest.raises(UserError, match="reducer_budget must be a count >= 1 or a fraction"):
        load_spec(write(tmp_path, VALID + "reducer_budget: 1.5\n"))
