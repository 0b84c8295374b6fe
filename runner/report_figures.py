"""The figures of a sweep report (:mod:`runner.report`): the Pareto front drawn from the trials table, with
feasible and infeasible trials and the chosen one marked, and Optuna's optimisation history, parameter
importances and parallel coordinates, one per objective."""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from runner.tables import cell
from runner.trials import TrialsView

log = logging.getLogger(__name__)

# (legend name, colour, marker symbol, marker size), drawn in this order so the chosen trial is on top.
_KINDS = {"infeasible": ("infeasible", "#9e9e9e", "x", 8), "feasible": ("feasible", "#9ecae1", "circle", 9),
          "pareto": ("Pareto front", "#2171b5", "circle", 11), "chosen": ("chosen trial", "#d62728", "star", 18)}


@dataclass(frozen=True)
class Point:
    """A COMPLETE trial whose objective values are all defined."""

    number: int
    values: tuple[float, ...]
    kind: str
    hover: str


def pareto_points(view: TrialsView, objectives: Sequence[str]) -> tuple[list[Point], int]:
    """The COMPLETE trials of ``view`` as points, and how many were left out (an objective undefined)."""
    points, undefined = [], 0
    params = [c for c in view.columns[2:] if c not in view.metrics and c not in ("feasible", "pareto", "chosen", "note")]
    for row in view.rows:
        if row["state"] != "COMPLETE":
            continue
        values = tuple(row.get(m) for m in objectives)
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
            undefined += 1
            continue
        kind = ("chosen" if row.get("chosen") else "pareto" if row.get("pareto")
                else "feasible" if row.get("feasible") else "infeasible")
        lines = [f"<b>trial {row['trial']}</b> ({_KINDS[kind][0]})",
                 *(f"{p} = {cell(row[p])}" for p in params if p in row),
                 *(f"{m} = {cell(row[m])}" for m in view.metrics if m in row)]
        if row.get("note"):
            lines.append(str(row["note"]))
        points.append(Point(row["trial"], tuple(float(v) for v in values), kind, "<br>".join(lines)))
    return points, undefined


def pareto_figure(points: Sequence[Point], objectives: Mapping[str, str]) -> Any:
    """One scatter of the two objectives, or every pair of three or more (a lower-triangle grid)."""
    from plotly.subplots import make_subplots

    names = list(objectives)
    size = len(names) - 1
    figure = make_subplots(rows=size, cols=size, horizontal_spacing=0.08, vertical_spacing=0.08)
    for first, (x, y) in enumerate(itertools.combinations(range(len(names)), 2)):
        row, col = y, x + 1
        if len(names) == 2:
            _front_line(figure, points, x, y)
        for kind, (label, colour, symbol, marker_size) in _KINDS.items():
            chosen = [p for p in points if p.kind == kind]
            if not chosen:
                continue
            figure.add_scatter(x=[p.values[x] for p in chosen], y=[p.values[y] for p in chosen], mode="markers",
                               name=label, legendgroup=kind, showlegend=first == 0,
                               text=[p.hover for p in chosen], hovertemplate="%{text}<extra></extra>",
                               marker={"color": colour, "symbol": symbol, "size": marker_size,
                                       "line": {"width": 1, "color": "#333333"}}, row=row, col=col)
        figure.update_xaxes(title_text=_axis_title(names[x], objectives[names[x]]), row=row, col=col)
        figure.update_yaxes(title_text=_axis_title(names[y], objectives[names[y]]), row=row, col=col)
    figure.update_layout(template="plotly_white", margin={"t": 30, "l": 60, "r": 20, "b": 50},
                         legend={"orientation": "h", "y": 1.08}, hoverlabel={"align": "left"})
    return figure


def _front_line(figure: Any, points: Sequence[Point], x: int, y: int) -> None:
    front = sorted((p for p in points if p.kind in ("pareto", "chosen")), key=lambda p: p.values[x])
    if len(front) > 1:
        figure.add_scatter(x=[p.values[x] for p in front], y=[p.values[y] for p in front], mode="lines",
                           line={"color": "#2171b5", "dash": "dot", "width": 1}, hoverinfo="skip",
                           legendgroup="pareto", showlegend=False, row=1, col=1)


def _axis_title(metric: str, direction: str) -> str:
    return f"{metric} ({'higher' if direction == 'maximize' else 'lower'} is better)"


def optuna_figures(study: Any, objectives: Sequence[str]) -> tuple[dict[str, list[tuple[str, Any]]], list[str]]:
    """Optuna's optimisation history, parameter importances and parallel coordinates, per objective.

    Drawn from the COMPLETE trials whose objective values are all finite (an undefined metric is
    stored as ±inf). Returns the figures by kind (``history``, ``importances``, ``parallel``) as
    ``(heading, figure)`` pairs, and one line per figure that could not be drawn.
    """
    import optuna
    from optuna.trial import TrialState

    finite = [t for t in study.get_trials(states=(TrialState.COMPLETE,)) if all(map(math.isfinite, t.values))]
    figures: dict[str, list[tuple[str, Any]]] = {"history": [], "importances": [], "parallel": []}
    if len(finite) < 2:
        return figures, [f"Optuna's plots need two trials with defined objective values; this study has {len(finite)}"]
    directions = [d.name.lower() for d in study.directions]
    with _quiet_optuna():
        view = optuna.create_study(directions=directions)
        view.add_trials(finite)
    viz = optuna.visualization
    several = len(objectives) > 1
    plots = []
    for index, metric in enumerate(objectives):
        target = partial(_value_at, index=index) if several else None
        # With a target, Optuna's default evaluator (PED-ANOVA) explains *low* values: negate maximised ones.
        signed = partial(_value_at, index=index, sign=-1.0 if directions[index] == "maximize" else 1.0)
        plots += [("history", f"Optimisation history: {metric}",
                   partial(viz.plot_optimization_history, view, target=target, target_name=metric)),
                  ("importances", f"Parameter importances: {metric}",
                   partial(viz.plot_param_importances, view, target=signed if several else None, target_name=metric)),
                  ("parallel", f"Parallel coordinates: {metric}",
                   partial(viz.plot_parallel_coordinate, view, target=target, target_name=metric))]
    skipped = []
    for kind, heading, make in plots:
        try:
            with _quiet_optuna():
                figure = make()
        except (ValueError, RuntimeError, ZeroDivisionError) as error:  # e.g. importances need varied parameters
            skipped.append(f"{heading}: not drawn ({error})")
            log.info("skipped %s: %s", heading, error)
            continue
        figure.update_layout(title=None, template="plotly_white", margin={"t": 30})
        figures[kind].append((heading, figure))
    return figures, skipped


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Hide Optuna's experimental-feature and importance-estimation warnings and its info logs (an
    in-memory study created) for one call."""
    import optuna

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            warnings.filterwarnings("ignore", module=r"optuna(\.|$)")
            yield
    finally:
        optuna.logging.set_verbosity(verbosity)


def _value_at(trial: Any, index: int, sign: float = 1.0) -> float:
    return sign * trial.values[index]
