"""Study identity through the real CLI: a study never mixes corpora, changed definitions need --extend,
``study_name=`` is ``study=``, ``${frac:...}`` follows the corpus size, and mostly infeasible sweeps say why."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from runner.config import compose, resolve
from runner.data import Corpus
from runner.errors import UserError
from runner.study_identity import definition, reconcile
from runner.sweep_spec import load_spec
from tests.conftest import CliRunner

SWEEP = """
study: ident
overrides: [dataset=lee, embedding=hashing, tracking=none]
params:
  reducer.random_state: range(0, 2)
  clusterer.min_cluster_size: {mcs}
objectives: {{coherence_npmi: maximize, diversity: maximize}}
constraints: {constraints}
sampler: {{_target_: optuna.samplers.RandomSampler, seed: 0}}
n_trials: 2
"""


def sweep_file(tmp_path: Path, name: str = "ident", mcs: str = "int(interval(5, 30))",
               constraints: str = "{n_topics: [2, 40]}") -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(SWEEP.format(mcs=mcs, constraints=constraints), encoding="utf-8")
    return str(path)


def load(output_dir: Path, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{output_dir / 'optuna.db'}")


def error_line(done) -> str:  # noqa: ANN001 (subprocess.CompletedProcess)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), done.stderr[-2000:]
    return lines[0]


def test_a_resume_never_mixes_corpora_and_changes_need_extend(cli: CliRunner, output_dir: Path,
                                                              tmp_path: Path) -> None:
    path = sweep_file(tmp_path)
    assert cli("sweep", path).returncode == 0
    created = load(output_dir, "ident").user_attrs["topicsweep_identity"]
    assert created["dataset"]["n_documents"] == 300 and len(created["dataset"]["hash"]) == 64
    assert not any(k.startswith(("paths.", "tracking.")) or k.endswith(".device") for k in created["base"])

    corpus = tmp_path / "news.tsv"
    corpus.write_text("text\n" + "".join(f"market report number {i} on stocks\n" for i in range(40)), encoding="utf-8")
    other = error_line(cli("sweep", path, "n_trials=3", "dataset=tsv", f"dataset.path={corpus}"))
    assert f"corpus 'lee' (300 documents, sha256 {created['dataset']['hash'][:12]})" in other
    assert "(40 documents, sha256" in other and "study=NEW_NAME" in other
    assert "--extend" not in other
    assert "a study never mixes corpora" in error_line(cli("sweep", "--extend", path, "dataset=tsv",
                                                           f"dataset.path={corpus}"))

    base = error_line(cli("sweep", path, "n_trials=3", "clusterer.metric=manhattan"))
    assert "base config: clusterer.metric euclidean -> manhattan" in base
    assert "study=NEW_NAME" in base and "--extend" in base
    wider = sweep_file(tmp_path, mcs="int(interval(5, 40))")
    space = error_line(cli("sweep", wider, "n_trials=3"))
    assert "search space: changed clusterer.min_cluster_size int(interval(5, 30)) -> int(interval(5, 40))" in space
    assert [t.state.name for t in load(output_dir, "ident").trials] == ["COMPLETE"] * 2  # nothing ran

    extended = cli("sweep", "--extend", wider, "n_trials=3")
    assert extended.returncode == 0, extended.stderr[-2000:]
    study = load(output_dir, "ident")
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 3
    history = study.user_attrs["topicsweep_definitions"]
    assert [(h["reason"], h["from_trial"]) for h in history] == [("created", 0), ("extended", 2)]
    assert study.user_attrs["topicsweep_identity"]["params"]["clusterer.min_cluster_size"] == "int(interval(5, 40))"
    again = cli("sweep", wider, "n_trials=3", f"paths.cache_dir={tmp_path / 'other-cache'}", "run_name=x")
    assert again.returncode == 0, again.stderr[-2000:]  # paths and names are not part of the definition
    assert len(load(output_dir, "ident").user_attrs["topicsweep_definitions"]) == 2


def test_study_name_frac_ranges_and_the_infeasible_warning(cli: CliRunner, output_dir: Path, tmp_path: Path) -> None:
    path = sweep_file(tmp_path, mcs="int(interval(${frac:0.02}, ${frac:0.05}))",
                      constraints="{n_topics: ['${frac:0.5}', 1000]}")
    done = cli("sweep", path, "study_name=renamed")
    assert done.returncode == 0, done.stderr[-2000:]
    study = load(output_dir, "renamed")  # not a Hydra override, and not the file's study
    assert study.user_attrs["topicsweep_spec"]["params"]["clusterer.min_cluster_size"] == "int(interval(6, 15))"
    assert all(6 <= t.params["clusterer.min_cluster_size"] <= 15 for t in study.trials)
    warning = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1, done.stderr[-2000:]
    assert "2 of 2 complete trials are infeasible: '150 <= n_topics <= 1000' was violated by 2" in warning[0]
    assert "${frac:...}" in warning[0]
    assert study.trials[0].system_attrs["constraints"][0] > 0 and study.best_trials == []


def test_adopted_and_failed_only_studies_take_the_new_definition(tmp_path: Path) -> None:
    spec = load_spec(sweep_file(tmp_path))
    base = resolve(compose(list(spec.overrides)))
    corpus = Corpus("lee", "lee.cor", ["one text", "another text"])
    old = optuna.create_study(directions=["maximize", "maximize"])
    old.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL))
    reconcile(old, definition(spec, base, corpus), spec, [], extend=False, where="s")  # created before the check
    assert old.user_attrs["topicsweep_definitions"][0]["reason"] == "adopted"

    manhattan = resolve(compose([*spec.overrides, "clusterer.metric=manhattan"]))
    reconcile(old, definition(spec, manhattan, corpus), spec, [], extend=False, where="s")  # nothing completed yet
    assert [h["reason"] for h in old.user_attrs["topicsweep_definitions"]] == ["adopted", "redefined"]
    assert old.user_attrs["topicsweep_identity"]["base"]["clusterer.metric"] == "manhattan"
    with pytest.raises(UserError, match="a study never mixes corpora"):
        reconcile(old, definition(spec, manhattan, Corpus("lee", "x", ["other"])), spec, [], extend=True, where="s")


def test_settings_added_by_a_newer_version_are_not_a_changed_definition() -> None:
    from runner.study_identity import differences

    stored = {"dataset": {"hash": "h"}, "params": {}, "objectives": {"coherence_npmi": "maximize"},
              "constraints": [], "seeds": 1, "base": {"clusterer.min_cluster_size": "10"}}
    newer = {**stored, "base": {"clusterer.min_cluster_size": "10", "metrics.compat": "null"}}
    assert differences(stored, newer) == []
    changed = {**stored, "base": {"clusterer.min_cluster_size": "12", "metrics.compat": "null"}}
    assert differences(stored, changed) == ["base config: clusterer.min_cluster_size 10 -> 12"]
