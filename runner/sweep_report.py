"""What a sweep leaves in MLflow: the parent's trial and Pareto tables and chosen config, and the trials'
topic figures (the parent's report.html, with every plot, comes from :mod:`runner.report`)."""

from __future__ import annotations

import contextlib
import fcntl
import math
import socket
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.names import is_diagnostic
from runner.outputs import read_topic_rows
from runner.selection import TrialRow
from runner.tables import csv_text

if TYPE_CHECKING:
    from runner.sweep import Sweep


def table_columns(rows: Sequence[TrialRow], objectives: Sequence[str]) -> list[str]:
    """trial, params, objectives, then the headline metrics, then feasibility."""
    params = sorted({k for row in rows for k in row.params})
    extra = [m for m in ("n_topics", "outlier_ratio", "coherence_npmi", "coherence_cv", "diversity", "nmi", "ari")
             if m not in objectives and any(m in row.metrics for row in rows)]
    return ["trial", *params, *objectives, *extra, "feasible"]


def table_rows(rows: Sequence[TrialRow]) -> list[dict[str, Any]]:
    """Flat dicts for tables (None for undefined metrics)."""
    return [{"trial": r.number, **r.params, **{k: (None if math.isnan(v) else v) for k, v in r.metrics.items()},
             "feasible": r.feasible} for r in rows]


def log_parent(sweep: Sweep, rows: list[TrialRow], pareto: list[TrialRow], chosen: TrialRow | None) -> None:
    """Tables, chosen config, best metrics and Pareto/best tags on the children (the report: :meth:`Sweep.finish`)."""
    tracker, parent = sweep.tracker, sweep.parent_run_id
    objectives = list(sweep.spec.objectives)
    columns = table_columns(rows, objectives)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "trials.csv").write_text(csv_text(table_rows(rows), columns), encoding="utf-8")
        (folder / "pareto.csv").write_text(csv_text(table_rows(pareto), columns), encoding="utf-8")
        if chosen is not None:
            trial = sweep.study.trials[chosen.number]
            (folder / "best_config.yaml").write_text(trial.user_attrs.get("config", ""), encoding="utf-8")
        tracker.log_artifacts(parent, folder)
    summary = {"n_complete": float(len(rows)), "n_feasible": float(sum(r.feasible for r in rows)),
               "n_pareto": float(len(pareto))}
    if chosen is not None:
        summary.update({f"best_{k}": v for k, v in chosen.metrics.items()
                        if not k.endswith("_sd") and not is_diagnostic(k)})
    tracker.log(parent, metrics=summary, tags={"best_trial": str(chosen.number) if chosen else "none"})
    pareto_numbers = {r.number for r in pareto}
    for run in tracker.children(parent):
        number = run.data.tags.get("topicsweep.trial")
        if number is None or not number.isdigit():
            continue
        flags = {"pareto": str(int(number) in pareto_numbers).lower(),
                 "best": str(chosen is not None and int(number) == chosen.number).lower()}
        changed = {key: value for key, value in flags.items() if run.data.tags.get(key) != value}
        if changed:  # trials are logged with both flags false: most runs need no request here
            tracker.log(run.info.run_id, tags=changed)


def add_trial_figures(sweep: Sweep, numbers: Sequence[int] | None = None, limit: int | None = None) -> int:
    """Render topics.png for finished trials on this host that lack one and attach it to their child runs.

    Trials skip the figure while the sweep runs (rendering costs about as much as a cheap trial's
    topics). Every worker on this host draws them once it has no trial left to start, whichever
    worker ran the trial: each figure is claimed first (:func:`figure_claim`), so two workers do not
    draw the same one, and the figure a worker was drawing when it died is drawn by the next to look.

    Args:
        sweep: The sweep whose trials to look at.
        numbers: Only these trials, in this order (None: every trial, by number).
        limit: Stop after drawing this many.

    Returns:
        How many figures this call added.
    """
    from optuna.trial import TrialState

    from runner.plots import topic_overview

    host, added = socket.gethostname(), 0
    by_number = {t.number: t for t in sweep.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))}
    for number in sorted(by_number) if numbers is None else numbers:
        trial = by_number.get(number)
        if trial is None or (limit is not None and added >= limit):
            continue
        run_id = trial.user_attrs.get("mlflow_run_id")
        if run_id is None or str(trial.user_attrs.get("worker", "")).rpartition(":")[0] != host:
            continue
        folder = sweep.trial_dir(number)
        if (folder / "topics.png").exists() or not (folder / "topics.csv").is_file():
            continue
        with figure_claim(folder / "topics.csv") as mine:
            if not mine or (folder / "topics.png").exists():  # another worker has it, or had it
                continue
            if topic_overview(read_topic_rows(folder / "topics.csv"), folder / "topics.png") is not None:
                sweep.tracker.log_artifact(run_id, folder / "topics.png")
                added += 1
    return added


@contextlib.contextmanager
def figure_claim(topics_csv: Path) -> Iterator[bool]:
    """Whether this process may draw the figure of these topics: True while it holds the file's exclusive lock.

    The same kind of lock as the cache's entries (:class:`runner.cache.Cache`), taken without
    waiting: the kernel releases it when its process ends, however it ends, so a dead worker's
    figure is free for the next. On a filesystem without locks every caller draws (the figure is
    written atomically).
    """
    with open(topics_csv, "rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another worker is drawing it
            yield False
            return
        except OSError:  # no locks on this filesystem
            pass
        yield True
