"""Opening the Optuna storage: workers racing to create a new database, and errors that name the URL."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from sqlalchemy.exc import IntegrityError

from runner.errors import UserError
from runner.races import ATTEMPTS as CREATION_ATTEMPTS
from runner.storage import open_storage


class FlakyStorage:
    """RDBStorage that fails ``failures`` times as if another worker had just written Optuna's version rows."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self, url: str, **kwargs: object) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise IntegrityError("INSERT INTO alembic_version", {}, Exception("UNIQUE constraint failed"))
        return "storage"


def test_a_worker_that_loses_the_creation_race_opens_the_storage_on_a_retry(monkeypatch: pytest.MonkeyPatch,
                                                                             tmp_path: Path) -> None:
    flaky = FlakyStorage(failures=CREATION_ATTEMPTS - 1)
    monkeypatch.setattr(optuna.storages, "RDBStorage", flaky)
    assert open_storage(f"sqlite:///{tmp_path / 'optuna.db'}", 60, 120, 1) == "storage"
    assert flaky.calls == CREATION_ATTEMPTS


def test_a_lasting_integrity_error_is_one_error_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    flaky = FlakyStorage(failures=CREATION_ATTEMPTS)
    monkeypatch.setattr(optuna.storages, "RDBStorage", flaky)
    with pytest.raises(UserError, match=r"cannot open Optuna storage sqlite:///.*UNIQUE constraint failed"):
        open_storage(f"sqlite:///{tmp_path / 'optuna.db'}", 60, 120, 1)
    assert flaky.calls == CREATION_ATTEMPTS


def test_other_errors_are_not_retried_and_never_show_the_password() -> None:
    with pytest.raises(UserError) as raised:
        open_storage("postgresql://user:secret@127.0.0.1:1/none", 60, 120, 1)
    assert "secret" not in str(raised.value) and "user:***@127.0.0.1:1" in str(raised.value)


def test_a_real_sqlite_storage_opens_twice_on_the_same_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'optuna.db'}"
    first = open_storage(url, 60, 120, 1)
    optuna.create_study(study_name="s", storage=first)
    second = open_storage(url, 60, 120, 1)
    assert [s.study_name for s in optuna.get_all_study_summaries(second)] == ["s"]
