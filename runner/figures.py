"""A run's figures: BERTopic's interactive plotly figures in one ``figures.html``, static copies in ``figures/``.

:func:`render_figures` draws the figures named in ``outputs.figures`` (see
:data:`runner.figures_config.FIGURES`), the topic hierarchy tables (``topics.hierarchy``) and, when
the corpus has timestamps, topics over time. A figure that cannot be drawn for this run (too few
topics, every document an outlier, an error inside a plotting library) is skipped with a one-line
reason instead of failing the run; :func:`runner.outputs.write_run_dir` records the reasons in
``metrics.json`` (``figures_skipped``) and the run's MLflow tags (``figures_skipped.<name>``).
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from runner import figures_static as static
from runner.config import select
from runner.figures_config import FigureSettings, figure_settings
from runner.pipeline import RunResult, embedding_key
from runner.stages.compiled_cache import cache_compiled_umap
from runner.stages.topics import FittedModel

log = logging.getLogger(__name__)

PAGE = "figures.html"
FOLDER = "figures"
# Fewest topics each figure needs: BERTopic's intertopic map runs UMAP with 2 neighbours on the topic
# vectors (scipy's eigh fails with "k >= N" below 3 topics); similarity and hierarchy need two topics.
MIN_TOPICS = {"barchart": 1, "intertopic": 3, "documents": 1, "hierarchy": 2, "heatmap": 2, "distribution": 1,
              "over_time": 1}
BARCHART_TOPICS = 8
HEATMAP_TOPICS = 30
SAMPLE_SEED = 42
_NO_TOPICS = "every document is an outlier (no topics)"
# Figures drawn from a TopicModelResult alone (its words, word scores, topic vectors, labels): the
# figures of models other than BERTopic; the rest need BERTopic's fitted model.
WITHOUT_BERTOPIC = ("barchart", "heatmap", "distribution")


@dataclass
class FigureReport:
    """What :func:`render_figures` did.

    Attributes:
        written: Names of the figures drawn.
        skipped: Figure (or ``model``) name to the one-line reason it was not drawn (saved).
        notes: Figure name to a remark about how it was drawn (e.g. a sampled document map).
        seconds: Figure name to the seconds it took.
    """

    written: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The keys added to the run's metrics.json (empty parts left out)."""
        parts = {"figures": self.written, "figures_skipped": self.skipped, "figures_notes": self.notes,
                 "figures_s": {name: round(seconds, 3) for name, seconds in self.seconds.items()}}
        return {key: value for key, value in parts.items() if value}


@dataclass
class _Context:
    run_dir: Path
    cfg: DictConfig
    result: RunResult
    fitted: FittedModel | None  # None: a model other than BERTopic, drawn from result.topics
    settings: FigureSettings
    out: static.StaticOutput
    report: FigureReport
    interactive: list[tuple[str, Any]] = field(default_factory=list)
    hierarchy: Any = None

    @property
    def model(self) -> Any:
        return self.fitted.model

    def topics_by_size(self) -> list[int]:
        if self.fitted is None:  # every topic of the model, assigned documents or not
            sizes = _counts(self.result.topics.labels)
            return sorted(self.result.topics.words, key=lambda t: (-sizes.get(t, 0), t))
        sizes = self.model.topic_sizes_
        return sorted((int(t) for t in sizes if t != -1), key=lambda t: (-sizes[t], t))

    def word_scores(self, topic: int) -> list[tuple[str, float]]:
        """The topic's top words with their scores (c-TF-IDF for BERTopic, the model's own otherwise)."""
        if self.fitted is None:
            topics = self.result.topics
            return list(zip(topics.words.get(topic, []), topics.word_scores.get(topic, [])))
        return [(w, s) for w, s in self.model.get_topic(topic) if w]

    def label(self, topic: int, words: int = 3) -> str:
        return f"{topic}: " + " ".join(w for w, _ in self.word_scores(topic)[:words])


def render_figures(run_dir: Path, cfg: DictConfig, result: RunResult) -> FigureReport:
    """Draw the configured figures and analyses of one run into ``run_dir``; never raises for a figure."""
    settings = figure_settings(cfg)
    report = FigureReport()
    wanted = [*settings.figures, *(["over_time"] if result.corpus.timestamps is not None else [])]
    fitted = result.topics.fitted
    if fitted is None and not result.topics.words:
        report.skipped.update({name: _NO_TOPICS for name in wanted})
        return report
    if fitted is None:
        reason = f"needs a fitted BERTopic model (this run is model={select(cfg, 'model.name', '?')})"
        report.skipped.update({name: reason for name in wanted if name not in WITHOUT_BERTOPIC})
        if settings.hierarchy:
            report.skipped["hierarchy_tables"] = reason
        wanted = [name for name in wanted if name in WITHOUT_BERTOPIC]
    ctx = _Context(run_dir, cfg, result, fitted, settings,
                   static.StaticOutput(run_dir / FOLDER, settings.formats, settings.dpi), report)
    n_topics = len(ctx.topics_by_size())
    if settings.hierarchy and "hierarchy" not in wanted and fitted is not None:
        _guarded(ctx, "hierarchy_tables", n_topics, lambda: _hierarchy_tables(ctx))
    for name in wanted:
        _guarded(ctx, name, n_topics, lambda name=name: _BUILDERS[name](ctx))
    if ctx.interactive:
        from runner.plot_page import figures_page

        title = f"Run {run_dir.name}: {result.corpus.name}, {n_topics} topics"
        (run_dir / PAGE).write_text(figures_page(title, ctx.interactive), encoding="utf-8")
    return report


def save_run_model(run_dir: Path, cfg: DictConfig, result: RunResult, report: FigureReport) -> Path | None:
    """Save the run's fitted model to ``run_dir/model`` (safetensors) when ``outputs.save_model``; its path.

    A run without a model, or a failed save, is noted in ``report.skipped["model"]`` instead of raising.
    """
    if not figure_settings(cfg).save_model:
        return None
    if result.topics.fitted is None:
        report.skipped["model"] = (_NO_TOPICS if not result.topics.words else "saving the model is for model=bertopic "
                                   f"(this run is model={select(cfg, 'model.name', '?')})")
        return None
    try:
        return save_fitted_model(result, run_dir / "model")
    except Exception as error:  # noqa: BLE001 - the run's results are written already; do not lose them
        log.warning("saving the model failed: %s", error, exc_info=True)
        report.skipped["model"] = f"failed: {type(error).__name__}: {str(error).splitlines()[0][:200]}"
        return None


def save_fitted_model(result: RunResult, directory: Path) -> Path | None:
    """Save a run's fitted BERTopic model (safetensors, c-TF-IDF included) to ``directory``.

    Returns None, saving nothing, when the run has no model (every document an outlier). For
    ``topicsweep best``: ``save_fitted_model(results[0], directory / "model")``.
    """
    from runner.topic_analysis import save_model

    if result.topics.fitted is None:
        return None
    return save_model(result.topics.fitted, directory, result.embedding)


def _guarded(ctx: _Context, name: str, n_topics: int, draw: Callable[[], None]) -> None:
    """Draw one figure; record why it was skipped instead of raising."""
    needed = MIN_TOPICS.get(name, 2)
    if n_topics < needed:
        ctx.report.skipped[name] = f"needs at least {needed} topics (this run has {n_topics})"
        return
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # pandas deprecations inside BERTopic's plotting
            draw()
    except _Skip as skip:
        ctx.report.skipped[name] = str(skip)
        return
    except Exception as error:  # noqa: BLE001 - a figure must never fail the run it describes
        log.warning("figure %s failed: %s", name, error, exc_info=True)
        ctx.report.skipped[name] = f"failed: {type(error).__name__}: {str(error).splitlines()[0][:200]}"
        return
    ctx.report.seconds[name] = time.perf_counter() - start
    if name != "hierarchy_tables":
        ctx.report.written.append(name)


class _Skip(Exception):
    """A figure that does not apply to this run; the message says why."""


def _barchart(ctx: _Context) -> None:
    topics = ctx.topics_by_size()[:BARCHART_TOPICS]
    pairs = [(t, ctx.word_scores(t)[:5]) for t in topics]
    if ctx.fitted is None and not any(scores for _, scores in pairs):
        raise _Skip(f"model={ctx.cfg.model.name} gives no word scores")
    score = "c-TF-IDF" if ctx.fitted is not None else _MODEL_SCORES.get(str(ctx.cfg.model.name), "model weight")
    static.barchart(pairs, ctx.out, score)
    title = f"Topic word scores ({score}), largest topics"
    figure = (ctx.model.visualize_barchart(topics=topics, n_words=5) if ctx.fitted is not None
              else _barchart_plotly(pairs, title))
    ctx.interactive.append((title, figure))


def _intertopic(ctx: _Context) -> None:
    cache_compiled_umap()  # BERTopic's map runs a small UMAP: load its compiled code rather than compile it
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="n_jobs value .* overridden to 1 by setting random_state")
        figure = ctx.model.visualize_topics()
    trace = figure.data[0]
    topics, words, sizes = (list(column) for column in zip(*trace.customdata))
    static.intertopic(np.asarray(trace.x), np.asarray(trace.y), [int(t) for t in topics], [int(s) for s in sizes],
                      [str(w) for w in words], ctx.out)
    ctx.interactive.append(("Intertopic distance map", figure))


def _documents(ctx: _Context) -> None:
    from bertopic.plotting import visualize_documents

    indices, xy, note = _document_map(ctx)
    ctx.report.notes["documents"] = note
    labels = np.asarray(ctx.result.topics.labels)[indices]
    static.documents(xy, labels, {t: ctx.label(t) for t in ctx.topics_by_size()}, ctx.out, note)
    texts = [ctx.result.corpus.texts[i][:150] for i in indices]
    figure = visualize_documents(_TopicSubset(ctx.model, labels.tolist()), texts, reduced_embeddings=xy,
                                 title=f"<b>Documents and topics</b> ({note})")
    ctx.interactive.append((f"Documents and topics ({note})", figure))


def _hierarchy(ctx: _Context) -> None:
    tree = _hierarchy_tables(ctx)
    labels = [ctx.label(t) for t in range(len(tree.linkage) + 1)]
    static.dendrogram(tree.linkage, labels, ctx.out)
    ctx.interactive.append(("Topic hierarchy", ctx.model.visualize_hierarchy(hierarchical_topics=tree.table)))


def _hierarchy_tables(ctx: _Context) -> Any:
    """topic_tree.txt always; hierarchy.csv and merged_topics.csv when ``topics.hierarchy``."""
    from runner.outputs import csv_encoding
    from runner.topic_analysis import hierarchy, merged_topics

    if ctx.hierarchy is None:
        ctx.hierarchy = hierarchy(ctx.fitted)
    tree = ctx.hierarchy
    (ctx.run_dir / "topic_tree.txt").write_text(tree.tree, encoding="utf-8")
    if ctx.settings.hierarchy:
        table = tree.table.assign(Topics=[" ".join(str(t) for t in topics) for topics in tree.table.Topics])
        table.to_csv(ctx.run_dir / "hierarchy.csv", index=False, encoding=csv_encoding(ctx.cfg))
    if ctx.settings.hierarchy_level is not None:
        merged = merged_topics(tree, ctx.fitted, ctx.settings.hierarchy_level)
        merged.to_csv(ctx.run_dir / "merged_topics.csv", index=False, encoding=csv_encoding(ctx.cfg))
    return tree


def _heatmap(ctx: _Context) -> None:
    from sklearn.metrics.pairwise import cosine_similarity

    topics = sorted(ctx.topics_by_size()[:HEATMAP_TOPICS])
    if ctx.fitted is None:
        vectors = ctx.result.topics.topic_vectors
        if vectors is None:
            raise _Skip(f"model={ctx.cfg.model.name} gives no topic-word vectors")
        similarity = cosine_similarity(np.asarray(vectors)[topics])
        labels = [ctx.label(t) for t in topics]
        static.heatmap(similarity, labels, ctx.out)
        ctx.interactive.append(("Topic similarity (cosine of topic-word vectors)", _heatmap_plotly(similarity, labels)))
        return
    from bertopic._utils import select_topic_representation

    model = ctx.model
    vectors = select_topic_representation(model.c_tf_idf_, model.topic_embeddings_, use_ctfidf=False)[0]
    similarity = cosine_similarity(vectors[np.asarray(topics) + model._outliers])
    static.heatmap(similarity, [ctx.label(t) for t in topics], ctx.out)
    ctx.interactive.append(("Topic similarity", model.visualize_heatmap(topics=topics)))


def _distribution(ctx: _Context) -> None:
    before = _counts(ctx.result.topics.labels_before)
    after = _counts(ctx.result.topics.labels)
    static.distribution(before, after, _outlier_strategy(ctx), ctx.out)
    ctx.interactive.append(("Topic sizes and outlier reduction", _distribution_plotly(before, after, ctx)))


def _over_time(ctx: _Context) -> None:
    from runner.outputs import csv_encoding
    from runner.topic_analysis import topics_over_time

    settings = ctx.settings
    table = topics_over_time(ctx.fitted, list(ctx.result.corpus.timestamps or []), settings.nr_bins,
                             settings.global_tuning, settings.evolution_tuning)
    table.to_csv(ctx.run_dir / "topics_over_time.csv", index=False, encoding=csv_encoding(ctx.cfg))
    static.over_time(table, {t: ctx.label(t) for t in ctx.topics_by_size()}, ctx.out)
    ctx.interactive.append(("Topics over time", ctx.model.visualize_topics_over_time(table, top_n_topics=10)))


_BUILDERS: dict[str, Callable[[_Context], None]] = {
    "barchart": _barchart, "intertopic": _intertopic, "documents": _documents, "hierarchy": _hierarchy,
    "heatmap": _heatmap, "distribution": _distribution, "over_time": _over_time}


def _document_map(ctx: _Context) -> tuple[np.ndarray, np.ndarray, str]:
    """Document indices shown, their 2-D UMAP positions (cached like the reducer stage's), and a note."""
    from runner.cache import Cache, cache_key
    from runner.stages.reduce import reduce_embeddings

    embeddings = ctx.fitted.embeddings
    total, limit = len(embeddings), ctx.settings.documents_max
    key = embedding_key(ctx.result.corpus.content_hash, ctx.result.embedding)
    if total > limit:
        indices = np.sort(np.random.default_rng(SAMPLE_SEED).choice(total, size=limit, replace=False))
        key = cache_key("sample", key, limit, SAMPLE_SEED)
        note = f"a random sample of {limit} of {total} documents"
    else:
        indices = np.arange(total)
        note = f"all {total} documents"
    reducer = ctx.cfg.reducer if str(ctx.cfg.reducer.get("_target_")) == "umap.UMAP" else {}
    neighbours = int(reducer.get("n_neighbors", 15))
    if len(indices) <= neighbours + 2:
        raise _Skip(f"needs more than {neighbours + 2} documents for a 2-D UMAP (this run has {len(indices)})")
    umap_2d = OmegaConf.create({"_target_": "umap.UMAP", "n_neighbors": neighbours, "n_components": 2,
                                "min_dist": 0.0, "metric": str(reducer.get("metric", "cosine")),
                                "random_state": SAMPLE_SEED})
    xy = reduce_embeddings(umap_2d, ctx.cfg.knn, np.asarray(embeddings)[indices], key,
                           Cache(Path(ctx.cfg.paths.cache_dir)))
    return indices, np.asarray(xy), note


class _TopicSubset:
    """A fitted model seen through the topics of a subset of its documents (for ``visualize_documents``)."""

    def __init__(self, model: Any, topics: list[int]) -> None:
        self._model = model
        self.topics_ = topics

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


# What the word scores of a model other than BERTopic are (the barchart's axis).
_MODEL_SCORES = {"lda": "topic-word probability", "nmf": "NMF topic weight", "etm": "topic-word probability",
                 "dec": "c-TF-IDF"}


def _outlier_strategy(ctx: _Context) -> str:
    """``topics.outliers.strategy`` for BERTopic; other models reassign no outliers."""
    return str(ctx.cfg.topics.outliers.strategy) if ctx.fitted is not None else "none"


def _barchart_plotly(pairs: list[tuple[int, list[tuple[str, float]]]], title: str) -> Any:
    """BERTopic's barchart layout (one panel of horizontal bars per topic) for any model's word scores."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    columns = min(4, len(pairs))
    rows = -(-len(pairs) // columns)
    figure = make_subplots(rows=rows, cols=columns, subplot_titles=[f"Topic {t}" for t, _ in pairs],
                           horizontal_spacing=0.12, vertical_spacing=0.4 / rows)
    for index, (_, scores) in enumerate(pairs):
        words = [w for w, _ in scores][::-1]
        figure.add_trace(go.Bar(x=[s for _, s in scores][::-1], y=words, orientation="h", showlegend=False,
                                marker_color="#4c72b0"), row=index // columns + 1, col=index % columns + 1)
    figure.update_layout(template="simple_white", title=title, height=250 * rows)
    return figure


def _heatmap_plotly(similarity: np.ndarray, labels: list[str]) -> Any:
    import plotly.graph_objects as go

    figure = go.Figure(go.Heatmap(z=similarity, x=labels, y=labels, colorscale="GnBu", zmax=1.0))
    figure.update_layout(template="simple_white", title="Topic similarity (cosine)", height=max(500, 20 * len(labels)))
    return figure


def _counts(labels: np.ndarray) -> dict[int, int]:
    values, counts = np.unique(np.asarray(labels), return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts)}


def _distribution_plotly(before: dict[int, int], after: dict[int, int], ctx: _Context) -> Any:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    topics = ctx.topics_by_size()
    shown = [-1, *topics[:20]]
    names = ["outliers" if t == -1 else ctx.label(t) for t in shown]
    figure = make_subplots(rows=1, cols=2, column_widths=[0.55, 0.45], subplot_titles=(
        f"Topic sizes ({len(topics)} topics, {after.get(-1, 0)} outliers)",
        f"Outlier reduction ({_outlier_strategy(ctx)}): outliers {before.get(-1, 0)} → {after.get(-1, 0)}"))
    figure.add_trace(go.Bar(x=[ctx.label(t) for t in topics], y=[after.get(t, 0) for t in topics],
                            name="documents", marker_color="#4c72b0", showlegend=False), row=1, col=1)
    figure.add_trace(go.Bar(x=names, y=[before.get(t, 0) for t in shown], name="before", marker_color="#b0b0b0"),
                     row=1, col=2)
    figure.add_trace(go.Bar(x=names, y=[after.get(t, 0) for t in shown], name="after", marker_color="#4c72b0"),
                     row=1, col=2)
    figure.update_xaxes(showticklabels=False, row=1, col=1)
    figure.update_layout(template="simple_white", barmode="group", height=480)
    return figure
