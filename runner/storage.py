"""Optuna storage: the default SQLite file, any SQLAlchemy URL, heartbeats and retries of dead trials."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

from runner.config import mask_secrets
from runner.errors import UserError


CREATION_ATTEMPTS = 3  # opening a new database races other workers creating Optuna's tables


def default_storage_url(output_dir: Path) -> str:
    """``sqlite:///<output_dir>/optuna.db`` (absolute, so every command finds the same file)."""
    return f"sqlite:///{(output_dir / 'optuna.db').resolve()}"


def shares_across_processes(url: str) -> bool:
    """Whether several worker processes may use this storage at once (SQLite may not)."""
    return not url.startswith("sqlite")


def open_storage(url: str, heartbeat_interval: int, grace_period: int, max_retry: int) -> Any:
    """An RDB storage with heartbeats (a trial whose worker died is failed and retried), or a journal file.

    ``journal:///path/optuna.log`` opens Optuna's JournalStorage on a file (several processes on one
    machine, no database server); it has no heartbeats, so workers fail and retry the trials of
    dead local workers themselves (see :meth:`runner.sweep.Sweep.run`).

    Raises:
        UserError: The URL cannot be opened (the message never shows the password).
    """
    if url.startswith("journal:///"):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        path = Path(url.removeprefix("journal://"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path)))
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    from sqlalchemy.exc import IntegrityError

    for _ in range(CREATION_ATTEMPTS - 1):
        try:
            return _rdb_storage(url, heartbeat_interval, grace_period, max_retry)
        except UserError as error:
            # Workers started at the same moment on a new database all write Optuna's schema version
            # rows; the losers of that race find the rows written when they try again.
            if not isinstance(error.__cause__, IntegrityError):
                raise
            time.sleep(0.5)
    return _rdb_storage(url, heartbeat_interval, grace_period, max_retry)


def _rdb_storage(url: str, heartbeat_interval: int, grace_period: int, max_retry: int) -> Any:
    from optuna.exceptions import ExperimentalWarning
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExperimentalWarning)  # heartbeats: stable in practice since Optuna 2.9
            return RDBStorage(
                url,
                heartbeat_interval=heartbeat_interval,
                grace_period=grace_period,
                heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=max_retry) if max_retry > 0 else None,
                engine_kwargs={"pool_pre_ping": True} if not url.startswith("sqlite") else None,
            )
    except Exception as error:  # missing driver, unreachable host, malformed URL: all fixable by the user
        detail = mask_secrets(str(error).splitlines()[0]) if str(error) else type(error).__name__
        raise UserError(f"cannot open Optuna storage {mask_secrets(url)}: {detail}") from error
