"""End to end through the real CLI: `topicsweep sweep`, resume, SIGKILL, failing trials, `best`, dashboard."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import optuna
from mlflow.tracking import MlflowClient
from optuna.trial import TrialState

from tests.conftest import PROJECT_ROOT, CliRunner
from tests.test_cli_run import free_port

SWEEP = """
study: t
overrides: [dataset=lee, embedding=hashing]
params:
  reducer.random_state: range(0, {seeds})
  clusterer.min_cluster_size: {mcs}
  topics.nr_topics: choice(null, auto, 5)
objectives: {{coherence_npmi: maximize, diversity: maximize}}
constraints: {{n_topics: [2, 40]}}
sampler: {{_target_: optuna.samplers.RandomSampler, seed: 0}}
n_trials: 6
heartbeat_interval: 1
grace_period: 3
"""


def sweep_file(tmp_path: Path, seeds: int = 2, mcs: str = "int(interval(5, 30))") -> str:
    path = tmp_path / "t.yaml"
    path.write_text(SWEEP.format(seeds=seeds, mcs=mcs), encoding="utf-8")
    return str(path)


def study(output_dir: Path) -> optuna.Study:
    return optuna.load_study(study_name="t", storage=f"sqlite:///{output_dir / 'optuna.db'}")


def states(output_dir: Path) -> list[str]:
    return [t.state.name for t in study(output_dir).trials]


def mlflow_view(output_dir: Path) -> tuple[MlflowClient, list, list]:
    client = MlflowClient(tracking_uri=f"sqlite:///{output_dir / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("t").experiment_id  # one experiment per study
    parents = client.search_runs([experiment], "tags.`topicsweep.role` = 'parent'")
    children = client.search_runs([experiment], "tags.`topicsweep.role` = 'trial'")
    return client, parents, children


def trial_states_read_only(database: Path, study_name: str) -> list[str]:
    """Trial states of a study in an Optuna SQLite file, opened read-only.

    Optuna's own RDBStorage writes its version rows even with ``skip_table_creation``, which races a
    sweep process that is creating them; a read-only SQLite connection cannot.
    """
    connection = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        rows = connection.execute("SELECT trials.state FROM trials JOIN studies USING (study_id) "
                                  "WHERE studies.study_name = ? ORDER BY trials.number", (study_name,)).fetchall()
    finally:
        connection.close()
    return [state for (state,) in rows]


def wait_for_a_running_trial(process: subprocess.Popen, output_dir: Path, completed: int) -> None:
    """Poll the study until ``completed`` trials are COMPLETE and the next one is RUNNING."""
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        time.sleep(0.3)
        if not (output_dir / "optuna.db").exists():
            continue
        try:
            current = trial_states_read_only(output_dir / "optuna.db", "t")
        except sqlite3.Error:
            continue  # tables not created yet, or the database is locked for a moment
        if current.count("COMPLETE") >= completed and current and current[-1] == "RUNNING":
            return


def test_sweep_resume_and_best_export(cli: CliRunner, output_dir: Path, tmp_path: Path) -> None:
    path = sweep_file(tmp_path)
    done = cli("sweep", path)
    assert done.returncode == 0, done.stderr
    assert "Pareto front" in done.stdout and "chosen trial:" in done.stdout
    assert done.stderr.count("COMPLETE") == 6  # one progress line per trial
    assert states(output_dir) == ["COMPLETE"] * 6

    client, parents, children = mlflow_view(output_dir)
    assert len(parents) == 1 and len(children) == 6
    parent = parents[0].info.run_id
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parent}
    assert sorted(c.data.tags["topicsweep.trial"] for c in children) == [str(n) for n in range(6)]
    child = children[0]
    assert child.info.run_name.startswith("trial-") and "random_state=" in child.info.run_name
    assert "reducer.random_state" in child.data.params and "coherence_npmi" in child.data.metrics
    assert sum(c.data.tags.get("best") == "true" for c in client.search_runs(
        [child.info.experiment_id], "tags.`topicsweep.role` = 'trial'")) == 1
    artifacts = {a.path for a in client.list_artifacts(parent)}
    assert {"trials.csv", "pareto.csv", "best_config.yaml", "report.html"} <= artifacts

    again = cli("sweep", path)
    assert again.returncode == 0 and states(output_dir) == ["COMPLETE"] * 6
    more = cli("sweep", path, "n_trials=8")
    assert more.returncode == 0 and states(output_dir) == ["COMPLETE"] * 8
    _, parents, children = mlflow_view(output_dir)
    assert len(parents) == 1 and len(children) == 8
    # the resumed sweep's summary leaves every child's pareto/best tags agreeing with its Pareto table
    pareto_csv = Path(client.download_artifacts(parents[0].info.run_id, "pareto.csv", str(tmp_path)))
    on_front = {line.split(",")[0] for line in pareto_csv.read_text(encoding="utf-8").splitlines()[1:]}
    assert {c.data.tags["topicsweep.trial"] for c in children if c.data.tags["pareto"] == "true"} == on_front
    assert {c.data.tags["pareto"] for c in children} <= {"true", "false"}
    assert sorted(c.data.tags["best"] for c in children) == ["false"] * 7 + ["true"]

    best = cli("best", "--study", "t", f"paths.output_dir={output_dir}")
    assert best.returncode == 0, best.stderr
    assert "reproduced its stored metrics exactly" in best.stdout
    folder = output_dir / "sweeps" / "t" / "best"
    for name in ("config.yaml", "params.md", "params.tex", "metrics.md", "metrics.tex", "topics.md", "pareto.csv",
                 "methods_en.md", "methods_zh.md"):
        assert (folder / name).is_file(), name
    assert "Optuna" in (folder / "methods_en.md").read_text() and "主题" in (folder / "methods_zh.md").read_text()
    chosen = int(best.stdout.split("exported trial ")[1].split()[0])
    rerun = cli("run", "--config-file", str(folder / "config.yaml"), "run_name=reproduced")
    assert rerun.returncode == 0, rerun.stderr
    metrics = json.loads((output_dir / "runs" / "reproduced" / "metrics.json").read_text())["metrics"]
    assert metrics == study(output_dir).trials[chosen].user_attrs["metrics"]


def test_a_failing_trial_is_recorded_and_the_sweep_goes_on(cli: CliRunner, output_dir: Path, tmp_path: Path) -> None:
    done = cli("sweep", sweep_file(tmp_path, mcs="choice(1, 10)"), "n_trials=4")
    assert done.returncode == 0, done.stderr
    trials = study(output_dir).trials
    failed = [t for t in trials if t.state == TrialState.FAIL]
    assert sum(t.state == TrialState.COMPLETE for t in trials) == 4 and failed
    assert all("min_cluster_size must be at least 2" in t.user_attrs["fail_reason"] for t in failed)
    _, _, children = mlflow_view(output_dir)
    assert sum(c.data.tags["state"] == "FAIL" for c in children) == len(failed)


def test_a_sweep_whose_trials_all_fail_stops_with_the_reason(cli: CliRunner, output_dir: Path,
                                                              tmp_path: Path) -> None:
    done = cli("sweep", sweep_file(tmp_path, mcs="choice(1)"), "max_failures_in_a_row=3")
    assert done.returncode == 2
    assert "3 trials failed in a row (last: UserError: clusterer.min_cluster_size must be at least 2" in done.stderr
    assert states(output_dir) == ["FAIL"] * 3
    _, parents, _ = mlflow_view(output_dir)
    assert [p.info.status for p in parents] == ["FAILED"]


def test_sigkill_mid_trial_then_resume_finishes_exactly_n_trials(cli: CliRunner, output_dir: Path,
                                                                  session_cache: Path, tmp_path: Path) -> None:
    path = sweep_file(tmp_path, seeds=6)
    command = [sys.executable, "-m", "runner", "sweep", path, f"paths.output_dir={output_dir}",
               f"paths.cache_dir={tmp_path / 'fresh-cache'}"]  # a fresh cache keeps trials slow enough to interrupt
    log = (tmp_path / "killed.log").open("w")
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=log)
    wait_for_a_running_trial(process, output_dir, completed=2)
    assert process.poll() is None, (tmp_path / "killed.log").read_text()
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert states(output_dir)[-1] == "RUNNING"

    resumed = cli("sweep", path)
    assert resumed.returncode == 0, resumed.stderr
    final = states(output_dir)
    assert final.count("COMPLETE") == 6 and "RUNNING" not in final and "FAIL" in final
    _, _, children = mlflow_view(output_dir)
    complete = [c.data.tags["topicsweep.trial"] for c in children if c.data.tags["state"] == "COMPLETE"]
    assert len(complete) == len(set(complete)) == 6
    failed = {str(t.number) for t in study(output_dir).trials if t.state == TrialState.FAIL}
    assert all(c.info.status != "RUNNING" for c in children)  # the killed trial's child (if it had one) is closed
    assert all(c.info.status == "KILLED" for c in children if c.data.tags["topicsweep.trial"] in failed)


def test_a_trial_whose_worker_died_before_naming_itself_is_retried_not_waited_for(cli: CliRunner, output_dir: Path,
                                                                                 tmp_path: Path) -> None:
    path = sweep_file(tmp_path)
    assert cli("sweep", path, "n_trials=2").returncode == 0
    orphan = study(output_dir).ask()  # RUNNING with no worker, no heartbeat: a process killed inside Optuna's ask
    time.sleep(3.5)  # the sweep file's grace_period is 3 s
    resumed = cli("sweep", path, "n_trials=4")
    assert resumed.returncode == 0, resumed.stderr
    trials = study(output_dir).trials
    assert [t.state.name for t in trials].count("COMPLETE") == 4 and "RUNNING" not in [t.state.name for t in trials]
    assert trials[orphan.number].state == TrialState.FAIL
    assert trials[orphan.number].user_attrs["fail_reason"] == "worker process died as the trial started"
    assert any(t.user_attrs.get("retry_of") == orphan.number for t in trials)


def test_bad_sweep_input_is_one_line_with_exit_code_2(cli: CliRunner, tmp_path: Path) -> None:
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(SWEEP.format(seeds=2, mcs="int(interval(5, 30))").replace(
        "clusterer.min_cluster_size", "clusterer.min_clustr_size"), encoding="utf-8")
    done = cli("sweep", str(unknown))
    assert done.returncode == 2 and "unknown parameter 'clusterer.min_clustr_size'" in done.stderr
    assert "Traceback" not in done.stderr
    secret = cli("sweep", sweep_file(tmp_path), "storage=postgresql://alice:s3cret@127.0.0.1:1/optuna")
    assert secret.returncode == 2 and "cannot open Optuna storage postgresql://alice:***@127.0.0.1:1/optuna" in \
        secret.stderr
    assert "s3cret" not in secret.stderr + secret.stdout
    missing = cli("best", "--study", "nope", f"paths.output_dir={tmp_path}")
    assert missing.returncode == 2 and "no study 'nope'" in missing.stderr


def test_dashboard_serves_the_storage_on_loopback(cli: CliRunner, output_dir: Path, tmp_path: Path) -> None:
    assert cli("sweep", sweep_file(tmp_path), "n_trials=1").returncode == 0
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "runner", "dashboard", "--port", str(port),
                                f"paths.output_dir={output_dir}"], cwd=PROJECT_ROOT, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, body = time.time() + 60, ""
        while time.time() < deadline and not body:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies", timeout=2).read().decode()
            except OSError:
                time.sleep(0.5)
        assert '"study_name": "t"' in body or '"study_name":"t"' in body
        study_id = next(s["study_id"] for s in json.loads(body)["study_summaries"]
                        if s["study_name"] == "t")
        detail = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies/{study_id}",
                                                   timeout=10).read())
        assert detail["objective_names"] == ["coherence_npmi", "diversity"]  # the dashboard's axis titles
        n_topics = study(output_dir).trials[0].user_attrs["metrics"]["n_topics"]
        assert detail["trials"][0]["constraints"] == [max(2 - n_topics, n_topics - 40)]  # <= 0: shown feasible
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)


def test_reducer_budget_bounds_distinct_umap_fits(cli: CliRunner, output_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "budget.yaml"
    path.write_text(SWEEP.format(seeds=50, mcs="int(interval(5, 30))").replace("n_trials: 6", "n_trials: 10")
                    + "reducer_budget: 3\n", encoding="utf-8")
    done = cli("sweep", str(path))
    assert done.returncode == 0, done.stderr
    trials = study(output_dir).trials
    assert sum(t.state == TrialState.COMPLETE for t in trials) == 10
    assert len({t.params["reducer.random_state"] for t in trials}) == 3
    assert sum(bool(t.user_attrs.get("reducer_reused")) for t in trials) == 7


def test_ctrl_c_stops_cleanly_and_the_sweep_resumes(cli: CliRunner, output_dir: Path, tmp_path: Path) -> None:
    path = sweep_file(tmp_path, seeds=6)
    command = [sys.executable, "-m", "runner", "sweep", path, f"paths.output_dir={output_dir}",
               f"paths.cache_dir={tmp_path / 'fresh-cache'}"]
    # Python's SIGINT handler in the sweep even when these tests run as a background job (SIGINT ignored)
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    wait_for_a_running_trial(process, output_dir, completed=1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    assert "run the same command again to resume" in stderr and "Traceback" not in stderr
    # the running trial is FAIL, or COMPLETE when Ctrl-C came while it was being logged; none is left RUNNING
    assert "RUNNING" not in states(output_dir) and states(output_dir).count("COMPLETE") < 6
    _, parents, _ = mlflow_view(output_dir)
    assert [p.info.status for p in parents] == ["KILLED"]
    assert cli("sweep", path).returncode == 0
    assert states(output_dir).count("COMPLETE") == 6
    _, parents, _ = mlflow_view(output_dir)
    assert [p.info.status for p in parents] == ["FINISHED"]
