"""Workers logging to one MLflow store at once: the corpus's dataset row is inserted by one, reused by the others."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.exceptions import MlflowException

from runner.data import load_lee_background
from runner.tracking import MlflowTracker

DUPLICATE = ('BAD_REQUEST: (psycopg.errors.UniqueViolation) duplicate key value violates unique constraint '
             '"dataset_pk"')


def tracker_whose_first_inserts_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: str,
                                     failures: int) -> tuple[MlflowTracker, list[int]]:
    tracker = MlflowTracker(None, tmp_path, experiment="race")
    real, calls = tracker.client.log_inputs, []

    def log_inputs(run_id: str, datasets: list) -> None:
        calls.append(1)
        if len(calls) <= failures:
            real(run_id, datasets=datasets)  # another worker's insert, then this one's collides with it
            raise MlflowException(error)
        real(run_id, datasets=datasets)

    monkeypatch.setattr(tracker.client, "log_inputs", log_inputs)
    return tracker, calls


def test_the_loser_of_the_dataset_race_logs_the_corpus_on_a_retry(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    tracker, calls = tracker_whose_first_inserts_fail(tmp_path, monkeypatch, DUPLICATE, failures=1)
    run_id = tracker.start("trial", {"topicsweep.role": "trial"})
    tracker.log_corpus(run_id, load_lee_background())
    assert len(calls) == 2
    inputs = tracker.client.get_run(run_id).inputs.dataset_inputs
    assert [i.dataset.name for i in inputs] == ["lee"]


def test_other_store_errors_are_not_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tracker, calls = tracker_whose_first_inserts_fail(tmp_path, monkeypatch, "RESOURCE_DOES_NOT_EXIST: no run",
                                                      failures=1)
    run_id = tracker.start("trial", {})
    with pytest.raises(MlflowException, match="RESOURCE_DOES_NOT_EXIST"):
        tracker.log_corpus(run_id, load_lee_background())
    assert len(calls) == 1
