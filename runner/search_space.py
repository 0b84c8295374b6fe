"""The search space of a study as a reviewer reads it: parameters, sampler, trial count, reducer budget, seeds.

Everything comes from the study (the sweep definition stored with it and its COMPLETE trials), so
an export needs no sweep file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from runner.models.base import SEED_KEYS
from runner.names import param_label
from runner.sweep_spec import distribution_of


@dataclass(frozen=True)
class SearchedParam:
    """One searched parameter: config key, expression as written in the sweep file, reader's labels."""

    key: str
    expression: str
    label: str
    label_zh: str
    values: str
    values_zh: str


@dataclass(frozen=True)
class SearchSpace:
    """The facts of a search a methods section reports.

    Attributes:
        params: The searched parameters, in sweep-file order.
        sampler: The sampler's ``_target_`` node from the sweep file (None when the study predates it).
        n_trials: Target number of COMPLETE trials.
        n_complete: COMPLETE trials in the study.
        reducer_budget: ``reducer_budget`` as written (a count, a fraction of n_trials, or None).
        reducer_limit: Most distinct reducer configurations the budget allows (None = no limit).
        reducer_configs: Distinct reducer configurations used by the COMPLETE trials.
        seeds: Reducer seeds each configuration was evaluated on (``seeds: K``).
        seed_values: Those seeds (None for ``seeds: 1``).
    """

    params: tuple[SearchedParam, ...]
    sampler: Mapping[str, Any] | None
    n_trials: int
    n_complete: int
    reducer_budget: int | float | None
    reducer_limit: int | None
    reducer_configs: int
    seeds: int
    seed_values: tuple[int, ...] | None

    @property
    def reducer_fits(self) -> int:
        """Reducer fits the COMPLETE trials needed: one per distinct configuration and seed."""
        return self.reducer_configs * self.seeds

    @property
    def random_state_searched(self) -> bool:
        return any(p.key in SEED_KEYS for p in self.params)

    def sampler_text(self, language: str = "en") -> str:
        """``TPESampler (seed=0, n_startup_trials=8)``, or ``not recorded``; in Chinese ``TPESampler，seed=0``."""
        if not self.sampler:
            return "not recorded" if language == "en" else "未记录"
        name = str(self.sampler.get("_target_", "?")).rsplit(".", 1)[-1]
        options = [f"{k}={v}" for k, v in self.sampler.items() if k != "_target_"]
        if language != "en":
            return "，".join([name, *options])
        return f"{name} ({', '.join(options)})" if options else name

    def rows(self) -> list[dict[str, Any]]:
        """Table rows: one per searched parameter, then sampler, trials, reducer budget and fits, seeds."""
        rows = [{"parameter": p.label, "key": p.key, "space": p.expression} for p in self.params]
        budget = ("none" if self.reducer_budget is None else
                  f"{self.reducer_budget:g} of n_trials = {self.reducer_limit} configurations"
                  if isinstance(self.reducer_budget, float) else f"{self.reducer_limit} configurations")
        seeds = (f"{self.seeds}: random_state {', '.join(map(str, self.seed_values))} (mean ± sd)"
                 if self.seed_values else "1" + (" (random_state searched)" if self.random_state_searched else ""))
        rows += [
            {"parameter": "sampler", "key": "sampler", "space": self.sampler_text()},
            {"parameter": "trials (target / complete)", "key": "n_trials",
             "space": f"{self.n_trials} / {self.n_complete}"},
            {"parameter": "reducer budget", "key": "reducer_budget", "space": budget},
            {"parameter": "distinct reducer fits made", "key": "",
             "space": f"{self.reducer_fits} ({self.reducer_configs} configurations × {self.seeds} "
                      f"seed{'s' if self.seeds > 1 else ''})"},
            {"parameter": "seeds per configuration", "key": "seeds", "space": seeds},
        ]
        return rows


COLUMNS = ("parameter", "key", "space")
HEADERS = {"parameter": "parameter", "key": "sweep-file key", "space": "search space / setting"}


def search_space(spec: Mapping[str, Any], cfg: Any, trials: Sequence[Any],
                 seed_values: Sequence[int] | None) -> SearchSpace:
    """The search space of a study.

    Args:
        spec: The sweep definition stored with the study (``topicsweep_spec``).
        cfg: A composed trial config (names the components that own each parameter).
        trials: The study's COMPLETE trials (Optuna FrozenTrials).
        seed_values: The reducer seeds of ``seeds: K`` (None for one seed).
    """
    params = tuple(_searched(key, str(expression), cfg) for key, expression in spec["params"].items())
    budget = spec.get("reducer_budget")
    n_trials = int(spec["n_trials"])
    limit = (None if budget is None else max(1, math.ceil(budget * n_trials)) if isinstance(budget, float)
             else int(budget))
    return SearchSpace(params, spec.get("sampler"), n_trials, len(trials), budget, limit,
                       reducer_configs(trials, list(spec["params"])),
                       int(spec["seeds"]), tuple(seed_values) if seed_values else None)


def reducer_configs(trials: Sequence[Any], params: Sequence[str]) -> int:
    """Distinct reducer configurations among ``trials``: from each trial's stored config, else its reducer params."""
    reducer_keys = [k for k in params if k == "reducer" or k.startswith("reducer.")]
    seen = set()
    for trial in trials:
        stored = trial.user_attrs.get("config")
        if stored:
            seen.add(json.dumps((yaml.safe_load(stored) or {}).get("reducer"), sort_keys=True, default=str))
        else:
            seen.add(json.dumps([trial.params.get(k) for k in reducer_keys], default=str))
    return len(seen)


def _searched(key: str, expression: str, cfg: Any) -> SearchedParam:
    english, chinese = _describe(distribution_of(key, expression))
    return SearchedParam(key, expression, param_label(key, cfg), param_label(key, cfg, "zh"), english, chinese)


def _describe(distribution: Any) -> tuple[str, str]:
    """A distribution in words: ``{0.0, 0.1}`` / ``integers 5–40, log scale`` (and in Chinese)."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(distribution, CategoricalDistribution):
        values = "{" + ", ".join("null" if v is None else str(v) for v in distribution.choices) + "}"
        return values, f"候选值 {values}"
    log_en, log_zh = (", log scale", "，对数尺度") if distribution.log else ("", "")
    low, high, step = distribution.low, distribution.high, distribution.step
    if isinstance(distribution, IntDistribution):
        steps_en = f" in steps of {step}" if step != 1 else ""
        steps_zh = f"，步长 {step}" if step != 1 else ""
        return f"integers {low}–{high}{steps_en}{log_en}", f"{low} 至 {high} 的整数（含端点{steps_zh}{log_zh}）"
    steps_en = f" in steps of {step:g}" if step else ""
    steps_zh = f"步长 {step:g}" if step else "连续取值"
    return f"[{low:g}, {high:g}]{steps_en}{log_en}", f"区间 [{low:g}, {high:g}] 内的实数（{steps_zh}{log_zh}）"
