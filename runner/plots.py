"""Static figures for run directories (PNG, usable in a paper or the MLflow UI)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from runner.cache import atomic_write
from runner.fonts import use_cjk_font


def topic_overview(rows: Sequence[Mapping[str, Any]], path: Path, max_topics: int = 20) -> Path | None:
    """Horizontal bars of the largest topics' sizes, labelled with their top words; None without topics.

    Chinese (any non-ASCII) labels get a CJK font when one is installed (see :mod:`runner.fonts`).
    """
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    topics = [row for row in rows if row["topic"] != -1][:max_topics]
    if not topics:
        return None
    settings: dict[str, Any] = {}
    if not all(str(row["words"]).isascii() for row in topics):
        use_cjk_font(settings)
    with rc_context(settings):
        figure = Figure(figsize=(9, 0.4 * len(topics) + 1.3))
        axes = figure.subplots()
        positions = range(len(topics))
        axes.barh(positions, [row["size"] for row in topics], color="#4c72b0")
        axes.set_yticks(positions, [f"{row['topic']}: {' '.join(str(row['words']).split()[:5])}" for row in topics])
        axes.invert_yaxis()
        axes.set_xlabel("documents")
        axes.set_title(f"{len(topics)} largest topics (outliers excluded)")
        figure.tight_layout()
        # atomically: workers leaving at the same time draw the figures of a dead worker's trials
        atomic_write(path, lambda handle: figure.savefig(handle, dpi=120, format="png"))
    return path
