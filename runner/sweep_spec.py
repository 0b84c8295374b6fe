"""Sweep files (``sweeps/NAME.yaml``): read, validate and turn into Optuna distributions.

The search space uses Hydra's sweep grammar (``choice``, ``range``, ``interval``, ``int(...)``,
``tag(log, ...)``), parsed with Hydra's own override parser. ``null`` inside ``choice(...)`` (which
Hydra's parser refuses) means None, so nullable parameters such as ``topics.nr_topics`` can be
searched; ``none`` stays the string "none" (``topics.outliers.strategy: choice(none, embeddings)``),
which ``topics.nr_topics`` also reads as None.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from runner.errors import UserError

KNOWN_METRICS = ("n_topics", "outlier_ratio", "outlier_ratio_before_reduction", "largest_topic_share", "diversity",
                 "irbo", "coherence_npmi", "coherence_cv", "coherence_umass", "coherence_uci",
                 "coherence_missing_words", "coherence_unscored_topics", "nmi", "ari")
DIRECTIONS = ("maximize", "minimize")
SPEC_KEYS = ("study", "overrides", "params", "objectives", "constraints", "select", "sampler", "pruner", "n_trials",
             "timeout", "storage", "seeds", "heartbeat_interval", "grace_period", "max_retry", "workers",
             "reducer_budget", "max_failures_in_a_row")
_NULL_SENTINEL = "__topicsweep_null__"
_BOUND = re.compile(r"^\s*(<=|>=|<|>)\s*(-?[\d.eE+\-]+)\s*$")


@dataclass(frozen=True)
class Constraint:
    """``low <= metric <= high`` (either bound may be open)."""

    metric: str
    low: float = -math.inf
    high: float = math.inf

    def violation(self, value: float) -> float:
        """Optuna's convention: <= 0 is feasible; nan counts as violated by 1."""
        if value is None or math.isnan(value):
            return 1.0
        return max(self.low - value, value - self.high)

    def describe(self) -> str:
        if math.isinf(self.low):
            return f"{self.metric} <= {self.high:g}"
        if math.isinf(self.high):
            return f"{self.metric} >= {self.low:g}"
        return f"{self.low:g} <= {self.metric} <= {self.high:g}"


@dataclass(frozen=True)
class SelectRule:
    """How one trial is picked from the feasible Pareto set: a weighted score or lexicographic order."""

    rule: str
    weights: dict[str, float] = field(default_factory=dict)
    order: tuple[str, ...] = ()


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep file plus command-line changes.

    Attributes:
        name: Sweep file name (``sweeps/NAME.yaml``).
        study: Optuna study name.
        overrides: Base Hydra overrides applied to every trial.
        params: Parameter path (or config group) to its Hydra sweep expression.
        objectives: Metric name to direction, in order.
        constraints: Bounds on metrics (infeasible trials stay in the study, flagged).
        select: Rule that picks the exported trial.
        sampler, pruner: ``_target_`` nodes (optuna.samplers / optuna.pruners).
        n_trials: Study-wide target of finished (COMPLETE) trials.
        timeout: Seconds after which this worker stops starting new trials (None = no limit).
        storage: SQLAlchemy URL of the Optuna storage (None = SQLite under the output directory).
        seeds: Evaluate each configuration over this many reducer seeds and optimise the mean.
        heartbeat_interval, grace_period: Seconds; a trial whose worker stopped beating for
            grace_period is failed and retried (up to max_retry times).
        workers: Worker processes started on this machine.
        reducer_budget: Most distinct reducer configurations fitted (None = no limit).
        max_failures_in_a_row: This worker stops after so many consecutive FAIL trials (a broken
            sweep file or base override would otherwise fail forever).
    """

    name: str
    study: str
    overrides: tuple[str, ...]
    params: dict[str, str]
    objectives: dict[str, str]
    constraints: tuple[Constraint, ...]
    select: SelectRule
    sampler: dict[str, Any]
    pruner: dict[str, Any] | None
    n_trials: int
    timeout: float | None
    storage: str | None
    seeds: int
    heartbeat_interval: int
    grace_period: int
    max_retry: int
    workers: int
    reducer_budget: int | float | None
    max_failures_in_a_row: int = 10

    def reducer_fits(self) -> int | None:
        """Most distinct reducer configurations the study may fit (None = no limit)."""
        if self.reducer_budget is None:
            return None
        if isinstance(self.reducer_budget, float):
            return max(1, math.ceil(self.reducer_budget * self.n_trials))
        return int(self.reducer_budget)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form, stored with the study so ``topicsweep best`` needs no sweep file."""
        return {
            "name": self.name, "study": self.study, "overrides": list(self.overrides), "params": self.params,
            "objectives": self.objectives, "seeds": self.seeds, "n_trials": self.n_trials,
            "constraints": [[c.metric, _finite_or_none(c.low), _finite_or_none(c.high)] for c in self.constraints],
            "select": {"rule": self.select.rule, "weights": self.select.weights, "order": list(self.select.order)},
        }


def sweeps_dir() -> Path:
    """``sweeps/`` beside the config directory."""
    from runner.config import config_dir

    return config_dir().parent / "sweeps"


def load_spec(name_or_path: str, cli_changes: dict[str, Any] | None = None) -> SweepSpec:
    """Read ``sweeps/NAME.yaml`` (or a path), apply command-line changes and validate everything.

    Raises:
        UserError: Missing file, unknown key, malformed expression, unknown metric, bad constraint.
    """
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = sweeps_dir() / f"{name_or_path}.yaml"
    if not path.is_file():
        available = ", ".join(sorted(p.stem for p in sweeps_dir().glob("*.yaml")))
        raise UserError(f"sweep file not found: {path} (available sweeps: {available})")
    try:
        raw = OmegaConf.load(path)
        if cli_changes:
            raw = OmegaConf.merge(raw, OmegaConf.create(cli_changes))
        data = OmegaConf.to_container(raw, resolve=True)
    except OmegaConfBaseException as error:
        raise UserError(f"cannot read sweep file {path}: {str(error).splitlines()[0]}") from error
    if not isinstance(data, dict):
        raise UserError(f"sweep file {path} must be a mapping of keys")
    unknown = sorted(set(data) - set(SPEC_KEYS))
    if unknown:
        raise UserError(f"unknown key '{unknown[0]}' in sweep file {path}; keys are: {', '.join(SPEC_KEYS)}")
    return _build(path, data)


def _build(path: Path, data: dict[str, Any]) -> SweepSpec:
    params = {str(k): str(v) for k, v in (data.get("params") or {}).items()}
    if not params:
        raise UserError(f"sweep file {path} has no params: nothing to search")
    for key, expression in params.items():
        distribution_of(key, expression)
    objectives = _objectives(path, data.get("objectives"))
    constraints = tuple(_constraint(path, metric, bound) for metric, bound in (data.get("constraints") or {}).items())
    seeds = int(data.get("seeds") or 1)
    if seeds < 1:
        raise UserError(f"seeds must be at least 1, not {seeds} ({path})")
    if seeds > 1 and "reducer.random_state" in params:
        raise UserError(f"{path}: seeds: {seeds} evaluates every config over {seeds} random_state values; "
                        "remove reducer.random_state from params (or set seeds: 1)")
    n_trials = int(data.get("n_trials") or 0)
    if n_trials < 1:
        raise UserError(f"n_trials must be at least 1, not {data.get('n_trials')} ({path})")
    budget = data.get("reducer_budget")
    if budget is not None and not (isinstance(budget, int) and budget >= 1 or isinstance(budget, float) and 0 < budget < 1):
        raise UserError(f"reducer_budget must be a count >= 1 or a fraction of n_trials in (0, 1), not {budget} ({path})")
    workers = int(data.get("workers") or 1)
    if workers < 1:
        raise UserError(f"workers must be at least 1, not {workers}")
    return SweepSpec(
        name=path.stem,
        study=str(data.get("study") or path.stem),
        overrides=tuple(str(o) for o in (data.get("overrides") or [])),
        params=params,
        objectives=objectives,
        constraints=constraints,
        select=_select(path, data.get("select"), objectives),
        sampler=data.get("sampler") or {"_target_": "optuna.samplers.TPESampler", "seed": 0},
        pruner=data.get("pruner"),
        n_trials=n_trials,
        timeout=float(data["timeout"]) if data.get("timeout") else None,
        storage=data.get("storage"),
        seeds=seeds,
        heartbeat_interval=int(data.get("heartbeat_interval") or 10),
        grace_period=int(data.get("grace_period") or 30),
        max_retry=int(data.get("max_retry") if data.get("max_retry") is not None else 3),
        workers=workers,
        reducer_budget=budget,
        max_failures_in_a_row=int(data.get("max_failures_in_a_row") or 10),
    )


def _objectives(path: Path, raw: Any) -> dict[str, str]:
    if not raw:
        raise UserError(f"sweep file {path} declares no objectives (e.g. objectives: {{coherence_npmi: maximize}})")
    if not isinstance(raw, dict):
        raise UserError(f"objectives in {path} must map metric names to maximize/minimize")
    for metric, direction in raw.items():
        _check_metric(path, metric, "objective")
        if direction not in DIRECTIONS:
            raise UserError(f"objective {metric} in {path} must be maximize or minimize, not '{direction}'")
    return {str(k): str(v) for k, v in raw.items()}


def _check_metric(path: Path, metric: str, role: str) -> None:
    if metric not in KNOWN_METRICS:
        raise UserError(f"{role} '{metric}' in {path} is not a metric; metrics are: {', '.join(KNOWN_METRICS)}")


def _constraint(path: Path, metric: str, bound: Any) -> Constraint:
    _check_metric(path, metric, "constraint")
    low, high = -math.inf, math.inf
    if isinstance(bound, str):
        match = _BOUND.match(bound)
        if not match:
            raise UserError(f"constraint {metric}: '{bound}' in {path} is not like '<= 0.35' or '>= 10'")
        operator, value = match.group(1), float(match.group(2))
        low, high = (value, math.inf) if operator.startswith(">") else (-math.inf, value)
    elif isinstance(bound, list) and len(bound) == 2:
        low, high = (-math.inf if bound[0] is None else float(bound[0])), (math.inf if bound[1] is None else float(bound[1]))
    elif isinstance(bound, dict) and set(bound) <= {"min", "max"}:
        low, high = float(bound.get("min", -math.inf)), float(bound.get("max", math.inf))
    else:
        raise UserError(f"constraint {metric} in {path} must be '<= x', '>= x', [low, high] or {{min:, max:}}")
    if low > high:
        raise UserError(f"contradictory constraint in {path}: {metric} >= {low:g} and <= {high:g} cannot both hold")
    return Constraint(metric, low, high)


def _select(path: Path, raw: Any, objectives: dict[str, str]) -> SelectRule:
    if not raw:
        return SelectRule("lexicographic", order=tuple(objectives))
    rule = raw.get("rule")
    if rule == "weighted":
        weights = {str(k): float(v) for k, v in (raw.get("weights") or {}).items()}
        if not weights:
            raise UserError(f"select: weighted in {path} needs weights, e.g. {{coherence_npmi: 1.0, diversity: 0.5}}")
        for metric in weights:
            _check_metric(path, metric, "select weight")
        return SelectRule("weighted", weights=weights)
    if rule == "lexicographic":
        order = tuple(str(m) for m in (raw.get("order") or objectives))
        for metric in order:
            _check_metric(path, metric, "select order")
        return SelectRule("lexicographic", order=order)
    raise UserError(f"select.rule in {path} must be weighted or lexicographic, not '{rule}'")


def distribution_of(key: str, expression: str) -> Any:
    """The Optuna distribution for one ``params`` entry (Hydra sweep grammar)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    text = re.sub(r"(?<![\w.])null(?![\w.])", _NULL_SENTINEL, expression)
    try:
        override = OverridesParser.create().parse_override(f"{key}={text}")
    except HydraException as error:
        message = str(error).replace(_NULL_SENTINEL, "null").splitlines()
        raise UserError(f"malformed sweep expression for {key}: '{expression}' ({message[-2] if len(message) > 1 else message[0]})") from error
    if not override.is_sweep_override():
        raise UserError(f"params.{key}: '{expression}' is a single value; use choice(...), range(...) or interval(...)")
    value = override.value()
    if override.is_choice_sweep():
        return CategoricalDistribution([_decode(v) for v in override.sweep_iterator()])
    if override.is_range_sweep():
        if any(isinstance(x, float) for x in (value.start, value.stop, value.step)):
            return CategoricalDistribution([_decode(v) for v in override.sweep_iterator()])
        start, stop, step = int(value.start), int(value.stop), int(value.step)
        if step < 1 or stop <= start:
            raise UserError(f"params.{key}: '{expression}' is empty; range(start, stop[, step]) needs start < stop")
        return IntDistribution(start, start + (stop - 1 - start) // step * step, step=step)
    log = "log" in value.tags
    if isinstance(value.start, int) and isinstance(value.end, int):
        return IntDistribution(value.start, value.end, log=log)
    return FloatDistribution(float(value.start), float(value.end), log=log)


def _decode(value: Any) -> Any:
    return None if value == _NULL_SENTINEL else value


def _finite_or_none(value: float) -> float | None:
    return None if math.isinf(value) else value


def check_params_exist(spec: SweepSpec, base: DictConfig, groups: set[str]) -> None:
    """Every ``params`` key must be a config group or an existing key of the composed config."""
    missing = object()
    for key in spec.params:
        if key in groups:
            continue
        if OmegaConf.select(base, key, default=missing) is missing:
            raise UserError(f"unknown parameter '{key}' in params of sweep '{spec.name}' (not a key of the composed "
                            f"config; see `topicsweep config`)")
