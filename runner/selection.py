"""Feasibility, Pareto front and the rule that picks one trial (pure functions over trial rows)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runner.sweep_spec import Constraint, SelectRule


@dataclass(frozen=True)
class TrialRow:
    """One finished trial as the selection sees it."""

    number: int
    params: Mapping[str, Any]
    metrics: Mapping[str, float]
    feasible: bool


def is_feasible(metrics: Mapping[str, float], constraints: Sequence[Constraint]) -> bool:
    """All constraints hold (a missing or nan metric violates its constraint)."""
    return all(c.violation(metrics.get(c.metric, math.nan)) <= 0 for c in constraints)


def violations(metrics: Mapping[str, float | None], constraints: Sequence[Constraint]) -> list[str]:
    """What the constraints that fail say about the values: ``["n_topics 2 < 3", "outlier_ratio undefined"]``."""
    broken = []
    for constraint in constraints:
        value = metrics.get(constraint.metric)
        value = math.nan if value is None else value
        if constraint.violation(value) <= 0:
            continue
        if math.isnan(value):
            broken.append(f"{constraint.metric} undefined")
        elif value < constraint.low:
            broken.append(f"{constraint.metric} {value:.4g} < {constraint.low:g}")
        else:
            broken.append(f"{constraint.metric} {value:.4g} > {constraint.high:g}")
    return broken


def pareto_front(rows: Sequence[TrialRow], objectives: Mapping[str, str]) -> list[TrialRow]:
    """Trials that no other trial dominates (better or equal everywhere, better somewhere)."""
    oriented = [(row, _oriented_by(row, list(objectives), objectives)) for row in rows]
    front = []
    for row, mine in oriented:
        dominated = any(all(o >= m for o, m in zip(other, mine)) and other != mine for _, other in oriented)
        if not dominated:
            front.append(row)
    return sorted(front, key=lambda r: r.number)


def choose(rows: Sequence[TrialRow], objectives: Mapping[str, str], rule: SelectRule) -> TrialRow | None:
    """The trial to export: from the feasible Pareto front when any trial is feasible, else from all."""
    candidates = [r for r in rows if r.feasible] or list(rows)
    if not candidates:
        return None
    front = pareto_front(candidates, objectives)
    if rule.rule == "weighted":
        return max(front, key=lambda r: (weighted_score(r, objectives, rule.weights), -r.number))
    return max(front, key=lambda r: (*_oriented_by(r, rule.order, objectives), -r.number))


def weighted_score(row: TrialRow, objectives: Mapping[str, str], weights: Mapping[str, float]) -> float:
    """Σ weight × metric, with minimised objectives entering negatively (nan = -inf)."""
    total = 0.0
    for metric, weight in weights.items():
        value = row.metrics.get(metric, math.nan)
        if math.isnan(value):
            return -math.inf
        total += weight * (-value if objectives.get(metric) == "minimize" else value)
    return total


def _oriented_by(row: TrialRow, order: Sequence[str], objectives: Mapping[str, str]) -> tuple[float, ...]:
    """Metric values in ``order``, turned so that larger is better (nan = worst)."""
    values = []
    for metric in order:
        value = row.metrics.get(metric, math.nan)
        value = -math.inf if math.isnan(value) else value
        values.append(-value if objectives.get(metric) == "minimize" else value)
    return tuple(values)
