"""``topicsweep best``: export the chosen trial, or several side by side, for a paper.

``best`` writes ``outputs/sweeps/<study>/best/``: a standalone ``config.yaml`` (``topicsweep run
--config-file`` reproduces the trial), parameter, metric, topic and search-space tables (Markdown
and LaTeX), the Pareto table, and a methods paragraph in English and Chinese. ``best --trials`` /
``--pareto`` writes ``outputs/sweeps/<study>/compare/``: the trials side by side and each trial's
own tables. Every exported trial is re-run from its config (cheap: every expensive stage is
cached) and its metrics are checked against the stored ones.
"""

from __future__ import annotations

import math
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from runner.caveats import Caveat, selection_caveats
from runner.errors import UserError
from runner.export_tables import (TrialView, column_headers, comparison_records, comparison_table, metric_rows,
                                  param_rows, topics_latex, topics_markdown)
from runner.figures import save_fitted_model
from runner.methods import MethodsInput, methods_paragraphs
from runner.models.base import with_seed
from runner.outputs import write_run_dir
from runner.pipeline import Session
from runner.search_space import COLUMNS as SEARCH_SPACE_COLUMNS
from runner.search_space import HEADERS as SEARCH_SPACE_HEADERS
from runner.search_space import SearchSpace, search_space
from runner.selection import TrialRow, choose, pareto_front
from runner.sweep import aggregate, seed_values, trial_rows
from runner.sweep_report import table_columns, table_rows
from runner.sweep_spec import Constraint, spec_constraints, spec_select, stored_spec
from runner.tables import csv_text, latex, markdown


@dataclass(frozen=True)
class Export:
    """Where a trial's export went and whether the re-run reproduced the stored metrics."""

    directory: Path
    trial: int
    reproduced: bool
    metrics: dict[str, float]
    caveats: tuple[Caveat, ...] = ()


@dataclass(frozen=True)
class Comparison:
    """Several trials exported side by side."""

    directory: Path
    trials: tuple[Export, ...]
    chosen: int
    caveats: tuple[Caveat, ...]


def load_study(name: str, storage_url: str) -> Any:
    """An existing study, or a UserError listing the studies in that storage."""
    import optuna

    from runner.config import mask_secrets
    from runner.storage import open_storage

    storage = open_storage(storage_url, heartbeat_interval=60, grace_period=120, max_retry=0)
    names = [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]
    if name not in names:
        raise UserError(f"no study '{name}' in {mask_secrets(storage_url)}; studies there: {', '.join(names) or 'none'}")
    return optuna.load_study(study_name=name, storage=storage)


def export_best(study: Any, output_dir: Path, trial_number: int | None = None) -> Export:
    """Export the trial picked by the sweep's select rule (or ``trial_number``) to ``sweeps/<study>/best/``."""
    view = _StudyView.of(study)
    row = view.row(trial_number) if trial_number is not None else view.chosen()
    directory = output_dir / "sweeps" / study.study_name / "best"
    session = Session(Path(view.config(row).paths.cache_dir))
    rerun = _export_trial(view, row, directory, session)
    space = view.search_space(rerun.cfg)
    _write_search_space(directory, space, study.study_name)
    feasible = [r for r in view.rows if r.feasible] or view.rows
    pareto = pareto_front(feasible, view.objectives)
    columns = table_columns(pareto, list(view.objectives))
    (directory / "pareto.csv").write_text(csv_text(table_rows(pareto), columns), encoding="utf-8")
    (directory / "pareto.md").write_text(markdown(table_rows(pareto), columns, column_headers(columns, rerun.cfg)),
                                         encoding="utf-8")
    facts = MethodsInput(rerun.cfg, view.spec, row, rerun.results[0], view.constraints, space, view.caveats)
    english, chinese = methods_paragraphs(facts)
    (directory / "methods_en.md").write_text(english + "\n", encoding="utf-8")
    (directory / "methods_zh.md").write_text(chinese + "\n", encoding="utf-8")
    return Export(directory, row.number, rerun.reproduced, rerun.metrics, tuple(view.caveats))


def export_trials(study: Any, output_dir: Path, numbers: Sequence[int] | None = None) -> Comparison:
    """Export several trials side by side to ``sweeps/<study>/compare/`` (``numbers`` None: the Pareto front).

    Writes ``comparison.{md,tex,csv}``, ``search_space.{md,tex}`` and, per trial, ``trial-NNN/`` with the
    files of a single export (config, parameter, metric and topic tables, the re-run directory).
    Folders ``trial-NNN`` of an earlier comparison that are not part of this one are removed.
    """
    view = _StudyView.of(study)
    if numbers is None:
        rows = pareto_front([r for r in view.rows if r.feasible] or view.rows, view.objectives)
    else:
        rows = [view.row(n) for n in dict.fromkeys(numbers)]
    chosen = view.chosen().number
    directory = output_dir / "sweeps" / study.study_name / "compare"
    directory.mkdir(parents=True, exist_ok=True)
    keep = {f"trial-{r.number:03d}" for r in rows}
    for stale in directory.glob("trial-*"):
        if stale.is_dir() and re.fullmatch(r"trial-\d{3,}", stale.name) and stale.name not in keep:
            shutil.rmtree(stale)
    session = Session(Path(view.config(rows[0]).paths.cache_dir))
    exports, views, cfg = [], [], None
    for row in rows:
        rerun = _export_trial(view, row, directory / f"trial-{row.number:03d}", session)
        cfg = rerun.cfg if cfg is None else cfg
        exports.append(Export(directory / f"trial-{row.number:03d}", row.number, rerun.reproduced, rerun.metrics))
        views.append(TrialView(row.number, row.params, rerun.metrics, row.feasible, row.number == chosen))
    _write_search_space(directory, view.search_space(cfg), study.study_name)
    table, columns, headers, rules = comparison_table(views, cfg)
    numbers_text = ", ".join(str(r.number) for r in rows)
    seeds = f" (mean ± sd over {view.spec['seeds']} seeds)" if int(view.spec["seeds"]) > 1 else ""
    caption = (f"{'Trials' if len(rows) > 1 else 'Trial'} {numbers_text} of study {study.study_name}: "
               f"hyperparameters and metrics{seeds}")
    (directory / "comparison.md").write_text(markdown(table, columns, headers), encoding="utf-8")
    (directory / "comparison.tex").write_text(latex(table, columns, caption, f"{study.study_name}-comparison",
                                                    headers, rules), encoding="utf-8")
    records, record_columns = comparison_records(views)
    (directory / "comparison.csv").write_text(csv_text(records, record_columns), encoding="utf-8")
    return Comparison(directory, tuple(exports), chosen, tuple(view.caveats))


def trial_config(study: Any, trial_number: int | None = None) -> tuple[int, DictConfig]:
    """The number and stored config of the trial the sweep's select rule chose (or ``trial_number``)."""
    view = _StudyView.of(study)
    row = view.row(trial_number) if trial_number is not None else view.chosen()
    return row.number, view.config(row)


@dataclass(frozen=True)
class _Rerun:
    cfg: DictConfig
    results: list[Any]
    metrics: dict[str, float]
    reproduced: bool


@dataclass
class _StudyView:
    """A topicsweep study as an export reads it: its stored definition and COMPLETE trials."""

    study: Any
    spec: dict[str, Any]
    rows: list[TrialRow]
    caveats: list[Caveat]

    @classmethod
    def of(cls, study: Any) -> _StudyView:
        spec = stored_spec(study)
        rows = trial_rows(study)
        if not rows:
            raise UserError(f"study '{study.study_name}' has no COMPLETE trial yet")
        return cls(study, spec, rows, selection_caveats(spec))

    @property
    def objectives(self) -> dict[str, str]:
        return self.spec["objectives"]

    @property
    def constraints(self) -> list[Constraint]:
        return spec_constraints(self.spec)

    def chosen(self) -> TrialRow:
        return choose(self.rows, self.objectives, spec_select(self.spec))

    def row(self, number: int) -> TrialRow:
        found = next((r for r in self.rows if r.number == number), None)
        if found is None:
            raise UserError(f"trial {number} of study '{self.study.study_name}' is not COMPLETE; "
                            f"complete trials: {', '.join(str(r.number) for r in self.rows)}")
        return found

    def config(self, row: TrialRow) -> DictConfig:
        return OmegaConf.create(self.study.trials[row.number].user_attrs["config"])

    def search_space(self, cfg: DictConfig) -> SearchSpace:
        from optuna.trial import TrialState

        complete = self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        return search_space(self.spec, cfg, complete, seed_values(cfg, int(self.spec["seeds"])))


def _export_trial(view: _StudyView, row: TrialRow, directory: Path, session: Session) -> _Rerun:
    """Re-run one trial from its stored config; write config.yaml, run/, parameter, metric and topic tables."""
    cfg = view.config(row)
    cfg.run_name = f"{view.study.study_name}-trial-{row.number}"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.yaml").write_text(OmegaConf.to_yaml(cfg), encoding="utf-8")
    seeds = seed_values(cfg, int(view.spec["seeds"])) or [None]
    results = [session.run(cfg if seed is None else with_seed(cfg, seed)) for seed in seeds]
    metrics = aggregate([r.metrics for r in results])
    reproduced = all(_same(metrics.get(k, math.nan), v) for k, v in row.metrics.items())
    write_run_dir(directory / "run", cfg, results[0])
    save_fitted_model(results[0], directory / "model")  # BERTopic.load(...) in a notebook (safetensors)
    label = f"{view.study.study_name}-trial-{row.number}"
    seeds_note = f", mean ± sd over {len(seeds)} seeds" if len(seeds) > 1 else ""
    params = param_rows(row.params, cfg)
    (directory / "params.md").write_text(markdown(params, ["parameter", "key", "value"]), encoding="utf-8")
    (directory / "params.tex").write_text(latex(
        params, ["parameter", "key", "value"], f"Hyperparameters of trial {row.number} (study {view.study.study_name})",
        f"{label}-params"), encoding="utf-8")
    shown = metric_rows(metrics)
    (directory / "metrics.md").write_text(markdown(shown, ["metric", "value"]), encoding="utf-8")
    (directory / "metrics.tex").write_text(latex(
        shown, ["metric", "value"], f"Metrics of trial {row.number} (study {view.study.study_name}{seeds_note})",
        f"{label}-metrics"), encoding="utf-8")
    title = f"Topics of trial {row.number} (study {view.study.study_name})"
    (directory / "topics.md").write_text(topics_markdown(results[0], title), encoding="utf-8")
    (directory / "topics.tex").write_text(topics_latex(results[0], f"{title}: size and top words", f"{label}-topics"),
                                          encoding="utf-8")
    return _Rerun(cfg, results, metrics, reproduced)


def _write_search_space(directory: Path, space: SearchSpace, study_name: str) -> None:
    rows = space.rows()
    columns = list(SEARCH_SPACE_COLUMNS)
    (directory / "search_space.md").write_text(markdown(rows, columns, SEARCH_SPACE_HEADERS), encoding="utf-8")
    caption = f"Search space and search settings of study {study_name}"
    (directory / "search_space.tex").write_text(latex(rows, columns, caption, f"{study_name}-search-space",
                                                      SEARCH_SPACE_HEADERS, [len(space.params)]), encoding="utf-8")


def _same(a: float | None, b: float | None) -> bool:
    a = math.nan if a is None else a
    b = math.nan if b is None else b
    return (math.isnan(a) and math.isnan(b)) or a == b
