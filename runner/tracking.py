"""MLflow tracking through ``MlflowClient`` (explicit run ids, so parent/child runs stay simple).

Default store: SQLite under the output directory, with experiments whose artifacts also live
under the output directory (not ./mlruns). Any tracking URI (an MLflow server) works as well.
"""

from __future__ import annotations

import logging
import math
import subprocess
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from runner.config import mask_secrets
from runner.errors import UserError

PACKAGES = ("topicsweep", "bertopic", "umap-learn", "hdbscan", "scikit-learn", "sentence-transformers",
            "transformers", "torch", "gensim", "jieba", "optuna", "mlflow", "hydra-core", "numpy")
_PARAM_LIMIT = 6000
_BATCH = 100


def default_tracking_uri(output_dir: Path) -> str:
    """``sqlite:///<output_dir>/mlflow.db`` (absolute)."""
    return f"sqlite:///{(output_dir / 'mlflow.db').resolve()}"


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape results."""
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            continue
    return versions


def git_sha(directory: Path) -> str | None:
    """The commit checked out in ``directory``, if it is a git work tree."""
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


class MlflowTracker:
    """Logs runs to one MLflow experiment."""

    def __init__(self, uri: str | None, experiment: str, output_dir: Path) -> None:
        from mlflow.tracking import MlflowClient

        # MLflow announces its schema migrations at INFO level on every new store; keep the console quiet.
        logging.getLogger("mlflow").setLevel(logging.WARNING)
        self.uri = uri or default_tracking_uri(output_dir)
        if self.uri.startswith("sqlite:///"):
            output_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.client = MlflowClient(tracking_uri=self.uri)
            self.experiment_id = self._experiment(experiment, output_dir)
        except Exception as error:  # unreachable server, bad URI, missing driver: all fixable by the user
            detail = mask_secrets(str(error).strip().splitlines()[0]) if str(error).strip() else type(error).__name__
            raise UserError(f"cannot use MLflow tracking store {mask_secrets(self.uri)}: {detail}") from error

    def _experiment(self, name: str, output_dir: Path) -> str:
        from mlflow.exceptions import MlflowException

        found = self.client.get_experiment_by_name(name)
        if found is not None:
            return found.experiment_id
        local_store = not self.uri.startswith(("http://", "https://", "databricks"))
        location = (output_dir / "mlartifacts" / name).resolve().as_uri() if local_store else None
        try:
            return self.client.create_experiment(name, artifact_location=location)
        except MlflowException:  # created by a concurrent worker in the meantime
            return self.client.get_experiment_by_name(name).experiment_id

    def start(self, name: str, tags: Mapping[str, str], parent_id: str | None = None) -> str:
        """Create a run and return its id."""
        all_tags = {key: mask_secrets(str(value)) for key, value in tags.items()}
        if parent_id is not None:
            all_tags["mlflow.parentRunId"] = parent_id
        return self.client.create_run(self.experiment_id, run_name=name, tags=all_tags).info.run_id

    def find_or_create(self, name: str, identity: Mapping[str, str], tags: Mapping[str, str]) -> str:
        """The one run carrying the ``identity`` tags, created if absent; safe when workers race.

        Every worker that created one looks again; all agree on the oldest (then smallest id) and
        the others delete their own, so exactly one survives.
        """
        existing = self._runs_with(identity)
        if existing:
            return existing[0]
        created = self.start(name, {**tags, **identity})
        winner = self._runs_with(identity)[0]
        if winner != created:
            self.client.delete_run(created)
        return winner

    def _runs_with(self, tags: Mapping[str, str]) -> list[str]:
        query = " and ".join(f"tags.`{key}` = '{value}'" for key, value in tags.items())
        runs = self.client.search_runs([self.experiment_id], filter_string=query, max_results=1000)
        return [run.info.run_id for run in sorted(runs, key=lambda r: (r.info.start_time, r.info.run_id))]

    def children(self, parent_id: str) -> list[Any]:
        """Child runs of ``parent_id``."""
        return self.client.search_runs([self.experiment_id], filter_string=f"tags.`mlflow.parentRunId` = '{parent_id}'",
                                       max_results=50000)

    def log(self, run_id: str, params: Mapping[str, str] = {}, metrics: Mapping[str, float] = {},
            tags: Mapping[str, str] = {}) -> None:
        """Log params, metrics and tags in batches (values masked and truncated to MLflow's limits)."""
        from mlflow.entities import Metric, Param, RunTag

        stamp = _now_ms()
        param_list = [Param(k, mask_secrets(v)[:_PARAM_LIMIT]) for k, v in params.items()]
        metric_list = [Metric(k, float(v), stamp, 0) for k, v in metrics.items() if _is_number(v)]
        tag_list = [RunTag(k, mask_secrets(str(v))[:_PARAM_LIMIT]) for k, v in tags.items()]
        for chunk in _chunks(param_list):
            self.client.log_batch(run_id, params=chunk)
        for chunk in _chunks(metric_list):
            self.client.log_batch(run_id, metrics=chunk)
        for chunk in _chunks(tag_list):
            self.client.log_batch(run_id, tags=chunk)

    def log_artifacts(self, run_id: str, directory: Path, artifact_path: str | None = None) -> None:
        self.client.log_artifacts(run_id, str(directory), artifact_path)

    def finish(self, run_id: str, status: str = "FINISHED") -> None:
        self.client.set_terminated(run_id, status=status)


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), _BATCH):
        yield items[start:start + _BATCH]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isinf(value)


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)
