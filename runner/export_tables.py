"""The tables of ``topicsweep best``: parameters, metrics, topics and trials side by side, with readers' names.

Rows are plain dicts; :mod:`runner.tables` renders them (one number format: integers as integers,
everything else with 3 decimals, ``mean ± sd`` with seeds). Diagnostics are never shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runner.names import HEADLINE_METRICS, is_diagnostic, metric_label, param_label
from runner.outputs import topic_rows
from runner.tables import cell, latex, markdown, with_sd

EXCERPT_CHARS = 160


@dataclass(frozen=True)
class TrialView:
    """One exported trial: its number, sampled parameters, metrics (mean and ``_sd``), feasibility."""

    number: int
    params: Mapping[str, Any]
    metrics: Mapping[str, float]
    feasible: bool
    chosen: bool = False


def shown_metrics(metrics: Mapping[str, float]) -> list[str]:
    """Metrics a reader compares: headline metrics in their usual order, then any other non-diagnostic one."""
    names = [m for m in metrics if not m.endswith("_sd") and not is_diagnostic(m)]
    return [m for m in HEADLINE_METRICS if m in names] + [m for m in names if m not in HEADLINE_METRICS]


def param_value(value: Any) -> str:
    """A sampled value as a cell: None as ``null`` (e.g. nr_topics), numbers in the table format."""
    return "null" if value is None else cell(value)


def param_rows(params: Mapping[str, Any], cfg: Any) -> list[dict[str, Any]]:
    """``parameter`` (reader's name), ``key`` (config key) and ``value`` per sampled parameter."""
    return [{"parameter": param_label(key, cfg), "key": key, "value": param_value(value)}
            for key, value in params.items()]


def column_headers(columns: Sequence[str], cfg: Any) -> dict[str, str]:
    """Readers' names for the columns of a trials table (config keys and metric names; others unchanged)."""
    headers = {}
    for column in columns:
        if column in HEADLINE_METRICS:
            headers[column] = metric_label(column)
        elif column not in ("trial", "feasible"):
            headers[column] = param_label(column, cfg)
    return headers


def metric_rows(metrics: Mapping[str, float]) -> list[dict[str, Any]]:
    """``metric`` (reader's name) and ``value`` (``mean ± sd`` with seeds), diagnostics left out."""
    return [{"metric": metric_label(name), "value": with_sd(metrics[name], metrics.get(f"{name}_sd"))}
            for name in shown_metrics(metrics)]


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """One line of at most ``limit`` characters (whitespace collapsed, cut at a word, with …)."""
    flat = re.sub(r"\s+", " ", text).strip()
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0].rstrip(" ,.;:") + " …"


def topics_markdown(result: Any, title: str) -> str:
    """Topic table (id, size, BERTopic's label, top words), then each topic's representative documents."""
    rows = topic_rows(result)
    table = [{"topic": r["topic"], "size": r["size"], "label": r["name"], "words": _words(r)} for r in rows]
    lines = [f"# {title}", "", markdown(table, ["topic", "size", "label", "words"], {"words": "top words"}),
             "## Representative documents", ""]
    for topic in (r["topic"] for r in rows):
        docs = result.topics.representative_docs.get(topic, [])
        if not docs:
            continue
        lines.append(f"**{topic}** `{result.topics.names.get(topic, topic)}`")
        lines.extend(f"- {excerpt(doc)}" for doc in docs)
        lines.append("")
    return "\n".join(lines)


def topics_latex(result: Any, caption: str, label: str) -> str:
    """Topic id, size and top words as a booktabs table."""
    rows = [{"topic": r["topic"], "size": r["size"], "words": _words(r)} for r in topic_rows(result)]
    return latex(rows, ["topic", "size", "words"], caption, label, {"words": "top words"})


def _words(row: Mapping[str, Any]) -> str:
    return "(outliers, not a topic)" if row["topic"] == -1 else row["words"]


def comparison_table(trials: Sequence[TrialView], cfg: Any) -> tuple[list[dict[str, Any]], list[str],
                                                                        dict[str, str], list[int]]:
    """Trials side by side: one column per trial, parameter rows, then metric rows, then feasibility.

    Returns:
        rows, columns, headers and the index of the first metric row (a rule above it in LaTeX).
    """
    columns = ["item", *(f"t{t.number}" for t in trials)]
    headers = {"item": "", **{f"t{t.number}": f"trial {t.number}" + (" (chosen)" if t.chosen else "") for t in trials}}
    keys = list(dict.fromkeys(k for t in trials for k in t.params))
    rows: list[dict[str, Any]] = [
        {"item": param_label(key, cfg), **{f"t{t.number}": param_value(t.params.get(key)) if key in t.params else ""
                                           for t in trials}} for key in keys]
    first_metric = len(rows)
    metrics = list(dict.fromkeys(m for t in trials for m in shown_metrics(t.metrics)))
    for name in metrics:
        values = {f"t{t.number}": with_sd(t.metrics.get(name), t.metrics.get(f"{name}_sd")) for t in trials}
        rows.append({"item": metric_label(name), **values})
    rows.append({"item": "feasible", **{f"t{t.number}": t.feasible for t in trials}})
    return rows, columns, headers, [first_metric]


def comparison_records(trials: Sequence[TrialView]) -> tuple[list[dict[str, Any]], list[str]]:
    """The same trials as tidy CSV records (one row per trial, config keys and metric names, full precision)."""
    keys = list(dict.fromkeys(k for t in trials for k in t.params))
    metrics = list(dict.fromkeys(m for t in trials for m in shown_metrics(t.metrics)))
    with_sds = [c for m in metrics for c in (m, f"{m}_sd") if any(c in t.metrics for t in trials)]
    records = [{"trial": t.number, "chosen": t.chosen, "feasible": t.feasible, **t.params, **t.metrics} for t in trials]
    return records, ["trial", "chosen", "feasible", *keys, *with_sds]
