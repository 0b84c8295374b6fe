"""Static figures for run directories (PNG, usable in a paper or the MLflow UI)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.cache import atomic_write
from runner.fonts import use_cjk_font

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FIGURE_DPI = 120
"""Resolution of the PNG figures (the layout is measured at it)."""


def topic_overview(rows: Sequence[Mapping[str, Any]], path: Path, max_topics: int = 20) -> Path | None:
    """Horizontal bars of the largest topics' sizes, labelled with their top words; None without topics.

    Chinese (any non-ASCII) labels get a CJK font when one is installed (see :mod:`runner.fonts`).
    """
    from matplotlib import rc_context

    topics = [row for row in rows if row["topic"] != -1][:max_topics]
    if not topics:
        return None
    settings: dict[str, Any] = {}
    if not all(str(row["words"]).isascii() for row in topics):
        use_cjk_font(settings)
    with rc_context(settings):
        figure = topic_overview_figure(topics)
        # atomically: workers leaving at the same time draw the figures of a dead worker's trials
        atomic_write(path, lambda handle: figure.savefig(handle, dpi=FIGURE_DPI, format="png",
                                                         pil_kwargs={"compress_level": 1}))
    return path


def topic_overview_figure(topics: Sequence[Mapping[str, Any]]) -> Figure:
    """The bars of :func:`topic_overview` (topics without the outliers), laid out for its labels.

    The left margin fits the widest label, measured once per label at the saving resolution; the
    other margins are fixed (one line of tick labels and axis label below, the title above).
    ``tight_layout`` measured the same by drawing the whole figure once more: a quarter of its cost.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 0.4 * len(topics) + 1.3), dpi=FIGURE_DPI)
    axes = figure.subplots()
    positions = range(len(topics))
    axes.barh(positions, [row["size"] for row in topics], color="#4c72b0")
    axes.set_yticks(positions, [f"{row['topic']}: {' '.join(str(row['words']).split()[:5])}" for row in topics])
    axes.invert_yaxis()
    axes.set_xlabel("documents")
    axes.set_title(f"{len(topics)} largest topics (outliers excluded)")
    renderer = FigureCanvasAgg(figure).get_renderer()
    widest = max(label.get_window_extent(renderer).width for label in axes.get_yticklabels())
    width, height = figure.get_size_inches() * FIGURE_DPI
    tick_and_gap = (axes.yaxis.get_major_ticks()[0].get_tick_padding() + 8) * FIGURE_DPI / 72  # points -> pixels
    figure.subplots_adjust(left=min(0.75, (widest + tick_and_gap) / width), right=1 - 0.3 * FIGURE_DPI / width,
                           bottom=0.6 * FIGURE_DPI / height, top=1 - 0.4 * FIGURE_DPI / height)
    return figure
