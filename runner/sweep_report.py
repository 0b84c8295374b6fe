"""What a sweep leaves in its MLflow parent run: trial and Pareto tables, Optuna plots, the chosen config."""

from __future__ import annotations

import logging
import math
import tempfile
from functools import partial
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.selection import TrialRow
from runner.tables import csv_text

if TYPE_CHECKING:
    from runner.sweep import Sweep

log = logging.getLogger(__name__)


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
    """Tables, plots, chosen config, best metrics and Pareto/best tags on the children."""
    tracker, parent = sweep.tracker, sweep.parent_run_id
    objectives = list(sweep.spec.objectives)
    columns = table_columns(rows, objectives)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "trials.csv").write_text(csv_text(table_rows(rows), columns), encoding="utf-8")
        (folder / "pareto.csv").write_text(csv_text(table_rows(pareto), columns), encoding="utf-8")
        _write_plots(sweep.study, objectives, folder)
        if chosen is not None:
            trial = sweep.study.trials[chosen.number]
            (folder / "best_config.yaml").write_text(trial.user_attrs.get("config", ""), encoding="utf-8")
        tracker.log_artifacts(parent, folder)
    summary = {"n_complete": float(len(rows)), "n_feasible": float(sum(r.feasible for r in rows)),
               "n_pareto": float(len(pareto))}
    if chosen is not None:
        summary.update({f"best_{k}": v for k, v in chosen.metrics.items() if not k.endswith("_sd")})
    tracker.log(parent, metrics=summary, tags={"best_trial": str(chosen.number) if chosen else "none"})
    pareto_numbers = {r.number for r in pareto}
    for run in tracker.children(parent):
        number = run.data.tags.get("topicsweep.trial")
        if number is None or not number.isdigit():
            continue
        tracker.log(run.info.run_id, tags={"pareto": str(int(number) in pareto_numbers).lower(),
                                           "best": str(chosen is not None and int(number) == chosen.number).lower()})


def _write_plots(study: Any, objectives: list[str], folder: Path) -> None:
    """Optuna's optimisation history (per objective), Pareto front and parameter importances as HTML."""
    import optuna
    from optuna.trial import TrialState

    finite = [t for t in study.get_trials(states=(TrialState.COMPLETE,)) if all(map(math.isfinite, t.values))]
    if len(finite) < 2:
        return
    view = optuna.create_study(directions=[d.name.lower() for d in study.directions])
    view.add_trials(finite)
    viz = optuna.visualization
    plots = []
    for index, metric in enumerate(objectives):
        target = partial(_value_at, index=index) if len(objectives) > 1 else None
        plots.append((f"history_{metric}.html",
                      partial(viz.plot_optimization_history, view, target=target, target_name=metric)))
        plots.append((f"importance_{metric}.html",
                      partial(viz.plot_param_importances, view, target=target, target_name=metric)))
    if len(objectives) > 1:
        plots.append(("pareto_front.html", partial(viz.plot_pareto_front, view, target_names=objectives)))
    for name, make in plots:
        try:
            make().write_html(folder / name, include_plotlyjs=True)
        except (ValueError, RuntimeError) as error:  # e.g. importances need varied parameters
            log.info("skipped %s: %s", name, error)


def _value_at(trial: Any, index: int) -> float:
    return trial.values[index]
