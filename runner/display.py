"""Console output: a line per pipeline stage while it runs, and result tables."""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

# Wide enough for result tables when the output is a pipe or a file (rich would assume 80 columns).
_WIDTH = shutil.get_terminal_size((160, 24)).columns
err_console = Console(stderr=True, highlight=False, width=_WIDTH)
out_console = Console(highlight=False, width=_WIDTH)

SUMMARY_METRICS = ("n_topics", "outlier_ratio", "coherence_npmi", "coherence_cv", "coherence_umass",
                   "coherence_uci", "diversity", "irbo", "nmi", "ari", "coherence_missing_words")


@contextlib.contextmanager
def stage_progress(stage: str) -> Iterator[None]:
    """Spinner while a stage runs, then one line with its duration."""
    start = time.perf_counter()
    with err_console.status(f"[bold]{stage}[/bold] …"):
        yield
    err_console.print(f"  [green]✓[/green] {stage:<8} {time.perf_counter() - start:7.2f} s")


def format_value(value: Any) -> str:
    """Numbers with 4 decimals (integers as integers), nan as 'nan'."""
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return str(int(value)) if value.is_integer() else f"{value:.4f}"
    return str(value)


def metrics_table(metrics: Mapping[str, float], title: str = "metrics") -> Table:
    """The headline metrics of one run (those present)."""
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name in SUMMARY_METRICS:
        if name in metrics:
            table.add_row(name, format_value(metrics[name]))
    return table


def rows_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], title: str) -> Table:
    """A table of dict rows with the given columns."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column.rsplit(".", 1)[-1], overflow="fold")
    for row in rows:
        table.add_row(*(format_value(row.get(column, "")) for column in columns))
    return table


def trial_line(trial: Mapping[str, Any], target: int) -> str:
    """One progress line per finished trial: number, params, headline metrics, state, seconds."""
    params = " ".join(f"{k.split('.')[-1]}={format_value(v)}" for k, v in trial["params"].items())
    metrics = trial["metrics"]
    shown = " ".join(f"{name}={format_value(metrics[name])}" for name in
                     ("n_topics", "outlier_ratio", "coherence_npmi", "coherence_cv", "diversity", "nmi")
                     if metrics.get(name) is not None)
    colour = {"COMPLETE": "green", "FAIL": "red"}.get(trial["state"], "yellow")
    seconds = f"{trial['seconds']:.1f}s" if trial["seconds"] is not None else ""
    reason = f" ({trial['reason']})" if trial.get("reason") else ""
    worker = os.environ.get("TOPICSWEEP_WORKER")
    prefix = f"[worker {worker}] " if worker else ""
    return (f"{prefix}trial {trial['number']:>3}/{target} [{colour}]{trial['state']:<8}[/{colour}] {seconds:>7} "
            f"{params} | {shown}{reason}")
