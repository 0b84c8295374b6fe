"""``topicsweep run``: one pipeline run, written to a run directory and logged to MLflow."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig

from runner.config import flatten
from runner.outputs import write_run_dir
from runner.pipeline import CACHED_STAGES, RunResult, Session
from runner.tracking import MlflowTracker, git_sha, package_versions


@dataclass(frozen=True)
class RunRecord:
    """Where a finished run can be found."""

    result: RunResult
    run_dir: Path
    mlflow_run_id: str | None
    tracking_uri: str | None


def run_name(cfg: DictConfig, dataset: str) -> str:
    """``run_name`` from the config, else ``<dataset>-<YYYYmmdd-HHMMSS>`` (``dataset``: the loaded corpus's name)."""
    name = cfg.run_name or f"{dataset}-{time.strftime('%Y%m%d-%H%M%S')}"
    return re.sub(r"[^\w.\-]+", "_", str(name))


def unique_dir(parent: Path, name: str) -> Path:
    """``parent/name``, or ``parent/name-2``, ``-3``… when taken."""
    candidate, counter = parent / name, 2
    while candidate.exists():
        candidate, counter = parent / f"{name}-{counter}", counter + 1
    return candidate


def run_tags(cfg: DictConfig, result: RunResult) -> dict[str, str]:
    """Tags every TopicSweep run carries: dataset identity, code version, package versions, cache use."""
    tags = {
        "dataset": result.corpus.name,
        "dataset_hash": result.corpus.content_hash,
        "n_documents": str(len(result.corpus)),
        **{f"version.{package}": v for package, v in package_versions().items()},
        **{f"cache.{stage}": "hit" if hit else "miss" for stage, hit in result.cache_hits.items()},
        "embedding_used": json.dumps(result.embedding, sort_keys=True),  # tells a fallback model apart
        **{f"figures_skipped.{name}": reason for name, reason in result.figures_skipped.items()},
    }
    sha = git_sha(Path.cwd())
    if sha:
        tags["git_sha"] = sha
    return tags


def run_metrics(result: RunResult) -> dict[str, float]:
    """Metrics plus stage timings (``time_<stage>_s``) and cache hits (``cache_hit_<stage>``), all plain names
    (the tracker logs the diagnostics among them under :data:`runner.names.DIAGNOSTIC_PREFIX`)."""
    metrics = dict(result.metrics)
    metrics.update({f"time_{stage}_s": seconds for stage, seconds in result.timings.items()})
    metrics.update({f"cache_hit_{stage}": float(result.cache_hits.get(stage, False)) for stage in CACHED_STAGES})
    return metrics


def execute_run(cfg: DictConfig, session: Session) -> RunRecord:
    """Run the pipeline, write the run directory and log the run to MLflow (when enabled).

    The tracking store is opened first, so a wrong tracking URI fails before any computation; the
    run goes to experiment ``tracking.experiment``, or else to the one named after the corpus, with
    the pipeline's real start and end times.
    """
    tracker = MlflowTracker(cfg.tracking.uri, Path(cfg.paths.output_dir)) if cfg.tracking.enabled else None
    started = time.time()
    result = session.run(cfg)
    run_dir = write_run_dir(unique_dir(Path(cfg.paths.runs_dir), run_name(cfg, result.corpus.name)), cfg, result)
    if tracker is None:
        return RunRecord(result, run_dir, None, None)
    tracker.use_experiment(cfg.tracking.get("experiment") or result.corpus.name)
    run_id = tracker.start(run_dir.name, run_tags(cfg, result), start_time=started)
    tracker.log_corpus(run_id, result.corpus)
    tracker.log(run_id, params=flatten(cfg), metrics=run_metrics(result))
    tracker.log_artifacts(run_id, run_dir)
    tracker.finish(run_id)
    return RunRecord(result, run_dir, run_id, tracker.uri)
