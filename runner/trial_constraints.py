"""Constraints and objective names as Optuna and optuna-dashboard read them, and the infeasibility warning.

optuna-dashboard (0.21) reads a trial's constraint values only from the system attribute
``constraints`` (a list, <= 0 feasible) to grey out infeasible trials and to draw the Pareto front
of feasible ones; Optuna reads that list too (``trial.constraints`` keys "0", "1", …), which
``study.best_trials`` and the constraint-aware samplers (TPE, NSGA-II, GP) use. Optuna's
``Trial.set_constraint`` writes named keys that the dashboard does not read, so the list is written
instead, in the sweep file's order of constraints (``topicsweep_spec["constraints"]``).
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from runner.selection import TrialRow, violations
from runner.sweep_spec import Constraint

CONSTRAINTS_ATTR = "constraints"  # optuna.study._constrained_optimization._CONSTRAINTS_KEY


def record_constraints(trial: Any, constraints: Sequence[Constraint], metrics: Mapping[str, float]) -> None:
    """Store the trial's constraint values (<= 0 is feasible) and, as user attribute ``violated``, what it broke
    (``["n_topics 41 > 30"]``, shown by the dashboard)."""
    values = [c.violation(metrics.get(c.metric, math.nan)) for c in constraints]
    if not values:
        return
    trial.storage.set_trial_system_attr(trial._trial_id, CONSTRAINTS_ATTR, values)
    broken = violations(metrics, constraints)
    if broken:
        trial.set_user_attr("violated", broken)


def name_objectives(study: Any, names: list[str]) -> None:
    """Name the objective values (optuna-dashboard's axes, ``trials_dataframe`` columns) unless already named."""
    import optuna

    if study.metric_names == names:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # experimental since Optuna 3.2
        study.set_metric_names(names)


def infeasible_warning(rows: Sequence[TrialRow], constraints: Sequence[Constraint]) -> str | None:
    """One line when more than half of the COMPLETE trials are infeasible, naming the most violated constraint."""
    infeasible = [r for r in rows if not r.feasible]
    if not rows or 2 * len(infeasible) <= len(rows):
        return None
    counts: Counter[Constraint] = Counter(c for r in infeasible for c in constraints
                                          if c.violation(r.metrics.get(c.metric, math.nan)) > 0)
    head = f"{len(infeasible)} of {len(rows)} complete trials are infeasible"
    if not counts:
        return f"{head}; the constraints they violated are no longer in the sweep file"
    worst, count = counts.most_common(1)[0]
    seen = [v for v in (r.metrics.get(worst.metric, math.nan) for r in infeasible)
            if not math.isnan(v) and worst.violation(v) > 0]
    observed = f" ({worst.metric} {min(seen):.3g} to {max(seen):.3g})" if seen else ""
    return (f"{head}: '{worst.describe()}' was violated by {count}{observed}; widen it under constraints, or make "
            f"the search ranges fit the corpus size with ${{frac:...}} (README, Sweeps)")
