"""``topicsweep best --seeds K``: does the chosen configuration survive other seeds?

Re-runs one trial's configuration with its seed key (``reducer.random_state`` for BERTopic,
``model.random_state`` for the other models; :func:`runner.models.base.seed_key`) = its seed … seed + K − 1
(every expensive stage but the seeded one is cached), and writes under ``sweeps/<study>/seeds/``:

* ``metrics.{md,tex,csv}``: every headline metric as mean ± sd over the K runs, and per seed;
* ``stability.{md,tex,csv}``: each topic of the first seed's run, matched in every other run by
  top-word overlap (:mod:`runner.metrics.stability`), its stability and overall stability;
* ``stability.png``: per-topic stability and the seed × seed pair-stability matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from runner.errors import UserError
from runner.export_tables import shown_metrics
from runner.metrics.stability import DEFAULT_MEASURE, Stability, stability
from runner.models.base import seed_key, with_seed
from runner.names import metric_label
from runner.pipeline import RunResult, Session
from runner.sweep import aggregate, seed_values
from runner.tables import cell, csv_text, latex, markdown, with_sd

SHOWN_WORDS = 5
_MISSING = object()


@dataclass(frozen=True)
class SeedReport:
    """What ``best --seeds`` computed and where it wrote it."""

    directory: Path
    trial: int
    seeds: tuple[int, ...]
    metrics: dict[str, float]
    stability: Stability
    key: str = "reducer.random_state"

    @property
    def seed_name(self) -> str:
        """What the seeds seed: "UMAP" for BERTopic's reducer, else the key (e.g. ``model.random_state``)."""
        return "UMAP" if self.key == "reducer.random_state" else self.key


def seed_robustness(study: Any, output_dir: Path, count: int, trial_number: int | None = None,
                    measure: str = DEFAULT_MEASURE) -> SeedReport:
    """Re-run the chosen trial (or ``trial_number``) over ``count`` seeds; write tables and the figure.

    Raises:
        UserError: Fewer than 2 seeds, or a reducer (model) without ``random_state``.
    """
    from runner.export import trial_config

    if count < 2:
        raise UserError(f"--seeds {count}: give at least 2 seeds to measure how results vary")
    number, cfg = trial_config(study, trial_number)
    key = seed_key(cfg)
    if OmegaConf.select(cfg, key, default=_MISSING) is _MISSING:
        raise UserError(f"--seeds varies {key}, which the {key.split('.')[0]} "
                        f"{OmegaConf.select(cfg, key.split('.')[0] + '._target_')} of trial {number} does not have")
    seeds = seed_values(cfg, count) or []
    session = Session(Path(cfg.paths.cache_dir))
    results = [session.run(with_seed(cfg, seed)) for seed in seeds]
    metrics = aggregate([r.metrics for r in results])
    result = stability([r.topics.words for r in results], measure, top_k=int(cfg.metrics.top_n),
                       p=float(cfg.metrics.irbo_p))
    directory = output_dir / "sweeps" / study.study_name / "seeds"
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{study.study_name}-trial-{number}"
    _write_metrics(directory, name, number, seeds, results, metrics, key)
    _write_stability(directory, name, number, seeds, results, result, key)
    stability_figure(result, seeds, directory / "stability.png", seed_label=key)
    return SeedReport(directory, number, tuple(seeds), metrics, result, key)


def _write_metrics(directory: Path, name: str, number: int, seeds: Sequence[int], results: Sequence[RunResult],
                   metrics: dict[str, float], key: str) -> None:
    columns = ["metric", "mean ± sd", *(f"seed {s}" for s in seeds)]
    rows = [{"metric": metric_label(m), "mean ± sd": with_sd(metrics[m], metrics.get(f"{m}_sd")),
             **{f"seed {s}": cell(r.metrics.get(m)) for s, r in zip(seeds, results)}} for m in shown_metrics(metrics)]
    caption = f"Metrics of trial {number} ({name}) over {len(seeds)} seeds ({key}): mean ± sd and per seed"
    (directory / "metrics.md").write_text(markdown(rows, columns), encoding="utf-8")
    (directory / "metrics.tex").write_text(latex(rows, columns, caption, f"{name}-seeds-metrics"), encoding="utf-8")
    records = [{"metric": m, "mean": metrics[m], "sd": metrics.get(f"{m}_sd"),
                **{f"seed {s}": r.metrics.get(m) for s, r in zip(seeds, results)}} for m in shown_metrics(metrics)]
    (directory / "metrics.csv").write_text(csv_text(records, ["metric", "mean", "sd", *columns[2:]]), encoding="utf-8")


def _write_stability(directory: Path, name: str, number: int, seeds: Sequence[int], results: Sequence[RunResult],
                     result: Stability, key: str) -> None:
    labels = results[0].topics.labels
    others = [f"seed {s}" for s in seeds[1:]]
    rows, records = [], []
    for topic in result.topics:
        row = {"topic": topic.topic, "size": int((labels == topic.topic).sum()),
               "words": " ".join(topic.words[:SHOWN_WORDS]), "stability": topic.mean,
               "min": min(topic.similarities)}
        rows.append({**row, **{seed: cell(sim) for seed, sim in zip(others, topic.similarities)}})
        records.append({**row, "words": " ".join(topic.words),
                        **{seed: sim for seed, sim in zip(others, topic.similarities)},
                        **{f"{seed} topic": match for seed, match in zip(others, topic.matched)}})
    total = {"topic": "overall", "stability": result.overall}
    columns = ["topic", "size", "words", "stability", "min", *others]
    caption = (f"Topic stability of trial {number} ({name}) over seeds {', '.join(map(str, seeds))} ({key}): topics of "
               f"seed {seeds[0]} matched in each other run (Hungarian matching on {_measure_name(result)} of the top "
               f"{result.top_k} words; 0 = unmatched); overall = mean pair stability")
    (directory / "stability.md").write_text(markdown([*rows, total], columns), encoding="utf-8")
    (directory / "stability.tex").write_text(latex([*rows, total], columns, caption, f"{name}-stability",
                                                   rules_before=[len(rows)]), encoding="utf-8")
    record_columns = ["topic", "size", "words", "stability", "min", *others, *(f"{s} topic" for s in others)]
    (directory / "stability.csv").write_text(csv_text([*records, total], record_columns), encoding="utf-8")


def _measure_name(result: Stability) -> str:
    return "Jaccard overlap" if result.measure == "jaccard" else "rank-biased overlap"


def stability_figure(result: Stability, seeds: Sequence[int], path: Path, dpi: int = 150,
                     seed_label: str = "reducer.random_state") -> Path:
    """Per-topic stability (bars, the overall value as a line) and the seed × seed pair-stability matrix."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    from runner.fonts import use_cjk_font

    labels = [f"{t.topic}: {' '.join(t.words[:3])}" for t in result.topics]
    settings: dict[str, Any] = {"font.size": 8, "axes.spines.top": False, "axes.spines.right": False}
    if not all(label.isascii() for label in labels):
        use_cjk_font(settings)
    with rc_context(settings):
        figure = Figure(figsize=(10, max(3.0, 0.22 * len(labels) + 1.2)), layout="constrained")
        bars, matrix = figure.subplots(1, 2, width_ratios=[3, 2])
        positions = list(range(len(labels)))
        bars.barh(positions, [t.mean for t in result.topics], color="#4c72b0")
        bars.set_yticks(positions, labels)
        bars.invert_yaxis()
        bars.set_xlim(0, 1)
        bars.axvline(result.overall, color="#c44e52", linestyle="--", label=f"overall {result.overall:.3f}")
        bars.set_xlabel(f"stability ({_measure_name(result)} of the top {result.top_k} words, matched topic)")
        bars.legend(loc="lower right")
        image = matrix.imshow(result.pairwise, vmin=0, vmax=1, cmap="viridis")
        ticks = [str(s) for s in seeds]
        matrix.set_xticks(range(len(seeds)), ticks)
        matrix.set_yticks(range(len(seeds)), ticks)
        matrix.set_xlabel(seed_label)
        matrix.set_title("pair stability")
        for i in range(len(seeds)):
            for j in range(len(seeds)):
                value = result.pairwise[i, j]
                matrix.text(j, i, f"{value:.2f}", ha="center", va="center", color="white" if value < 0.6 else "black")
        figure.colorbar(image, ax=matrix, shrink=0.8)
        figure.savefig(path, dpi=dpi)
    return path
