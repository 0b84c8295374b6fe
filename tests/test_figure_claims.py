"""Deferred trial figures: every worker on the host draws them once it has no trial left, each figure claimed once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import optuna
import pytest

from runner.sweep_report import add_trial_figures, figure_claim
from runner.tracking import MlflowTracker

TOPICS_CSV = "topic,size,words\n-1,4,\n0,9,economy growth bank\n1,5,match goal season\n"


def dead_pid() -> int:
    """The id of a process that has exited."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


@pytest.fixture
def finished_trials(tmp_path: Path) -> SimpleNamespace:
    """Three COMPLETE trials that a live worker on this host (this test's parent process) ran, with child runs
    in a real MLflow store and topics.csv but no topics.png: what a sweep's workers leave for the end."""
    tracker = MlflowTracker(f"sqlite:///{tmp_path / 'mlflow.db'}", tmp_path, experiment="figures")
    study = optuna.create_study(directions=["maximize"])
    folders = tmp_path / "trials"
    for number in range(3):
        trial = study.ask()
        run_id = tracker.start(f"trial-{number}", {"topicsweep.trial": str(number)})
        trial.set_user_attr("mlflow_run_id", run_id)
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getppid()}")  # alive, and not this process
        (folders / f"{number:04d}").mkdir(parents=True)
        (folders / f"{number:04d}" / "topics.csv").write_text(TOPICS_CSV, encoding="utf-8")
        study.tell(trial, 0.5)
    return SimpleNamespace(study=study, tracker=tracker, trial_dir=lambda number: folders / f"{number:04d}")


def drawn(sweep: SimpleNamespace) -> list[int]:
    return [n for n in range(3) if (sweep.trial_dir(n) / "topics.png").is_file()]


def test_a_leaving_worker_draws_the_figures_of_trials_another_live_worker_ran(finished_trials: SimpleNamespace) -> None:
    assert add_trial_figures(finished_trials) == 3
    assert drawn(finished_trials) == [0, 1, 2]
    for trial in finished_trials.study.trials:
        artifacts = finished_trials.tracker.client.list_artifacts(trial.user_attrs["mlflow_run_id"])
        assert [a.path for a in artifacts] == ["topics.png"]
    assert sorted(p.name for p in finished_trials.trial_dir(0).iterdir()) == ["topics.csv", "topics.png"]  # no claim left
    assert add_trial_figures(finished_trials) == 0  # drawn once


def test_figures_go_in_the_order_asked_and_stop_at_the_limit(finished_trials: SimpleNamespace) -> None:
    assert add_trial_figures(finished_trials, numbers=[2, 0], limit=1) == 1
    assert drawn(finished_trials) == [2]
    assert add_trial_figures(finished_trials, numbers=[2, 0, 7]) == 1  # 2 is drawn, 7 is no trial
    assert drawn(finished_trials) == [0, 2]


HOLD = ("import sys, time; from pathlib import Path; from runner.sweep_report import figure_claim\n"
        "with figure_claim(Path(sys.argv[1])) as mine:\n    print(mine, flush=True); time.sleep(float(sys.argv[2]))")


def holder(topics_csv: Path, seconds: float) -> subprocess.Popen:
    """Another process that claims this trial's figure and holds the claim for ``seconds`` (then exits)."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(topics_csv), str(seconds)], stdout=subprocess.PIPE,
                               text=True)
    assert process.stdout.readline().strip() == "True"
    return process


def test_a_live_workers_claim_is_left_to_it_and_a_dead_workers_claim_is_taken_over(
        finished_trials: SimpleNamespace) -> None:
    live = holder(finished_trials.trial_dir(0) / "topics.csv", 60)
    dead = holder(finished_trials.trial_dir(1) / "topics.csv", 60)
    dead.kill()  # killed while drawing: the kernel releases its claim
    dead.wait()
    try:
        assert add_trial_figures(finished_trials) == 2
        assert drawn(finished_trials) == [1, 2]
    finally:
        live.kill()
        live.wait()
    assert add_trial_figures(finished_trials) == 1 and drawn(finished_trials) == [0, 1, 2]  # free once it is gone


def test_a_claim_is_held_by_one_process_at_a_time(tmp_path: Path) -> None:
    topics = tmp_path / "topics.csv"
    topics.write_text(TOPICS_CSV, encoding="utf-8")
    with figure_claim(topics) as mine:
        assert mine
        held_elsewhere = subprocess.run(
            [sys.executable, "-c", "import sys; from pathlib import Path; from runner.sweep_report import figure_claim\n"
             f"with figure_claim(Path({str(topics)!r})) as mine: sys.exit(0 if mine else 3)"], check=False)
        assert held_elsewhere.returncode == 3
    assert holder(topics, 0).wait() == 0  # released: another process gets it
    assert list(tmp_path.iterdir()) == [topics]  # nothing left behind
