"""Plain Markdown, LaTeX and CSV tables from rows of dicts (no extra dependencies)."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

_LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                  "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}


def cell(value: Any) -> str:
    """Numbers with 4 significant decimals, integers as integers, None/nan as an empty cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.4f}"
    return str(value)


def markdown(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(cell(row.get(c)).replace("|", "\\|") for c in columns) + " |")
    return "\n".join(lines) + "\n"


def latex(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], caption: str) -> str:
    """A booktabs LaTeX table (``\\usepackage{booktabs}``)."""
    escape = _latex_escape
    body = [" & ".join(escape(cell(row.get(c))) for c in columns) + r" \\" for row in rows]
    return "\n".join([
        r"\begin{table}[ht]", r"\centering", rf"\caption{{{escape(caption)}}}",
        r"\begin{tabular}{" + "l" * len(columns) + "}", r"\toprule",
        " & ".join(escape(c) for c in columns) + r" \\", r"\midrule", *body, r"\bottomrule", r"\end{tabular}",
        r"\end{table}", "",
    ])


def csv_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """CSV with a header row (full precision)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in columns})
    return buffer.getvalue()


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)
