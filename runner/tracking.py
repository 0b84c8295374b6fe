"""MLflow tracking through ``MlflowClient`` (explicit run ids, so parent/child runs stay simple).

Default store: SQLite under the output directory, with experiments whose artifacts also live
under the output directory (not ./mlruns). Any tracking URI (an MLflow server) works as well.
Run start and end times are the real ones (a run is created after its pipeline, with the time the
pipeline started).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import re
import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.config import mask_secrets
from runner.errors import UserError
from runner.names import tracked_name
from runner.races import retry_lost_race
from runner.store_template import seed_sqlite_store

if TYPE_CHECKING:
    from runner.data import Corpus

PACKAGES = ("topicsweep", "bertopic", "umap-learn", "hdbscan", "scikit-learn", "sentence-transformers",
            "transformers", "torch", "gensim", "jieba", "optuna", "mlflow", "hydra-core", "numpy")
_PARAM_LIMIT = 6000
_BATCH = 100
_DIGEST_CHARS = 16
# MLflow 3's UI opens an experiment of this kind on its runs table (not the GenAI traces overview).
_KIND_TAG, _MODEL_TRAINING = "mlflow.experimentKind", "custom_model_development"


def default_tracking_uri(output_dir: Path) -> str:
    """``sqlite:///<output_dir>/mlflow.db`` (absolute)."""
    return f"sqlite:///{(output_dir / 'mlflow.db').resolve()}"


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape results (looked up once per process)."""
    return dict(_package_versions())


@functools.cache
def _package_versions() -> tuple[tuple[str, str], ...]:
    versions = []
    for package in PACKAGES:
        try:
            versions.append((package, version(package)))
        except PackageNotFoundError:
            continue
    return tuple(versions)


@functools.cache
def git_sha(directory: Path) -> str | None:
    """The commit checked out in ``directory``, if it is a git work tree (asked once per process and directory)."""
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


class MlflowTracker:
    """Logs runs to MLflow: the store is opened at once, the experiment chosen when its name is known.

    ``topicsweep sweep`` logs to one experiment per study and ``topicsweep run`` to one per corpus,
    unless ``tracking.experiment`` names one.
    """

    def __init__(self, uri: str | None, output_dir: Path, experiment: str | None = None) -> None:
        from mlflow.tracking import MlflowClient

        # MLflow announces its schema migrations at INFO level on every new store; keep the console quiet.
        logging.getLogger("mlflow").setLevel(logging.WARNING)
        self.uri = uri or default_tracking_uri(output_dir)
        self.output_dir = output_dir
        self.experiment_id: str | None = None
        if self.uri.startswith("sqlite:///"):
            output_dir.mkdir(parents=True, exist_ok=True)
            seed_sqlite_store(self.uri)
        with self._store_errors():
            self.client = MlflowClient(tracking_uri=self.uri)
            self.client.search_experiments(max_results=1)  # reach the store now, before any computation
        if experiment:
            self.use_experiment(experiment)

    @contextlib.contextmanager
    def _store_errors(self) -> Iterator[None]:
        """Unreachable server, bad URI, missing driver: all fixable by the user, so one ``error:`` line."""
        try:
            yield
        except Exception as error:
            detail = mask_secrets(str(error).strip().splitlines()[0]) if str(error).strip() else type(error).__name__
            raise UserError(f"cannot use MLflow tracking store {mask_secrets(self.uri)}: {detail}") from error

    def use_experiment(self, name: str) -> None:
        """Log the next runs to experiment ``name`` (created, with its artifacts under the output directory)."""
        with self._store_errors():
            self.experiment_id = self._experiment(name)

    def _experiment(self, name: str) -> str:
        from mlflow.exceptions import MlflowException

        found = self.client.get_experiment_by_name(name)
        if found is not None:
            if _KIND_TAG not in found.tags:
                self.client.set_experiment_tag(found.experiment_id, _KIND_TAG, _MODEL_TRAINING)
            return found.experiment_id
        local_store = not self.uri.startswith(("http://", "https://", "databricks"))
        folder = re.sub(r"[^\w.\-]+", "_", name)
        location = (self.output_dir / "mlartifacts" / folder).resolve().as_uri() if local_store else None
        try:
            return self.client.create_experiment(name, artifact_location=location, tags={_KIND_TAG: _MODEL_TRAINING})
        except MlflowException:  # created by a concurrent worker in the meantime
            return self.client.get_experiment_by_name(name).experiment_id

    def start(self, name: str, tags: Mapping[str, str], parent_id: str | None = None,
              start_time: float | None = None) -> str:
        """Create a run in the current experiment and return its id.

        Args:
            name: Run name.
            tags: Tags (values masked).
            parent_id: The parent run, for a sweep's trials.
            start_time: When the work began (seconds since the epoch); None = now.
        """
        all_tags = {key: mask_secrets(str(value)) for key, value in tags.items()}
        if parent_id is not None:
            all_tags["mlflow.parentRunId"] = parent_id
        started = None if start_time is None else int(start_time * 1000)
        return self.client.create_run(self.experiment_id, start_time=started, run_name=name,
                                      tags=all_tags).info.run_id

    def find_or_create(self, name: str, identity: Mapping[str, str], tags: Mapping[str, str]) -> str:
        """The one run carrying the ``identity`` tags, created if absent; safe when workers race or die.

        Every worker that created one looks again; all agree on the oldest (then smallest id) and
        the others are deleted, so exactly one survives. A duplicate left behind by a worker that
        died between creating its run and deleting it is removed by the next worker that looks (at
        its start and when it finishes), after its children are moved to the survivor.
        """
        existing = self._runs_with(identity)
        if not existing:
            self.start(name, {**tags, **identity})
            existing = self._runs_with(identity)
        return self._keep_oldest(existing)

    def _keep_oldest(self, run_ids: list[str]) -> str:
        """The first run id; every other run's children move to it, then that run is deleted."""
        from mlflow.exceptions import MlflowException

        winner, *duplicates = run_ids
        for duplicate in duplicates:
            for child in self.children(duplicate):
                self.client.set_tag(child.info.run_id, "mlflow.parentRunId", winner)
            try:
                self.client.delete_run(duplicate)
            except MlflowException:  # another worker deleted it a moment ago
                continue
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
        """Log params, metrics and tags in batches (values masked and truncated to MLflow's limits).

        Metrics are given under their plain names; diagnostics are logged under
        :data:`runner.names.DIAGNOSTIC_PREFIX` (see :func:`runner.names.tracked_name`).
        """
        from mlflow.entities import Metric, Param, RunTag

        stamp = _now_ms()
        param_list = [Param(k, mask_secrets(v)[:_PARAM_LIMIT]) for k, v in params.items()]
        metric_list = [Metric(tracked_name(k), float(v), stamp, 0) for k, v in metrics.items() if _is_number(v)]
        tag_list = [RunTag(k, mask_secrets(str(v))[:_PARAM_LIMIT]) for k, v in tags.items()]
        batches = [list(_chunks(param_list)), list(_chunks(metric_list)), list(_chunks(tag_list))]
        for index in range(max(map(len, batches))):  # one request carries up to 100 of each
            params_part, metrics_part, tags_part = (chunks[index] if index < len(chunks) else [] for chunks in batches)
            self.client.log_batch(run_id, metrics=metrics_part, params=params_part, tags=tags_part)

    def log_corpus(self, run_id: str, corpus: Corpus) -> None:
        """Record the corpus as the run's dataset input (the MLflow UI's Dataset column).

        MLflow stores a dataset once per experiment by looking it up and then inserting it; workers
        that log the same corpus at the same moment race on that insert, and the losers find the
        dataset in place when they try again.
        """
        datasets = [corpus_input(corpus)]
        retry_lost_race(lambda: self.client.log_inputs(run_id, datasets=datasets))

    def log_artifacts(self, run_id: str, directory: Path, artifact_path: str | None = None) -> None:
        self.client.log_artifacts(run_id, str(directory), artifact_path)

    def log_artifact(self, run_id: str, path: Path, artifact_path: str | None = None) -> None:
        self.client.log_artifact(run_id, str(path), artifact_path)

    def reopen(self, run_id: str) -> None:
        """Mark a run RUNNING again (a resumed sweep's parent)."""
        self.client.update_run(run_id, status="RUNNING")

    def finish(self, run_id: str, status: str = "FINISHED") -> None:
        """End a run now with ``status`` (FINISHED, FAILED or KILLED)."""
        self.client.set_terminated(run_id, status=status, end_time=_now_ms())


def corpus_input(corpus: Corpus) -> Any:
    """The corpus as an MLflow dataset input: its name, path, content hash and size, not its texts.

    The digest is the start of :attr:`Corpus.content_hash` (MLflow keeps 36 characters; the full
    hash is the ``dataset_hash`` tag); the profile holds the document count.
    """
    from mlflow.entities import Dataset, DatasetInput, InputTag
    from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

    columns = [{"type": "string", "name": "text", "required": True}]
    if corpus.labels is not None:
        columns.append({"type": "string", "name": "label", "required": True})
    dataset = Dataset(name=corpus.name, digest=corpus.content_hash[:_DIGEST_CHARS], source_type="local",
                      source=json.dumps({"uri": corpus.source}),
                      schema=json.dumps({"mlflow_colspec": columns}),
                      profile=json.dumps({"num_rows": len(corpus), "dropped_rows": corpus.dropped}))
    return DatasetInput(dataset, tags=[InputTag(MLFLOW_DATASET_CONTEXT, "train")])


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), _BATCH):
        yield items[start:start + _BATCH]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isinf(value)


def _now_ms() -> int:
    return int(time.time() * 1000)
