"""Static (matplotlib) versions of the run figures, for papers: PNG at a chosen dpi plus PDF or SVG.

Plotly's static export needs a browser engine, so these are drawn by hand from the same data the
interactive BERTopic figures show. Every function takes plain data and a :class:`StaticOutput`;
labels with Chinese (any non-ASCII) characters get a CJK font (see :mod:`runner.fonts`).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from runner.fonts import use_cjk_font

_BAR = "#4c72b0"
_GREY = "#b0b0b0"


@dataclass(frozen=True)
class StaticOutput:
    """Where and how static figures are written.

    Attributes:
        folder: Directory of the files (``<run_dir>/figures``).
        formats: File formats, e.g. ``("png", "pdf")``.
        dpi: Resolution of raster formats (PNG).
    """

    folder: Path
    formats: tuple[str, ...]
    dpi: int

    def save(self, figure: Any, name: str) -> list[Path]:
        """Write ``figure`` as ``<folder>/<name>.<format>`` for each format; the paths written."""
        self.folder.mkdir(parents=True, exist_ok=True)
        paths = [self.folder / f"{name}.{fmt}" for fmt in self.formats]
        for path in paths:
            figure.savefig(path, dpi=self.dpi, bbox_inches="tight")
        return paths


@contextlib.contextmanager
def _style(labels: Sequence[str]) -> Iterator[None]:
    """matplotlib settings for one figure: a CJK font when any label needs one."""
    from matplotlib import rc_context

    settings: dict[str, Any] = {"font.size": 9, "axes.spines.top": False, "axes.spines.right": False}
    if not all(str(label).isascii() for label in labels):
        use_cjk_font(settings)
    with rc_context(settings):
        yield


def _new_figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def barchart(topics: Sequence[tuple[int, Sequence[tuple[str, float]]]], out: StaticOutput,
             score: str = "c-TF-IDF") -> list[Path]:
    """One panel per topic: its top words' scores (BERTopic's ``visualize_barchart``; ``score`` names them)."""
    columns = min(4, len(topics))
    rows = math.ceil(len(topics) / columns)
    labels = [word for _, pairs in topics for word, _ in pairs]
    with _style(labels):
        figure = _new_figure(2.6 * columns, 1.9 * rows + 0.4)
        axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
        colours = _colours(len(topics))
        for index, (topic, pairs) in enumerate(topics):
            words = [word for word, _ in pairs][::-1]
            scores = [score for _, score in pairs][::-1]
            axes[index].barh(range(len(words)), scores, color=colours[index])
            axes[index].set_yticks(range(len(words)), words)
            axes[index].set_title(f"Topic {topic}", fontsize=9)
            axes[index].tick_params(axis="x", labelsize=7)
        for extra in axes[len(topics):]:
            extra.set_visible(False)
        figure.suptitle(f"Topic word scores ({score})")
        return out.save(figure, "barchart")


def intertopic(x: Sequence[float], y: Sequence[float], topics: Sequence[int], sizes: Sequence[int],
               words: Sequence[str], out: StaticOutput, labelled: int = 12) -> list[Path]:
    """Intertopic distance map: topics as circles (area ~ size) at BERTopic's 2-D topic coordinates."""
    sizes_array = np.asarray(sizes, dtype=float)
    with _style(words):
        figure = _new_figure(6.5, 6)
        axes = figure.subplots()
        axes.scatter(x, y, s=2000 * sizes_array / sizes_array.max(), color=_GREY, alpha=0.6,
                     edgecolors="#2f4f4f", linewidths=1)
        axes.axhline(float(np.mean(y)), color="#999999", linewidth=0.6)
        axes.axvline(float(np.mean(x)), color="#999999", linewidth=0.6)
        span = max(float(np.ptp(x)), float(np.ptp(y)), 1e-9)
        placed: list[int] = []
        for rank in np.argsort(-sizes_array)[:labelled]:
            if any(math.hypot(x[rank] - x[other], y[rank] - y[other]) < 0.06 * span for other in placed):
                continue  # a larger topic's label sits on this one already
            placed.append(int(rank))
            axes.annotate(f"{topics[rank]}: {' '.join(str(words[rank]).split(' | ')[:3])}", (x[rank], y[rank]),
                          fontsize=7, ha="center", va="center")
        _blank_map(axes)
        axes.margins(0.15)
        axes.set_title(f"Intertopic distance map ({len(topics)} topics; circle area = documents; "
                       "largest labelled where they do not overlap)", fontsize=9)
        return out.save(figure, "intertopic")


def documents(xy: np.ndarray, labels: np.ndarray, names: Mapping[int, str], out: StaticOutput, note: str,
              labelled: int = 15) -> list[Path]:
    """Document map: each document at its 2-D UMAP position, coloured by topic, outliers grey."""
    label_text = [names.get(int(t), str(t)) for t in np.unique(labels)]
    with _style(label_text):
        figure = _new_figure(8, 7)
        axes = figure.subplots()
        outliers = labels == -1
        point = max(1.0, min(8.0, 8000 / max(len(labels), 1)))
        axes.scatter(xy[outliers, 0], xy[outliers, 1], s=point, color="#d0d0d0", linewidths=0, rasterized=True)
        topics = [int(t) for t in np.unique(labels) if t != -1]
        colours = _colours(len(topics))
        for colour, topic in zip(colours, topics):
            mask = labels == topic
            axes.scatter(xy[mask, 0], xy[mask, 1], s=point, color=colour, linewidths=0, alpha=0.8, rasterized=True)
        sizes = {topic: int((labels == topic).sum()) for topic in topics}
        for topic in sorted(topics, key=lambda t: -sizes[t])[:labelled]:
            centre = np.median(xy[labels == topic], axis=0)
            axes.annotate(names.get(topic, str(topic)), centre, fontsize=7, ha="center", va="center",
                          bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.7, "linewidth": 0})
        _blank_map(axes)
        axes.set_title(f"Documents and topics (2-D UMAP; {note}; outliers grey)", fontsize=9)
        return out.save(figure, "documents")


def dendrogram(linkage: np.ndarray, leaf_labels: Sequence[str], out: StaticOutput) -> list[Path]:
    """Topic hierarchy: the Ward linkage of the topics' c-TF-IDF vectors (BERTopic's ``hierarchical_topics``)."""
    from scipy.cluster import hierarchy

    with _style(leaf_labels):
        figure = _new_figure(8, 0.22 * len(leaf_labels) + 1.2)
        axes = figure.subplots()
        hierarchy.dendrogram(linkage, orientation="left", labels=list(leaf_labels), ax=axes,
                             color_threshold=0.7 * float(linkage[:, 2].max()), above_threshold_color="#555555",
                             leaf_font_size=7)
        axes.set_xlabel("distance (Ward linkage of c-TF-IDF cosine distances)")
        axes.set_title("Hierarchical clustering of topics", fontsize=9)
        return out.save(figure, "hierarchy")


def heatmap(similarity: np.ndarray, labels: Sequence[str], out: StaticOutput) -> list[Path]:
    """Cosine similarity between topic embeddings (BERTopic's ``visualize_heatmap``)."""
    size = 0.18 * len(labels) + 2.5
    with _style(labels):
        figure = _new_figure(size + 1.2, size)
        axes = figure.subplots()
        image = axes.imshow(similarity, cmap="GnBu", vmin=min(0.0, float(similarity.min())), vmax=1.0)
        axes.set_xticks(range(len(labels)), labels, rotation=90, fontsize=6)
        axes.set_yticks(range(len(labels)), labels, fontsize=6)
        figure.colorbar(image, ax=axes, shrink=0.7, label="cosine similarity")
        axes.set_title(f"Topic similarity ({len(labels)} largest topics)", fontsize=9)
        return out.save(figure, "heatmap")


def distribution(before: Mapping[int, int], after: Mapping[int, int], strategy: str, out: StaticOutput,
                 compared: int = 20) -> list[Path]:
    """Topic sizes (left) and, per topic, documents before/after outlier reduction (right)."""
    topics = sorted((t for t in after if t != -1), key=lambda t: (-after[t], t))
    with _style([]):
        figure = _new_figure(11, 4)
        left, right = figure.subplots(1, 2, width_ratios=(1.2, 1))
        left.bar(range(len(topics)), [after[t] for t in topics], color=_BAR, width=0.85)
        if len(topics) <= 40:
            left.set_xticks(range(len(topics)), [str(t) for t in topics], fontsize=7, rotation=90)
        else:
            left.set_xticks([])
        left.set_xlabel("topic, largest first")
        left.set_ylabel("documents")
        total = sum(after.values())
        left.set_title(f"Topic sizes: {len(topics)} topics, {after.get(-1, 0)} of {total} documents outliers",
                       fontsize=9)
        shown = [-1, *topics[:compared]]
        positions = np.arange(len(shown))
        right.bar(positions - 0.2, [before.get(t, 0) for t in shown], width=0.4, color=_GREY, label="before")
        right.bar(positions + 0.2, [after.get(t, 0) for t in shown], width=0.4, color=_BAR, label="after")
        right.set_xticks(positions, ["outliers" if t == -1 else str(t) for t in shown], rotation=90, fontsize=7)
        right.set_ylabel("documents")
        right.legend(frameon=False)
        right.set_title(f"Outlier reduction ({strategy}): outliers {before.get(-1, 0)} -> {after.get(-1, 0)}",
                        fontsize=9)
        return out.save(figure, "distribution")


def over_time(table: Any, names: Mapping[int, str], out: StaticOutput, top_n: int = 10) -> list[Path]:
    """Documents per topic per time bin (BERTopic's ``topics_over_time``) for the largest topics."""
    totals = table[table.Topic != -1].groupby("Topic").Frequency.sum().sort_values(ascending=False)
    shown = [int(t) for t in totals.index[:top_n]]
    labels = [names.get(t, str(t)) for t in shown]
    with _style(labels):
        figure = _new_figure(9, 4.5)
        axes = figure.subplots()
        for colour, topic, label in zip(_colours(len(shown)), shown, labels):
            rows = table[table.Topic == topic].sort_values("Timestamp")
            axes.plot(rows.Timestamp, rows.Frequency, marker="o", markersize=3, color=colour, label=label)
        axes.set_ylabel("documents")
        axes.legend(fontsize=7, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
        axes.set_title(f"Topics over time ({len(shown)} largest topics)", fontsize=9)
        figure.autofmt_xdate()
        return out.save(figure, "over_time")


def _blank_map(axes: Any) -> None:
    """No ticks and no frame: map coordinates have no meaning of their own."""
    axes.set_xticks([])
    axes.set_yticks([])
    for spine in axes.spines.values():
        spine.set_visible(False)


def _colours(count: int) -> list[Any]:
    from matplotlib import colormaps

    palette = colormaps["tab20"]
    return [palette(index % 20) for index in range(count)]
