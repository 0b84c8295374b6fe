"""New SQLite MLflow stores are copies of an empty store that MLflow made once per version."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from runner.store_template import seed_sqlite_store, templates_dir
from runner.tracking import MlflowTracker


def experiments(database: Path) -> list[tuple[int, str, str]]:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT experiment_id, name, artifact_location FROM experiments").fetchall()


def test_a_new_store_is_a_copy_of_the_template_and_works_as_mlflow_made_it(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    made_by_mlflow = tmp_path / "first"
    MlflowTracker(None, made_by_mlflow, experiment="study-a")  # the first store also makes the template
    templates = list(templates_dir().glob("mlflow-*.db"))
    assert len(templates) == 1 and experiments(templates[0]) == []  # no experiment to point at a wrong place

    seeded = tmp_path / "second"
    tracker = MlflowTracker(None, seeded, experiment="study-b")
    run_id = tracker.start("trial-000", {"state": "RUNNING"})
    tracker.log(run_id, params={"reducer.min_dist": "0.1"}, metrics={"coherence_npmi": 0.12}, tags={})
    tracker.finish(run_id)

    client = MlflowClient(f"sqlite:///{seeded / 'mlflow.db'}")
    run = client.get_run(run_id)
    assert run.data.metrics == {"coherence_npmi": 0.12} and run.info.status == "FINISHED"
    names = {name: location for _, name, location in experiments(seeded / "mlflow.db")}
    assert set(names) == {"Default", "study-b"}
    assert names["study-b"] == (seeded / "mlartifacts" / "study-b").resolve().as_uri()
    # MLflow made the "Default" experiment when it opened the copy, where it puts it in a store it made itself
    made = {name: location for _, name, location in experiments(made_by_mlflow / "mlflow.db")}
    assert names["Default"] == made["Default"]


def test_an_existing_store_is_never_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    tracker = MlflowTracker(None, tmp_path / "out", experiment="kept")
    tracker.finish(tracker.start("run", {}))
    database = tmp_path / "out" / "mlflow.db"
    assert seed_sqlite_store(f"sqlite:///{database}") is False
    assert "kept" in {name for _, name, _ in experiments(database)}
    assert seed_sqlite_store("postgresql://user:secret@127.0.0.1/mlflow") is False


def test_without_a_writable_cache_mlflow_creates_the_store_itself(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(not_a_folder))
    assert seed_sqlite_store(f"sqlite:///{tmp_path / 'out' / 'mlflow.db'}") is False
    tracker = MlflowTracker(None, tmp_path / "out", experiment="plain")
    tracker.finish(tracker.start("run", {}))
    assert {name for _, name, _ in experiments(tmp_path / "out" / "mlflow.db")} == {"Default", "plain"}
