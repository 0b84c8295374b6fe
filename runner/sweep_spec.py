"""Sweep files (``sweeps/NAME.yaml``): read, validate and turn into Optuna distributions.

The search space uses Hydra's sweep grammar (``choice``, ``range``, ``interval``, ``int(...)``,
``tag(log, ...)``), parsed with Hydra's own override parser. ``null`` inside ``choice(...)`` (which
Hydra's parser refuses) means None, so nullable parameters such as ``topics.nr_topics`` can be
searched; ``none`` stays the string "none" (``topics.outliers.strategy: choice(none, embeddings)``),
which ``topics.nr_topics`` also reads as None.

``params`` and ``constraints`` may be relative to the corpus: ``${frac:0.005}`` is
``max(2, round(0.005 × documents))`` (halves rounded up). A spec holding such values is a template
until :meth:`SweepSpec.for_corpus` resolves it with the sweep's number of documents.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from runner.errors import UserError
from runner.models.base import SEED_KEYS

KNOWN_METRICS = ("n_topics", "outlier_ratio", "outlier_ratio_before_reduction", "largest_topic_share", "diversity",
                 "irbo", "coherence_npmi", "coherence_cv", "coherence_umass", "coherence_uci",
                 "coherence_missing_words", "coherence_unscored_topics", "nmi", "ari", "silhouette", "davies_bouldin")
DIRECTIONS = ("maximize", "minimize")
SPEC_KEYS = ("study", "study_name", "overrides", "params", "objectives", "constraints", "select", "sampler", "pruner",
             "n_trials", "timeout", "storage", "seeds", "heartbeat_interval", "grace_period", "max_retry", "workers",
             "reducer_budget", "max_failures_in_a_row")
_NULL_SENTINEL = "__topicsweep_null__"
_BOUND = re.compile(r"^\s*(<=|>=|<|>)\s*(-?[\d.eE+\-]+)\s*$")
_FRAC = re.compile(r"\$\{frac:([^}]*)\}")
RELATIVE_KEYS = ("params", "constraints")  # the only keys where ${frac:...} may appear


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
        workers: Worker processes on this machine (this one included); ``auto`` in the file = one per core.
        reducer_budget: Most distinct reducer configurations fitted (None = no limit).
        max_failures_in_a_row: This worker stops after so many consecutive FAIL trials (a broken
            sweep file or base override would otherwise fail forever).
        source: The sweep file's path.
        template: The validated sweep-file data when ``params`` or ``constraints`` hold
            ``${frac:...}`` (None otherwise); until :meth:`for_corpus`, such params keep their text
            and such constraints are left out.
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
    source: str = ""
    template: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    def for_corpus(self, n_documents: int) -> SweepSpec:
        """This spec with every ``${frac:f}`` replaced by ``max(2, round(f × n_documents))``.

        Raises:
            UserError: A range or constraint that is empty or contradictory for this corpus size.
        """
        if self.template is None:
            return self
        resolved = _substitute(self.template, n_documents)
        try:
            return _build(Path(self.source), resolved)
        except UserError as error:
            raise UserError(f"{error} (${{frac:...}} resolved for {n_documents} documents)") from error

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
            "sampler": self.sampler, "reducer_budget": self.reducer_budget,  # read by `topicsweep best`
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
        raw = _study_alias(OmegaConf.load(path), f"sweep file {path}")
        if cli_changes:
            raw = OmegaConf.merge(raw, _study_alias(OmegaConf.create(cli_changes), "the command line"))
        with _frac_kept_as_text():
            data = OmegaConf.to_container(raw, resolve=True)
    except OmegaConfBaseException as error:
        raise UserError(f"cannot read sweep file {path}: {str(error).splitlines()[0]}") from error
    if not isinstance(data, dict):
        raise UserError(f"sweep file {path} must be a mapping of keys")
    unknown = sorted(set(data) - set(SPEC_KEYS))
    if unknown:
        raise UserError(f"unknown key '{unknown[0]}' in sweep file {path}; keys are: {', '.join(SPEC_KEYS)}")
    return _build(path, data)


def _study_alias(raw: Any, where: str) -> Any:
    """``study_name`` (Optuna's word) is the same key as ``study``; both with different values is an error."""
    if not isinstance(raw, DictConfig) or "study_name" not in raw:
        return raw
    alias = raw.pop("study_name")
    if "study" in raw and raw.study != alias:
        raise UserError(f"{where} gives study={raw.study} and study_name={alias}: they are the same key; give one")
    raw.study = alias
    return raw


@contextmanager
def _frac_kept_as_text() -> Iterator[None]:
    """While resolving a sweep file, ``${frac:x}`` stays text: the corpus size is not known yet."""
    OmegaConf.register_new_resolver("frac", lambda value: f"${{frac:{value}}}", replace=True)
    try:
        yield
    finally:
        OmegaConf.clear_resolver("frac")


def _frac_texts(node: Any) -> Iterator[str]:
    """Every string under ``node`` that holds ``${frac:...}``."""
    if isinstance(node, dict):
        for value in node.values():
            yield from _frac_texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _frac_texts(value)
    elif isinstance(node, str) and _FRAC.search(node):
        yield node


def _has_frac(node: Any) -> bool:
    return next(_frac_texts(node), None) is not None


def frac_value(fraction: str, n_documents: int) -> int:
    """``${frac:fraction}`` for a corpus of ``n_documents``: round(fraction × n), halves up, at least 2."""
    try:
        share = float(fraction)
    except ValueError:
        share = math.nan
    if not share > 0:
        raise UserError(f"${{frac:{fraction}}} needs a positive fraction of the documents, e.g. ${{frac:0.005}}")
    return max(2, math.floor(share * n_documents + 0.5))


def _substitute(node: Any, n_documents: int) -> Any:
    """A copy of ``node`` with every ``${frac:f}`` replaced by its value for ``n_documents``."""
    if isinstance(node, dict):
        return {key: _substitute(value, n_documents) for key, value in node.items()}
    if isinstance(node, list):
        return [_substitute(value, n_documents) for value in node]
    if isinstance(node, str):
        return _FRAC.sub(lambda match: str(frac_value(match.group(1), n_documents)), node)
    return node


def _build(path: Path, data: dict[str, Any]) -> SweepSpec:
    misplaced = [key for key in data if key not in RELATIVE_KEYS and _has_frac(data[key])]
    if misplaced:
        raise UserError(f"${{frac:...}} in '{misplaced[0]}' of {path}: it works only in params and constraints")
    relative = any(_has_frac(data.get(key)) for key in RELATIVE_KEYS)
    for text in (t for key in RELATIVE_KEYS for t in _frac_texts(data.get(key))):
        for fraction in _FRAC.findall(text):
            frac_value(fraction, 1)  # a number > 0, whatever the corpus
    params = {str(k): str(v) for k, v in (data.get("params") or {}).items()}
    if not params:
        raise UserError(f"sweep file {path} has no params: nothing to search")
    for key, expression in params.items():
        if not _FRAC.search(expression):
            distribution_of(key, expression)
    objectives = _objectives(path, data.get("objectives"))
    constraints = tuple(_constraint(path, metric, bound) for metric, bound in (data.get("constraints") or {}).items()
                        if not _has_frac(bound))
    seeds = int(data.get("seeds") or 1)
    if seeds < 1:
        raise UserError(f"seeds must be at least 1, not {seeds} ({path})")
    searched_seed = next((key for key in SEED_KEYS if key in params), None)
    if seeds > 1 and searched_seed:
        raise UserError(f"{path}: seeds: {seeds} evaluates every config over {seeds} random_state values; "
                        f"remove {searched_seed} from params (or set seeds: 1)")
    n_trials = int(data.get("n_trials") or 0)
    if n_trials < 1:
        raise UserError(f"n_trials must be at least 1, not {data.get('n_trials')} ({path})")
    budget = data.get("reducer_budget")
    if budget is not None and not (isinstance(budget, int) and budget >= 1 or isinstance(budget, float) and 0 < budget < 1):
        raise UserError(f"reducer_budget must be a count >= 1 or a fraction of n_trials in (0, 1), not {budget} ({path})")
    workers = _workers(data.get("workers"), path)
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
        source=str(path),
        template=data if relative else None,
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
    try:
        if isinstance(value.start, int) and isinstance(value.end, int):
            return IntDistribution(value.start, value.end, log=log)
        return FloatDistribution(float(value.start), float(value.end), log=log)
    except ValueError as error:  # e.g. low > high, or a log range that includes 0
        raise UserError(f"params.{key}: '{expression}' is not a valid range ({error})") from error


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


# ----------------------------------------------------------------------------- stored with a study
def stored_spec(study: Any) -> dict[str, Any]:
    """The sweep definition that ``topicsweep sweep`` stored with the study."""
    spec = study.user_attrs.get("topicsweep_spec")
    if spec is None:
        raise UserError(f"study '{study.study_name}' was not created by topicsweep sweep")
    return spec


def spec_constraints(spec: Mapping[str, Any]) -> list[Constraint]:
    """The stored ``[metric, low, high]`` triples as constraints (None = open bound)."""
    return [Constraint(m, -math.inf if lo is None else lo, math.inf if hi is None else hi)
            for m, lo, hi in spec.get("constraints", [])]


def spec_select(spec: Mapping[str, Any]) -> SelectRule:
    """The stored select rule."""
    select = spec["select"]
    return SelectRule(select["rule"], dict(select.get("weights") or {}), tuple(select.get("order") or ()))


def _workers(value: Any, path: Path) -> int:
    """``workers``: a count, or ``auto`` for one worker per core this process may use."""
    if value in (None, ""):
        return 1
    if value == "auto":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserError(f"workers must be a count of at least 1 or auto, not {value!r} ({path})")
    return value
