"""Plain Markdown, LaTeX and CSV tables from rows of dicts (no extra dependencies)."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

DECIMALS = 3
_NUMERIC = re.compile(r"^-?\d+(\.\d+)?( ± \d+(\.\d+)?)?$")
_LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                  "±": r"$\pm$", "≤": r"$\leq$", "≥": r"$\geq$", "∈": r"$\in$", "–": "--", "…": r"\ldots{}",
                  "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}


def cell(value: Any) -> str:
    """The one number format of every exported table.

    Integers (and integral floats) as integers, other numbers with 3 decimals (scores and ratios
    alike), None/nan as an empty cell, everything else as text.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.{DECIMALS}f}"
    return str(value)


def with_sd(value: float | None, sd: float | None) -> str:
    """``mean ± sd`` (both in :func:`cell`'s format; sd with the same 3 decimals), or the plain value."""
    if sd is None or (isinstance(sd, float) and math.isnan(sd)) or not cell(value):
        return cell(value)
    return f"{float(value):.{DECIMALS}f} ± {float(sd):.{DECIMALS}f}"


def markdown(rows: Sequence[Mapping[str, Any]], columns: Sequence[str],
             headers: Mapping[str, str] | None = None) -> str:
    """A GitHub-flavoured Markdown table (numeric columns right-aligned); ``headers`` renames columns."""
    cells = [[cell(row.get(c)).replace("|", "\\|") for c in columns] for row in rows]
    align = ["---:" if _numeric(cells, i) else "---" for i in range(len(columns))]
    lines = ["| " + " | ".join(_header(c, headers) for c in columns) + " |", "|" + "|".join(align) + "|"]
    lines.extend("| " + " | ".join(line) + " |" for line in cells)
    return "\n".join(lines) + "\n"


def latex(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], caption: str, label: str | None = None,
          headers: Mapping[str, str] | None = None, rules_before: Sequence[int] = ()) -> str:
    """A booktabs LaTeX table (``\\usepackage{booktabs}``) with ``\\caption`` and ``\\label``.

    Args:
        rows, columns: The data and the keys shown, in order.
        caption: Plain text (escaped here).
        label: ``tab:...`` reference key; derived from the caption when None.
        headers: Column key to its header text.
        rules_before: Row indexes that start a new block (a ``\\midrule`` above them).
    """
    cells = [[cell(row.get(c)) for c in columns] for row in rows]
    spec = "".join("r" if _numeric(cells, i) else "l" for i in range(len(columns)))
    body = []
    for index, line in enumerate(cells):
        if index in rules_before:
            body.append(r"\midrule")
        body.append(" & ".join(_latex_escape(text) for text in line) + r" \\")
    return "\n".join([
        r"\begin{table}[ht]", r"\centering", rf"\caption{{{_latex_escape(caption)}}}",
        rf"\label{{{latex_label(label or caption)}}}",
        r"\begin{tabular}{" + spec + "}", r"\toprule",
        " & ".join(_latex_escape(_header(c, headers)) for c in columns) + r" \\", r"\midrule", *body,
        r"\bottomrule", r"\end{tabular}", r"\end{table}", "",
    ])


def latex_label(text: str) -> str:
    """A ``\\label`` key: ``tab:`` + lower-case letters, digits and hyphens (``Trials of t`` → ``tab:trials-of-t``)."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower().removeprefix("tab:")).strip("-")
    return f"tab:{slug or 'table'}"


def csv_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """CSV with a header row (full precision)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in columns})
    return buffer.getvalue()


def _header(column: str, headers: Mapping[str, str] | None) -> str:
    return (headers or {}).get(column, column)


def _numeric(cells: Sequence[Sequence[str]], index: int) -> bool:
    """Whether every non-empty cell of a column is a number (or ``mean ± sd``)."""
    values = [line[index] for line in cells if line[index]]
    return bool(values) and all(_NUMERIC.match(v) for v in values)


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)
