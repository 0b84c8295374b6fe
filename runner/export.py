"""``topicsweep best``: export the chosen trial for a paper.

Writes ``outputs/sweeps/<study>/best/``: a standalone ``config.yaml`` (``topicsweep run
--config-file`` reproduces the trial), parameter and metric tables (Markdown and LaTeX), the topic
table, the Pareto table, and a methods paragraph in English and Chinese. The trial is re-run from
its config (cheap: every expensive stage is cached) to produce the topic table, and the metrics
are checked against the stored ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from runner.errors import UserError
from runner.methods import methods_paragraphs
from runner.outputs import topic_rows, write_run_dir
from runner.pipeline import Session
from runner.selection import TrialRow, choose, pareto_front
from runner.sweep import aggregate, seed_values, trial_rows
from runner.sweep_report import table_columns, table_rows
from runner.sweep_spec import Constraint, SelectRule
from runner.tables import csv_text, latex, markdown


@dataclass(frozen=True)
class Export:
    """Where the export went and whether the re-run reproduced the stored metrics."""

    directory: Path
    trial: int
    reproduced: bool
    metrics: dict[str, float]


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
    """Export the trial picked by the sweep's select rule (or ``trial_number``)."""
    spec = study.user_attrs.get("topicsweep_spec")
    if spec is None:
        raise UserError(f"study '{study.study_name}' was not created by topicsweep sweep")
    objectives = spec["objectives"]
    rows = trial_rows(study)
    if not rows:
        raise UserError(f"study '{study.study_name}' has no COMPLETE trial yet")
    if trial_number is None:
        select = spec["select"]
        chosen = choose(rows, objectives, SelectRule(select["rule"], select["weights"], tuple(select["order"])))
    else:
        chosen = next((r for r in rows if r.number == trial_number), None)
        if chosen is None:
            raise UserError(f"trial {trial_number} of study '{study.study_name}' is not COMPLETE; "
                            f"complete trials: {', '.join(str(r.number) for r in rows)}")
    trial = study.trials[chosen.number]
    cfg = OmegaConf.create(trial.user_attrs["config"])
    cfg.run_name = f"{study.study_name}-trial-{chosen.number}"
    directory = output_dir / "sweeps" / study.study_name / "best"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.yaml").write_text(OmegaConf.to_yaml(cfg), encoding="utf-8")

    seeds = seed_values(cfg, spec["seeds"]) or [None]
    session = Session(Path(cfg.paths.cache_dir))
    results = [session.run(_with_seed(cfg, seed)) for seed in seeds]
    metrics = aggregate([r.metrics for r in results])
    reproduced = all(_same(metrics.get(k, math.nan), v) for k, v in chosen.metrics.items())
    write_run_dir(directory / "run", cfg, results[0])

    constraints = [Constraint(m, -math.inf if lo is None else lo, math.inf if hi is None else hi)
                   for m, lo, hi in spec["constraints"]]
    _write_tables(directory, chosen, metrics, rows, objectives, results[0])
    english, chinese = methods_paragraphs(cfg, study, spec, chosen, results[0], constraints, len(rows))
    (directory / "methods_en.md").write_text(english + "\n", encoding="utf-8")
    (directory / "methods_zh.md").write_text(chinese + "\n", encoding="utf-8")
    return Export(directory, chosen.number, reproduced, metrics)


def _with_seed(cfg: DictConfig, seed: int | None) -> DictConfig:
    if seed is None:
        return cfg
    copy = OmegaConf.create(OmegaConf.to_container(cfg))
    copy.reducer.random_state = seed
    return copy


def _same(a: float | None, b: float | None) -> bool:
    a = math.nan if a is None else a
    b = math.nan if b is None else b
    return (math.isnan(a) and math.isnan(b)) or a == b


def _write_tables(directory: Path, chosen: TrialRow, metrics: dict[str, float], rows: list[TrialRow],
                  objectives: dict[str, str], result: Any) -> None:
    params = [{"parameter": k, "value": v} for k, v in chosen.params.items()]
    (directory / "params.md").write_text(markdown(params, ["parameter", "value"]), encoding="utf-8")
    (directory / "params.tex").write_text(latex(params, ["parameter", "value"], f"Hyperparameters of trial "
                                                                              f"{chosen.number}"), encoding="utf-8")
    metric_rows = []
    for name, value in metrics.items():
        if name.endswith("_sd"):
            continue
        sd = metrics.get(f"{name}_sd")
        shown = f"{value:.4f} ± {sd:.4f}" if sd is not None and not math.isnan(sd) else value
        metric_rows.append({"metric": name, "value": shown})
    (directory / "metrics.md").write_text(markdown(metric_rows, ["metric", "value"]), encoding="utf-8")
    (directory / "metrics.tex").write_text(latex(metric_rows, ["metric", "value"], f"Metrics of trial {chosen.number}"),
                                           encoding="utf-8")
    topics = [{"topic": r["topic"], "size": r["size"], "words": r["words"]} for r in topic_rows(result)]
    (directory / "topics.md").write_text(markdown(topics, ["topic", "size", "words"]), encoding="utf-8")
    feasible = [r for r in rows if r.feasible] or rows
    pareto = pareto_front(feasible, objectives)
    columns = table_columns(pareto, list(objectives))
    (directory / "pareto.csv").write_text(csv_text(table_rows(pareto), columns), encoding="utf-8")
    (directory / "pareto.md").write_text(markdown(table_rows(pareto), columns), encoding="utf-8")
