"""Console output: a line per pipeline stage while it runs, and result tables."""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

# On a pipe or a file no line is wrapped: rich would otherwise assume 80 columns (or $COLUMNS) and
# fold table rows and trial lines. Tables are only as wide as their content.
PIPE_WIDTH = 100_000


def _console(stderr: bool) -> Console:
    """A console that measures the terminal, or never wraps when the output is not a terminal."""
    stream = sys.stderr if stderr else sys.stdout
    is_terminal = hasattr(stream, "isatty") and stream.isatty()
    return Console(stderr=stderr, highlight=False, width=None if is_terminal else PIPE_WIDTH)


err_console = _console(stderr=True)
out_console = _console(stderr=False)

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
    """A table of dict rows with the given columns (cells are plain text, never markup).

    In a terminal too narrow for the table, only columns of several words wrap (between words);
    single-word columns are cut with an ellipsis, so no word is split across lines. Numeric
    columns are right-aligned.
    """
    table = Table(title=title, title_justify="left")
    cells = [[format_value(row.get(column, "")) for column in columns] for row in rows]
    for index, column in enumerate(columns):
        values = [line[index] for line in cells]
        words = any(" " in value.strip() for value in values)
        numeric = bool(values) and all(_is_number(v) for v in values if v)
        table.add_column(column.rsplit(".", 1)[-1], justify="right" if numeric else "left", no_wrap=not words,
                         overflow="fold" if words else "ellipsis")
    for line in cells:
        table.add_row(*(Text(value) for value in line))
    return table


def fit_columns(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], optional: Sequence[str],
                width: int) -> tuple[list[str], list[str]]:
    """The columns of a :func:`rows_table` that fit ``width`` without cutting a word, and those left out.

    ``optional`` columns are left out in their order until the narrowest rendering (several-word
    cells wrapped at their longest word, every other cell whole) fits.
    """
    shown, dropped = list(columns), []
    for column in optional:
        if _narrowest(rows, shown) <= width:
            break
        shown.remove(column)
        dropped.append(column)
    return shown, dropped


def _narrowest(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> int:
    """Width of the narrowest rows_table that splits no word: cells, 2 spaces of padding, borders."""
    from rich.cells import cell_len

    total = len(columns) + 1
    for column in columns:
        values = [format_value(row.get(column, "")) for row in rows]
        words = any(" " in value.strip() for value in values)
        pieces = [piece for value in values for piece in (value.split() if words else [value])]
        total += 2 + max(cell_len(piece) for piece in [column.rsplit(".", 1)[-1], *pieces])
    return total


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def trial_line(trial: Mapping[str, Any], target: int) -> str:
    """One progress line per finished trial: number, params, headline metrics, state, seconds, and why it
    failed or is infeasible (``trial["infeasible"]``: the broken constraints, e.g. ``n_topics 2 < 3``)."""
    params = " ".join(f"{k.split('.')[-1]}={format_value(v)}" for k, v in trial["params"].items())
    metrics = trial["metrics"]
    shown = " ".join(f"{name}={format_value(metrics[name])}" for name in
                     ("n_topics", "outlier_ratio", "coherence_npmi", "coherence_cv", "diversity", "nmi")
                     if metrics.get(name) is not None)
    colour = {"COMPLETE": "green", "FAIL": "red"}.get(trial["state"], "yellow")
    seconds = f"{trial['seconds']:.1f}s" if trial["seconds"] is not None else ""
    reason = f" ({escape(str(trial['reason']))})" if trial.get("reason") else ""
    infeasible = f" [yellow]infeasible: {escape('; '.join(trial['infeasible']))}[/yellow]" \
        if trial.get("infeasible") else ""
    worker = os.environ.get("TOPICSWEEP_WORKER")
    prefix = f"\\[worker {worker}] " if worker else ""
    return (f"{prefix}trial {trial['number']:>3}/{target} [{colour}]{trial['state']:<8}[/{colour}] {seconds:>7} "
            f"{escape(params)} | {shown}{infeasible}{reason}")
