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
from runner.sweep_spec import Constraint, SelectRule, distribution_of, frac_value, load_spec, sweeps_dir

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


def test_workers_auto_is_one_per_usable_core(tmp_path: Path) -> None:
    import os

    assert load_spec(write(tmp_path, VALID), {"workers": "auto"}).workers == len(os.sched_getaffinity(0))
    assert load_spec(write(tmp_path, VALID)).workers == 1
    assert load_spec(write(tmp_path, VALID), {"workers": 3}).workers == 3


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
    (VALID + "workers: 0\n", "workers must be a count of at least 1 or auto, not 0"),
    (VALID + "workers: many\n", "workers must be a count of at least 1 or auto, not 'many'"),
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


RELATIVE = VALID.replace("reducer.min_dist: choice(0.0, 0.1)",
                         "clusterer.min_cluster_size: int(interval(${frac:0.0167}, ${frac:0.133}))") \
    + "constraints:\n  n_topics: ['${frac:0.01}', 30]\n  outlier_ratio: '<= 0.5'\n"


def test_frac_ranges_resolve_against_the_corpus_size(tmp_path: Path) -> None:
    template = load_spec(write(tmp_path, RELATIVE))
    assert template.params["clusterer.min_cluster_size"] == "int(interval(${frac:0.0167}, ${frac:0.133}))"
    assert [c.metric for c in template.constraints] == ["outlier_ratio"]  # the relative one waits for the corpus
    demo = template.for_corpus(300)
    assert demo.params["clusterer.min_cluster_size"] == "int(interval(5, 40))"
    assert demo.constraints == (Constraint("n_topics", 3, 30), Constraint("outlier_ratio", high=0.5))
    assert demo.template is None and demo.to_dict()["params"] == demo.params
    large = template.for_corpus(3000)
    assert distribution_of("x", large.params["clusterer.min_cluster_size"]) == IntDistribution(50, 399)
    with pytest.raises(UserError, match="n_topics >= 76 and <= 30 cannot both hold .*resolved for 7600 documents"):
        template.for_corpus(7600)
    assert frac_value("0.005", 300) == 2 and frac_value("0.01", 50) == 2  # at least 2
    assert frac_value("0.5", 5) == 3 and frac_value("0.25", 10) == 3  # halves round up
    assert load_spec(write(tmp_path, VALID)).for_corpus(10) == load_spec(write(tmp_path, VALID))
    shipped = load_spec("default").for_corpus(300)  # the demo's range, written relative to the corpus
    assert shipped.params["clusterer.min_cluster_size"] == "int(tag(log, interval(5, 40)))"


@pytest.mark.parametrize("text, message", [
    (VALID.replace("n_trials: 3", "n_trials: ${frac:0.1}"), "in 'n_trials' of .*: it works only in params and "),
    (RELATIVE.replace("${frac:0.133}", "${frac:many}"), r"\$\{frac:many\} needs a positive fraction"),
    (RELATIVE.replace("${frac:0.133}", "${frac:-0.1}"), r"\$\{frac:-0.1\} needs a positive fraction"),
])
def test_misused_frac_is_a_user_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        load_spec(write(tmp_path, text))


def test_a_relative_range_empty_for_this_corpus_names_the_corpus_size(tmp_path: Path) -> None:
    template = load_spec(write(tmp_path, RELATIVE.replace("${frac:0.0167}", "50")))
    with pytest.raises(UserError, match=r"int\(interval\(50, 40\)\)' is not a valid range .*for 300 documents"):
        template.for_corpus(300)


def test_study_name_is_the_same_key_as_study(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("study: s", "study_name: from_file"))
    assert load_spec(path).study == "from_file"
    assert load_spec(path, {"study_name": "cli"}).study == "cli"
    assert load_spec(write(tmp_path, VALID), {"study_name": "cli"}).study == "cli"
    name, changes, overrides = split_sweep_arguments(["study_name=x", "n_trials=2"])
    assert changes == {"study_name": "x", "n_trials": 2} and overrides == []
    with pytest.raises(UserError, match="gives study=a and study_name=b: they are the same key"):
        load_spec(write(tmp_path, VALID), {"study": "a", "study_name": "b"})
    with pytest.raises(UserError, match="sweep file .* gives study=s and study_name=t"):
        load_spec(write(tmp_path, VALID + "study_name: t\n"))


def test_constraint_values_are_what_optuna_and_optuna_dashboard_read() -> None:
    import optuna
    from optuna_dashboard._serializer import serialize_frozen_trial

    from runner.trial_constraints import name_objectives, record_constraints

    constraints = (Constraint("n_topics", 3, 30),)
    study = optuna.create_study(directions=["maximize", "maximize"])
    name_objectives(study, ["coherence_npmi", "diversity"])
    for npmi, n_topics in ((0.3, 50), (0.1, 10)):  # the better trial has too many topics
        trial = study.ask()
        record_constraints(trial, constraints, {"n_topics": n_topics})
        study.tell(trial, [npmi, 0.9])
    assert [t.number for t in study.best_trials] == [1]
    served = [serialize_frozen_trial(study._study_id, t, {}) for t in study.trials]
    assert [s["constraints"] for s in served] == [[20.0], [-7.0]]  # > 0: greyed out as infeasible
    assert study.trials[0].user_attrs["violated"] == ["n_topics 50 > 30"]
    assert study.metric_names == ["coherence_npmi", "diversity"]
