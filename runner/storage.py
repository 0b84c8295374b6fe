"""Optuna storage: the default SQLite file, any SQLAlchemy URL, heartbeats and retries of dead trials."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from runner.config import mask_secrets
from runner.errors import UserError
from runner.races import retry_lost_race


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
    # workers started together on a new database race to write Optuna's schema-version rows
    return retry_lost_race(lambda: _rdb_storage(url, heartbeat_interval, grace_period, max_retry))


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
