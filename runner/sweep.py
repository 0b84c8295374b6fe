"""``topicsweep sweep``: an Optuna study whose trials are pipeline runs, logged as MLflow child runs.

Each worker (this process, or one of many on other machines) runs the same loop against the same
storage: start a trial while fewer than ``n_trials`` trials are COMPLETE or running, wait while the
remaining ones are running elsewhere, stop when the study-wide target is reached. Trials that
raise are recorded FAIL with their reason and the loop goes on; trials of a worker that died are
failed after the heartbeat grace period and retried.
"""

from __future__ import annotations

import datetime
import hashlib
import math
import os
import random
import socket
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from runner.config import ShapeComposer, config_dir, flatten, mask_secrets, resolve, to_yaml
from runner.errors import UserError
from runner.interrupts import SweepInterrupts
from runner.models.base import seed_key
from runner.pipeline import RunResult, Session
from runner.run import run_metrics, run_tags
from runner.selection import TrialRow, choose, is_feasible, pareto_front
from runner.storage import default_storage_url, open_storage, shares_across_processes
from runner.study_identity import definition, reconcile
from runner.sweep_spec import SweepSpec, check_params_exist, distribution_of
from runner.trial_constraints import name_objectives, record_constraints

TrialReporter = Callable[[dict[str, Any]], None]


class SurplusTrial(Exception):
    """Raised when a trial started after the study-wide target was already reached by others."""


@dataclass
class SweepOutcome:
    """What a finished (or stopped) sweep reports."""

    study_name: str
    storage_url: str
    rows: list[TrialRow]
    pareto: list[TrialRow]
    chosen: TrialRow | None
    parent_run_id: str | None
    report: Path | None = None


def group_names() -> set[str]:
    """Config groups (subdirectories of conf/) that params may choose between."""
    return {p.name for p in config_dir().iterdir() if p.is_dir()}


def param_override(key: str, value: Any) -> str:
    """A Hydra override for one sampled value (None → null)."""
    if value is None:
        return f"{key}=null"
    if isinstance(value, str) and any(ch in value for ch in " ,()[]{}=:'\""):
        escaped = value.replace("'", "\\'")
        return f"{key}='{escaped}'"
    return f"{key}={value}"


class Sweep:
    """One worker of a study."""

    def __init__(self, spec: SweepSpec, extra_overrides: list[str], report: TrialReporter | None = None,
                 stage_report: Any = None, extend: bool = False) -> None:
        """Compose the base config, load the corpus, resolve ``${frac:...}``, open (or create) the study.

        Args:
            extend: Continue a study whose search space or base config changed (never its corpus).
        """
        self.base_overrides = [*spec.overrides, *extra_overrides]
        self._compose = ShapeComposer()  # trials differ in values: Hydra composes each set of groups once
        self.base = resolve(self._compose(self.base_overrides))
        check_params_exist(spec, self.base, group_names())
        self.spec = spec
        self.output_dir = Path(self.base.paths.output_dir)
        self.tracker = self._tracker()  # a wrong tracking URI fails before the corpus is read
        self.session = Session(Path(self.base.paths.cache_dir), report=stage_report)
        self.corpus = self.session.corpus(self.base)
        self.spec = spec = spec.for_corpus(len(self.corpus))
        self.extend = extend
        self._check_objective_metrics()
        self.distributions = {key: distribution_of(key, expr) for key, expr in spec.params.items()}
        self.storage_url = spec.storage or default_storage_url(self.output_dir)
        self.report = report or (lambda line: None)
        self._last_failure = ""
        self._interrupts = SweepInterrupts()
        self.study = self._study()
        self.parent_run_id = self._parent_run()

    # ----------------------------------------------------------------------------- set-up
    def _check_objective_metrics(self) -> None:
        measures = {"coherence_npmi": "c_npmi", "coherence_cv": "c_v", "coherence_umass": "u_mass",
                    "coherence_uci": "c_uci"}
        used = [*self.spec.objectives, *(c.metric for c in self.spec.constraints)]
        for metric in used:
            if metric in measures and measures[metric] not in self.base.metrics.coherence:
                raise UserError(f"sweep '{self.spec.name}' uses {metric} but metrics.coherence does not compute "
                                f"{measures[metric]}; add it, e.g. metrics.coherence=[c_npmi,c_v,{measures[metric]}]")
            if metric in ("nmi", "ari") and self.base.dataset.get("label_column") is None:
                raise UserError(f"sweep '{self.spec.name}' uses {metric} but the dataset has no label column "
                                f"(set dataset.label_column)")

    def _tracker(self) -> Any:
        if not self.base.tracking.enabled:
            return None
        from runner.tracking import MlflowTracker

        return MlflowTracker(self.base.tracking.uri, self.output_dir,
                             experiment=self.base.tracking.get("experiment") or self.spec.study)

    def _study(self) -> Any:
        import optuna

        self.storage = storage = open_storage(self.storage_url, self.spec.heartbeat_interval,
                                              self.spec.grace_period, self.spec.max_retry)
        directions = list(self.spec.objectives.values())
        optuna.logging.set_verbosity(optuna.logging.ERROR)  # failed trials get our own one-line report
        try:
            study = optuna.create_study(study_name=self.spec.study, storage=storage, directions=directions,
                                        sampler=self._sampler(), pruner=self._pruner(), load_if_exists=True)
        except ValueError as error:
            raise UserError(f"study '{self.spec.study}': {error}") from error
        existing = [d.name.lower() for d in study.directions]
        if existing != directions:
            raise UserError(f"study '{self.spec.study}' in {mask_secrets(self.storage_url)} optimises {existing}, "
                            f"the sweep file asks for {directions}; use another study name")
        reconcile(study, definition(self.spec, self.base, self.corpus), self.spec, self.base_overrides,
                  extend=self.extend, where=f"study '{self.spec.study}' in {mask_secrets(self.storage_url)}")
        name_objectives(study, list(self.spec.objectives))
        return study

    def _sampler(self) -> Any:
        """The configured sampler, with a seed that differs per worker.

        A fixed seed is offset by the number of trials already in the study (a resumed sweep does not
        replay its first draws) and, on storages shared by processes, by this process id (parallel
        workers must not all draw the same parameters).
        """
        import inspect

        from optuna.samplers import BaseSampler

        from runner.build import instantiate, target_of

        extra: dict[str, Any] = {}
        target = target_of(self.spec.sampler)
        accepted = inspect.signature(_import(target)).parameters
        if self.spec.sampler.get("seed") is not None and "seed" in accepted:
            extra["seed"] = int(self.spec.sampler["seed"]) + self._seed_offset()
        if "search_space" in accepted and "search_space" not in self.spec.sampler:
            extra["search_space"] = grid_search_space(self.distributions)  # GridSampler: the grid is `params`
        sampler = instantiate(self.spec.sampler, **extra)
        if not isinstance(sampler, BaseSampler):
            raise UserError(f"sampler _target_ {target} is not an Optuna sampler")
        return sampler

    def _seed_offset(self) -> int:
        import optuna

        try:
            existing = len(optuna.load_study(study_name=self.spec.study, storage=self.storage).trials)
        except KeyError:  # a new study
            existing = 0
        return existing + (os.getpid() if shares_across_processes(self.storage_url) else 0)

    def _pruner(self) -> Any:
        from runner.build import instantiate

        return instantiate(self.spec.pruner) if self.spec.pruner else None

    def _parent_run(self) -> str | None:
        if self.tracker is None:
            return None
        parent = self._find_parent()
        self.tracker.log_corpus(parent, self.corpus)
        self.study.set_user_attr("mlflow_parent_run_id", parent)
        return parent

    def _find_parent(self) -> str:
        """The study's one MLflow parent run (created by the first worker; duplicates are removed)."""
        identity = {"topicsweep.role": "parent",
                    "topicsweep.study_key": hashlib.sha256(f"{mask_secrets(self.storage_url)}|{self.spec.study}"
                                                           .encode()).hexdigest()[:16]}
        tags = {"topicsweep.study": self.spec.study, "topicsweep.sweep": self.spec.name,
                "optuna.storage": mask_secrets(self.storage_url)}
        return self.tracker.find_or_create(f"sweep-{self.spec.study}", identity, tags)

    def prepare(self, tokens: bool = True) -> None:
        """What workers share, done once: storage tables and study (by ``__init__``), the MLflow store,
        experiment and parent run, and the cached embeddings and (with ``tokens``) tokens.

        Local workers leave the tokens to whichever worker needs them first (the cache lets the
        others wait for it): they cost a fraction of the embeddings, and the workers are ready sooner.
        """
        self.session.prepare(self.base, tokens=tokens)

    # ----------------------------------------------------------------------------- the loop
    def run(self, summarise: bool = True) -> SweepOutcome | None:
        """Run trials until the study holds ``n_trials`` COMPLETE trials (or the timeout passes).

        The MLflow parent run is RUNNING while a worker works; it ends FINISHED when a worker finds
        the study done (see :meth:`finish`), FAILED when this worker stops on an error, KILLED on Ctrl-C
        (at once while a trial computes, else after the storage or MLflow write in progress: see
        :mod:`runner.interrupts`).

        Args:
            summarise: Reopen the parent run and end with :meth:`finish`. False for a worker started by
                a local launcher (``workers=N``), which does both: this worker only runs trials and
                draws figures (the report's first), and returns None (a parent run it reopened after the launcher
                finished would stay RUNNING).
        """
        if self.tracker is not None and summarise:
            self.tracker.reopen(self.parent_run_id)
        try:
            with self._interrupts:
                self._run_trials()
        except BaseException as error:
            if self.tracker is not None:
                self.tracker.finish(self.parent_run_id, "KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED")
            raise
        if summarise:
            return self.finish()
        if self.tracker is not None:  # while the launcher writes the summary
            from runner.sweep_report import add_trial_figures

            rows = trial_rows(self.study)
            add_trial_figures(self, report_trials(*self._front(rows)))  # the report shows them: first
            add_trial_figures(self)
        return None

    def _run_trials(self) -> None:
        import optuna

        started = time.monotonic()
        failures_in_a_row = 0
        self._close_orphaned_children()
        while True:
            self._interrupts.check()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # stable since Optuna 2.9
                optuna.storages.fail_stale_trials(self.study)
            self._retry_trials_of_dead_workers()
            complete, running = self._counts()
            if complete >= self.spec.n_trials:
                break
            if self.spec.timeout is not None and time.monotonic() - started > self.spec.timeout:
                break
            if complete + running >= self.spec.n_trials:  # the rest is running elsewhere: draw a figure meanwhile
                if not self._draw_a_figure():
                    time.sleep(min(0.5, self.spec.heartbeat_interval / 2))
                continue
            self._reuse_reducer_when_over_budget()
            self.study.optimize(self._objective, n_trials=1, catch=(Exception,), callbacks=[self._after_trial])
            failures_in_a_row = failures_in_a_row + 1 if self._last_trial_failed() else 0
            if failures_in_a_row >= self.spec.max_failures_in_a_row:
                raise UserError(f"{failures_in_a_row} trials failed in a row (last: {self._last_failure}); fix the "
                                f"sweep file or the overrides, then run the same command to resume")
        self._close_orphaned_children()

    def _retry_trials_of_dead_workers(self) -> None:
        """Fail and re-queue RUNNING trials whose worker is certainly gone.

        Two cases: a trial whose worker process on this host no longer exists (storages with
        heartbeats find those by themselves after the grace period; the journal file storage has
        none), and, on any storage, a trial that names no worker ``grace_period`` seconds after it
        started: its process died between Optuna creating the trial and the objective's first line,
        before any heartbeat, so no other rule would ever end it and the study would wait forever.
        """
        from optuna.storages._heartbeat import BaseHeartbeat
        from optuna.trial import TrialState

        host, now = socket.gethostname(), datetime.datetime.now()  # Optuna's datetime_start is local and naive
        heartbeats = isinstance(self.storage, BaseHeartbeat)
        for trial in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            worker = trial.user_attrs.get("worker")
            if worker is None:
                started = trial.datetime_start
                if started is None or (now - started).total_seconds() < self.spec.grace_period:
                    continue
                reason = "worker process died as the trial started"
            else:
                owner_host, _, pid = str(worker).rpartition(":")
                if heartbeats or owner_host != host or not pid.isdigit() or process_alive(int(pid)):
                    continue
                reason = "worker process died"
            self.storage.set_trial_user_attr(trial._trial_id, "fail_reason", reason)
            if self.storage.set_trial_state_values(trial._trial_id, TrialState.FAIL):
                retries = int(trial.user_attrs.get("retries", 0))
                if retries < self.spec.max_retry:
                    self.study.enqueue_trial(trial.params, user_attrs={"retries": retries + 1,
                                                                       "retry_of": trial.number})

    def reducer_params(self) -> list[str]:
        """Searched parameters that change the reduction (the expensive ones)."""
        return [key for key in self.distributions if key == "reducer" or key.startswith("reducer.")]

    def _reuse_reducer_when_over_budget(self) -> None:
        """Once ``reducer_budget`` distinct reducer configs exist, queue the next trial on one of them.

        The sampler chose those configurations; from then on it only explores the cheap
        parameters. Half the time the next trial reuses the reduction of the current best trial
        (by the select rule), otherwise a uniformly drawn fitted one (seeded, so sweeps repeat).
        """
        from optuna.trial import TrialState

        budget, keys = self.spec.reducer_fits(), self.reducer_params()
        if budget is None or not keys:
            return
        trials = self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING,
                                                                TrialState.WAITING))
        if any(t.state == TrialState.WAITING for t in trials):
            return  # a queued trial (a retry, or another worker's choice) comes first
        fitted = sorted({tuple(t.params[k] for k in keys) for t in trials if all(k in t.params for k in keys)},
                        key=repr)
        if len(fitted) < budget:
            return
        rng = random.Random(len(trials) * 7919 + int(self.spec.sampler.get("seed") or 0))
        best = choose([r for r in trial_rows(self.study) if all(k in r.params for k in keys)],
                      self.spec.objectives, self.spec.select)
        reuse = tuple(best.params[k] for k in keys) if best is not None and rng.random() < 0.5 else rng.choice(fitted)
        self.study.enqueue_trial(dict(zip(keys, reuse)), user_attrs={"reducer_reused": True})

    def _last_trial_failed(self) -> bool:
        """Whether this worker's latest trial failed for a reason other than the n_trials race."""
        from optuna.trial import TrialState

        mine = f"{socket.gethostname()}:{os.getpid()}"
        trials = [t for t in self.study.get_trials(deepcopy=False) if t.user_attrs.get("worker") == mine]
        if not trials:
            return False
        last = max(trials, key=lambda t: t.number)
        self._last_failure = str(last.user_attrs.get("fail_reason", ""))
        return last.state == TrialState.FAIL and not self._last_failure.startswith("surplus")

    def _counts(self) -> tuple[int, int]:
        from optuna.trial import TrialState

        trials = self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING))
        complete = sum(t.state == TrialState.COMPLETE for t in trials)
        return complete, len(trials) - complete

    def _objective(self, trial: Any) -> tuple[float, ...]:
        self._refuse_surplus(trial)
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        params = {key: _suggest(trial, key, dist) for key, dist in self.distributions.items()}
        overrides = [*self.base_overrides, *(param_override(k, v) for k, v in params.items())]
        trial.set_user_attr("overrides", overrides)
        child = self._start_child(trial.number, params)
        try:
            with self._interrupts.computing():
                results, cfg = self._evaluate(overrides)
            metrics = aggregate([r.metrics for r in results])
            values, degenerate = self._objective_values(metrics)
            trial.set_user_attr("metrics", {k: _finite(v) for k, v in metrics.items()})
            record_constraints(trial, self.spec.constraints, metrics)
            trial.set_user_attr("feasible", is_feasible(metrics, self.spec.constraints))
            trial.set_user_attr("config", to_yaml(cfg))
            trial.set_user_attr("timings", {stage: sum(r.timings[stage] for r in results) for stage in results[0].timings})
            if degenerate:
                trial.set_user_attr("degenerate", degenerate)
            self._log_child(child, cfg, results, metrics, trial, params)
            return values
        except BaseException as error:
            reason = f"{type(error).__name__}: {error}".splitlines()[0][:500]
            trial.set_user_attr("fail_reason", mask_secrets(reason))
            if child is not None:
                self.tracker.log(child, tags={"state": "FAIL", "fail_reason": reason})
                self.tracker.finish(child, "FAILED" if not isinstance(error, KeyboardInterrupt) else "KILLED")
            raise

    def _refuse_surplus(self, trial: Any) -> None:
        """Fail at once a trial that would push the study past ``n_trials`` (workers raced to start it)."""
        from optuna.trial import TrialState

        active = self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING))
        if sum(t.number <= trial.number for t in active) > self.spec.n_trials:
            trial.set_user_attr("fail_reason", "surplus: the study reached n_trials while this trial started")
            raise SurplusTrial(f"trial {trial.number}: n_trials={self.spec.n_trials} already reached")

    def _evaluate(self, overrides: list[str]) -> tuple[list[RunResult], DictConfig]:
        """Run the pipeline once, or once per seed (``seeds: K``)."""
        first_cfg = resolve(self._compose(overrides))
        seeds = seed_values(first_cfg, self.spec.seeds)  # the trial's own model (``model`` may be a param)
        if seeds is None:
            return [self.session.run(first_cfg)], first_cfg
        key = seed_key(first_cfg)
        results = [self.session.run(resolve(self._compose([*overrides, f"{key}={seed}"]))) for seed in seeds]
        return results, resolve(self._compose([*overrides, f"{key}={seeds[0]}"]))

    def _objective_values(self, metrics: dict[str, float]) -> tuple[tuple[float, ...], str | None]:
        """Objective values; an undefined metric (e.g. coherence of 0 topics) becomes the worst value."""
        values, undefined = [], []
        for metric, direction in self.spec.objectives.items():
            value = metrics.get(metric, math.nan)
            if value is None or math.isnan(value):
                undefined.append(metric)
                value = -math.inf if direction == "maximize" else math.inf
            values.append(value)
        reason = None
        if undefined:
            reason = f"{', '.join(undefined)} undefined with {int(metrics.get('n_topics', 0))} topics"
        return tuple(values), reason

    def _after_trial(self, study: Any, trial: Any) -> None:
        from runner.selection import violations

        metrics = trial.user_attrs.get("metrics", {})
        feasible = trial.user_attrs.get("feasible", True)
        self.report({"number": trial.number, "state": trial.state.name, "params": trial.params, "metrics": metrics,
                     "seconds": trial.duration.total_seconds() if trial.duration else None,
                     "reason": trial.user_attrs.get("fail_reason") or trial.user_attrs.get("degenerate"),
                     "infeasible": [] if feasible else violations(metrics, self.spec.constraints)})

    # ----------------------------------------------------------------------------- MLflow
    def trial_dir(self, number: int) -> Path:
        """Where a trial's files are written (and logged to its child run from)."""
        return self.output_dir / "sweeps" / self.spec.study / "trials" / f"{number:04d}"

    def _start_child(self, number: int, params: dict[str, Any]) -> str | None:
        if self.tracker is None:
            return None
        key_params = " ".join(f"{k.split('.')[-1]}={v}" for k, v in params.items())
        return self.tracker.start(f"trial-{number:03d} {key_params}"[:240],
                                  {"topicsweep.study": self.spec.study, "topicsweep.trial": str(number),
                                   "topicsweep.role": "trial", "state": "RUNNING"},
                                  parent_id=self.parent_run_id)

    def _log_child(self, child: str | None, cfg: DictConfig, results: list[RunResult], metrics: dict[str, float],
                   trial: Any, params: dict[str, Any]) -> None:
        from runner.outputs import write_run_dir

        trial_dir = write_run_dir(self.trial_dir(trial.number), cfg, results[0], figure=False)  # figure: finish()
        if child is None:
            return
        trial.set_user_attr("mlflow_run_id", child)
        self.tracker.log_corpus(child, results[0].corpus)
        logged = {**run_metrics(results[0]), **metrics}
        tags = {**run_tags(cfg, results[0]), "state": "COMPLETE", "optuna.trial_number": str(trial.number),
                "feasible": str(trial.user_attrs["feasible"]).lower(), "pareto": "false", "best": "false"}
        if trial.user_attrs.get("degenerate"):
            tags["degenerate"] = trial.user_attrs["degenerate"]
        group_choices = {f"choice.{k}": str(v) for k, v in params.items() if "." not in k}
        self.tracker.log(child, params={**flatten(cfg), **group_choices}, metrics=logged, tags=tags)
        self.tracker.log_artifacts(child, trial_dir)
        self.tracker.finish(child)

    def _close_orphaned_children(self) -> None:
        """Child runs left RUNNING by a killed worker are marked KILLED once their trial is FAIL."""
        if self.tracker is None:
            return
        from optuna.trial import TrialState

        failed = {str(t.number) for t in self.study.get_trials(deepcopy=False, states=(TrialState.FAIL,))}
        if not failed:
            return  # no trial failed: no child run can be an orphan (and the search of all children is skipped)
        for run in self.tracker.children(self.parent_run_id):
            if run.info.status == "RUNNING" and run.data.tags.get("topicsweep.trial") in failed:
                self.tracker.log(run.info.run_id, tags={"state": "FAIL", "fail_reason": "worker stopped mid-trial"})
                self.tracker.finish(run.info.run_id, "KILLED")

    def _draw_a_figure(self) -> bool:
        """Draw one finished trial's deferred figure on this host; False when none is left to draw."""
        if self.tracker is None:
            return False
        from runner.sweep_report import add_trial_figures

        return add_trial_figures(self, limit=1) > 0

    # ----------------------------------------------------------------------------- the end
    def _front(self, rows: list[TrialRow]) -> tuple[list[TrialRow], TrialRow | None]:
        """(Pareto front of the feasible trials, or of all when none is feasible; the chosen trial)."""
        feasible = [r for r in rows if r.feasible]
        return pareto_front(feasible or rows, self.spec.objectives), choose(rows, self.spec.objectives, self.spec.select)

    def finish(self) -> SweepOutcome:
        """Pareto front, chosen trial, the parent run's tables, plots and tags, the trials' topic figures.

        The parent run ends FINISHED here once no trial of the study is RUNNING (the last worker to
        leave ends it; a resumed sweep sets it RUNNING again).
        """
        from optuna.trial import TrialState

        rows = trial_rows(self.study)
        pareto, chosen = self._front(rows)
        if self.tracker is not None:
            from runner.sweep_report import add_trial_figures, log_parent

            self.parent_run_id = self._find_parent()  # a worker that died mid-creation may have left a duplicate
            if rows:
                log_parent(self, rows, pareto, chosen)
            add_trial_figures(self, report_trials(pareto, chosen))  # unless other workers here drew them
        report = None
        if rows:
            from runner.report import write_report

            report = write_report(self.study, self.output_dir, self.storage_url)
            if self.tracker is not None:
                self.tracker.log_artifact(self.parent_run_id, report)
        if self.tracker is not None:
            add_trial_figures(self)  # the others, shared with the workers on this host that are leaving too
            if not self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
                self.tracker.finish(self.parent_run_id)
        return SweepOutcome(self.spec.study, self.storage_url, rows, pareto, chosen, self.parent_run_id, report)


def report_trials(pareto: list[TrialRow], chosen: TrialRow | None) -> list[int]:
    """Numbers of the trials whose figures the sweep report shows: the chosen one, then the Pareto front."""
    first = [] if chosen is None else [chosen.number]
    return first + [row.number for row in pareto if row.number not in first]


def trial_rows(study: Any) -> list[TrialRow]:
    """COMPLETE trials as selection rows (metrics from the trial's user attributes)."""
    from optuna.trial import TrialState

    rows = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        metrics = {k: (math.nan if v is None else v) for k, v in trial.user_attrs.get("metrics", {}).items()}
        rows.append(TrialRow(trial.number, dict(trial.params), metrics, bool(trial.user_attrs.get("feasible", True))))
    return rows


def seed_values(cfg: DictConfig, count: int) -> list[int] | None:
    """``count`` seeds from the config's :func:`~runner.models.base.seed_key` on (None when ``count`` is 1)."""
    if count == 1:
        return None
    start = int(OmegaConf.select(cfg, seed_key(cfg)) or 0)
    return list(range(start, start + count))


def aggregate(runs: list[dict[str, float]]) -> dict[str, float]:
    """Mean of every metric over seeds, plus ``<metric>_sd`` when there is more than one seed."""
    if len(runs) == 1:
        return dict(runs[0])
    merged: dict[str, float] = {}
    for name in runs[0]:
        values = [run.get(name, math.nan) for run in runs]
        merged[name] = statistics.fmean(values)
        merged[f"{name}_sd"] = statistics.stdev(values)
    return merged


def grid_search_space(distributions: dict[str, Any]) -> dict[str, list[Any]]:
    """Every value of each searched parameter, for ``optuna.samplers.GridSampler``'s ``search_space``.

    ``choice(...)`` gives its choices, ``range(...)`` and stepped integer intervals every integer step;
    a continuous interval has no grid.

    Raises:
        UserError: A parameter without a finite set of values.
    """
    from optuna.distributions import CategoricalDistribution, IntDistribution

    grid: dict[str, list[Any]] = {}
    for key, distribution in distributions.items():
        if isinstance(distribution, CategoricalDistribution):
            grid[key] = list(distribution.choices)
        elif isinstance(distribution, IntDistribution) and not distribution.log:
            grid[key] = list(range(distribution.low, distribution.high + 1, distribution.step))
        else:
            raise UserError(f"params.{key}: GridSampler needs a finite set of values; use choice(...) or "
                            f"range(...), or another sampler")
    return grid


def _suggest(trial: Any, name: str, distribution: Any) -> Any:
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(distribution, CategoricalDistribution):
        return trial.suggest_categorical(name, distribution.choices)
    if isinstance(distribution, IntDistribution):
        return trial.suggest_int(name, distribution.low, distribution.high, step=distribution.step,
                                 log=distribution.log)
    return trial.suggest_float(name, distribution.low, distribution.high, step=distribution.step,
                               log=distribution.log)


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _finite(value: float) -> float | None:
    return None if value is None or math.isnan(value) or math.isinf(value) else value


def _import(target: str) -> Any:
    import importlib

    from runner.build import check_allowed

    check_allowed(target)
    module, _, name = target.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as error:
        raise UserError(f"_target_ '{target}' does not exist") from error
