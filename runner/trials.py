"""``topicsweep trials``: every trial of a study as one table row, outside any UI.

A row holds the trial number, its state, the searched parameters, the headline metrics
(:data:`runner.names.HEADLINE_METRICS`, objectives first), whether it is feasible, on the
(feasible) Pareto front and the chosen trial, and a note: why it failed, why it is infeasible, or
why its metrics are undefined. Feasibility, Pareto front and choice are computed as ``topicsweep
sweep`` and ``topicsweep best`` do, from the sweep definition stored with the study.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runner.errors import UserError
from runner.names import HEADLINE_METRICS
from runner.selection import choose, pareto_front, violations
from runner.sweep import trial_rows
from runner.sweep_spec import Constraint, spec_constraints, spec_select, stored_spec
from runner.tables import cell, csv_text, latex, markdown

FORMATS = ("table", "csv", "md", "tex")
FLAGS = ("feasible", "pareto", "chosen")


@dataclass(frozen=True)
class TrialsView:
    """The rows of ``topicsweep trials`` with raw values (full precision), their column order, the metric
    columns and which of them are objectives."""

    study: str
    columns: list[str]
    rows: list[dict[str, Any]]
    metrics: list[str]
    objectives: list[str]


def trials_view(study: Any, sort: str | None = None, feasible_only: bool = False) -> TrialsView:
    """One row per trial of ``study`` (every state), optionally sorted and limited to feasible COMPLETE trials.

    Raises:
        UserError: The study was not made by ``topicsweep sweep``, or ``sort`` names no metric of the table.
    """
    from optuna.trial import TrialState

    spec = stored_spec(study)
    objectives: dict[str, str] = dict(spec["objectives"])
    constraints = spec_constraints(spec)
    trials = study.get_trials(deepcopy=False)
    complete = trial_rows(study)
    pareto = {r.number for r in pareto_front([r for r in complete if r.feasible] or complete, objectives)}
    chosen = choose(complete, objectives, spec_select(spec))

    params = [*spec.get("params", {})]
    params += sorted({k for t in trials for k in t.params} - set(params))
    present = {k for t in trials for k in t.user_attrs.get("metrics", {})}
    metrics = [m for m in objectives if m in present]
    metrics += [m for m in HEADLINE_METRICS if m in present and m not in metrics]
    rows = []
    for trial in trials:
        row: dict[str, Any] = {"trial": trial.number, "state": trial.state.name}
        row.update({k: _param(trial.params[k]) for k in params if k in trial.params})
        values = trial.user_attrs.get("metrics", {})
        row.update({m: values[m] for m in metrics if values.get(m) is not None})
        if trial.state == TrialState.COMPLETE:
            row.update(feasible=bool(trial.user_attrs.get("feasible", True)), pareto=trial.number in pareto,
                       chosen=chosen is not None and trial.number == chosen.number)
        row["note"] = _note(trial, row.get("feasible", True), constraints)
        rows.append(row)
    if feasible_only:
        rows = [r for r in rows if r.get("feasible")]
    if sort is not None:
        rows = _sorted(rows, sort, metrics, objectives)
    return TrialsView(study.study_name, ["trial", "state", *params, *metrics, *FLAGS, "note"], rows, metrics,
                      [m for m in objectives if m in metrics])


def render(view: TrialsView, fmt: str) -> str:
    """The view as CSV (full precision), Markdown or LaTeX (numbers as every exported table shows them)."""
    if fmt == "csv":
        return csv_text(view.rows, view.columns)
    shown = display_rows(view)
    if fmt == "md":
        return markdown(shown, view.columns)
    if fmt == "tex":
        return latex(shown, view.columns, f"Trials of study {view.study}")
    raise UserError(f"unknown format '{fmt}'; formats: {', '.join(FORMATS)}")


def display_rows(view: TrialsView) -> list[dict[str, str]]:
    """Rows as text, formatted once for every human-readable format (:func:`runner.tables.cell`)."""
    return [{column: cell(row.get(column)) for column in view.columns} for row in view.rows]


def optional_columns(view: TrialsView) -> list[str]:
    """Columns a narrow terminal may leave out, first to last: the metrics that are not objectives (last
    first), then the note."""
    return [*(m for m in reversed(view.metrics) if m not in view.objectives), "note"]


def summary(view: TrialsView) -> str:
    """``study 't': 6 trials, 4 COMPLETE (3 feasible), 2 FAIL``."""
    states: dict[str, int] = {}
    for row in view.rows:
        states[row["state"]] = states.get(row["state"], 0) + 1
    parts = [f"{count} {state}" + (f" ({sum(bool(r.get('feasible')) for r in view.rows)} feasible)"
                                   if state == "COMPLETE" else "") for state, count in states.items()]
    return f"study '{view.study}': {len(view.rows)} trials" + (f", {', '.join(parts)}" if parts else "")


def _param(value: Any) -> Any:
    """Sampled values as the sweep file writes them (None → ``null``, e.g. ``topics.nr_topics``)."""
    return "null" if value is None else value


def _note(trial: Any, feasible: bool, constraints: Sequence[Constraint]) -> str:
    """Why a trial failed, is infeasible or has undefined metrics (empty when nothing is to say)."""
    attrs = trial.user_attrs
    notes = [str(attrs["fail_reason"])] if attrs.get("fail_reason") else []
    if not feasible:
        broken = violations(attrs.get("metrics", {}), constraints) or list(attrs.get("violated", []))
        notes.append("infeasible" + (f": {'; '.join(broken)}" if broken else ""))
    if attrs.get("degenerate"):
        notes.append(str(attrs["degenerate"]))
    return "; ".join(notes)


def _sorted(rows: list[dict[str, Any]], sort: str, metrics: Sequence[str],
            objectives: Mapping[str, str]) -> list[dict[str, Any]]:
    metric, _, order = sort.partition(":")
    if metric not in metrics:
        raise UserError(f"cannot sort by '{metric}': the trials have no such metric; "
                        f"sort by one of: {', '.join(metrics) or 'none (no trial has metrics yet)'}")
    if order not in ("", "asc", "desc"):
        raise UserError(f"--sort {sort}: the order after ':' must be asc or desc")
    descending = order == "desc" or (not order and objectives.get(metric, "maximize") == "maximize")
    known = [r for r in rows if _number(r.get(metric)) is not None]
    unknown = [r for r in rows if _number(r.get(metric)) is None]
    known.sort(key=lambda r: (-r[metric] if descending else r[metric], r["trial"]))
    return known + unknown


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None
