"""Ctrl-C in a sweep: at once while a trial computes, after the write in progress everywhere else."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from mlflow.tracking import MlflowClient

from runner.interrupts import SweepInterrupts
from runner.sweep import Sweep
from runner.sweep_spec import load_spec


@pytest.fixture
def python_sigint_handler() -> Iterator[None]:
    """Python's own SIGINT handler, even when the test runner was started with SIGINT ignored."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.05)  # the handler runs in the main thread at its next bytecode


def test_outside_a_computation_ctrl_c_waits_for_the_next_check(python_sigint_handler: None) -> None:
    with SweepInterrupts() as interrupts:
        ctrl_c()  # a storage write, say: it must not be cut in two
        assert interrupts.requested
        with pytest.raises(KeyboardInterrupt):
            interrupts.check()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_computation_is_interrupted_at_once(python_sigint_handler: None) -> None:
    with SweepInterrupts() as interrupts, pytest.raises(KeyboardInterrupt):
        with interrupts.computing():
            ctrl_c()
            pytest.fail("Ctrl-C did not interrupt the computation")


def test_a_computation_does_not_start_after_ctrl_c(python_sigint_handler: None) -> None:
    with SweepInterrupts() as interrupts:
        ctrl_c()
        with pytest.raises(KeyboardInterrupt), interrupts.computing():
            pytest.fail("a computation started after Ctrl-C")


def test_a_forwarded_copy_of_ctrl_c_waits_too_but_a_later_second_one_interrupts_at_once(
        python_sigint_handler: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with SweepInterrupts() as interrupts:
        ctrl_c()
        ctrl_c()  # the launcher of workers=N forwards the terminal's Ctrl-C a moment later
        assert interrupts.requested
        monkeypatch.setattr(SweepInterrupts, "REPEAT_AFTER_S", 0.0)
        with pytest.raises(KeyboardInterrupt):
            ctrl_c()  # the user insists


def test_an_ignored_sigint_stays_ignored() -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # e.g. a background job of a shell script
    try:
        with SweepInterrupts() as interrupts:
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            ctrl_c()
            assert not interrupts.requested
    finally:
        signal.signal(signal.SIGINT, previous)


SWEEP = """
study: t
overrides: [dataset=lee, embedding=hashing]
params:
  clusterer.min_cluster_size: int(interval(5, 30))
objectives: {coherence_npmi: maximize}
sampler: {_target_: optuna.samplers.RandomSampler, seed: 0}
n_trials: 3
"""


def test_ctrl_c_while_a_trial_is_logged_keeps_the_trial_and_stops_the_sweep(
        tmp_path: Path, session_cache: Path, monkeypatch: pytest.MonkeyPatch, python_sigint_handler: None) -> None:
    spec_file = tmp_path / "t.yaml"
    spec_file.write_text(SWEEP, encoding="utf-8")
    output_dir = tmp_path / "outputs"
    sweep = Sweep(load_spec(str(spec_file), {}), [f"paths.output_dir={output_dir}", f"paths.cache_dir={session_cache}"])
    log_child = Sweep._log_child

    def log_child_interrupted(self: Sweep, *args: object) -> None:
        ctrl_c()  # Ctrl-C as the first trial's results go to MLflow
        log_child(self, *args)

    monkeypatch.setattr(Sweep, "_log_child", log_child_interrupted)
    with pytest.raises(KeyboardInterrupt):
        sweep.run()
    study = optuna.load_study(study_name="t", storage=f"sqlite:///{output_dir / 'optuna.db'}")
    assert [t.state.name for t in study.trials] == ["COMPLETE"]  # logged in full, and no second trial began
    client = MlflowClient(tracking_uri=f"sqlite:///{output_dir / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("t").experiment_id])
    statuses = {run.data.tags["topicsweep.role"]: run.info.status for run in runs}
    assert statuses == {"parent": "KILLED", "trial": "FINISHED"}
    child = next(run for run in runs if run.data.tags["topicsweep.role"] == "trial")
    assert child.data.tags["state"] == "COMPLETE" and "coherence_npmi" in child.data.metrics
